// MediaFile: one row of the legacy media_files table.
//
// MediaFileFields is what a caller writes: it holds views (no copies) of
// strings the caller owns until the WriteBatch call that takes it returns.
// MediaFileView is what a reader gets: views into the store's mapping, valid
// as long as the Snapshot it came from (see store.h).
//
// SQL NULL is std::nullopt everywhere; it is distinct from 0 and from "".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zcmedia {

namespace fb { struct MediaFile; }

using OptText = std::optional<std::string_view>;
using OptInt = std::optional<int64_t>;

struct MediaFileFields {
  int64_t id = 0;  // 0: the store assigns the next id
  std::string_view path;
  OptText parent_path;
  OptText canonical_path;
  OptText canonical_parent_path;
  OptText filename;
  int64_t size = 0;
  int64_t modified = 0;
  OptText mime_type;
  OptInt duration;
  OptText title;
  OptText artist;
  OptText album;
  OptText genre;
  OptInt track_number;
  OptInt year;
  OptText album_artist;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// A record's mime family, as SQL's `mime_type LIKE 'audio/%'` (and video/,
// image/) decides it: ASCII letters in any case; anything else, NULL
// included, is kOther. The store keeps its totals per family.
enum class MimeFamily : uint8_t { kAudio = 0, kVideo = 1, kImage = 2, kOther = 3 };
constexpr int kMimeFamilies = 4;
MimeFamily MimeFamilyOf(std::optional<std::string_view> mime_type);

// The legacy server's parent of a path: everything before the last '/' or
// '\', "/" for a file in the root, "" for a bare name. Views into `path`.
std::string_view DeriveParentPath(std::string_view path);
// The last component of a path (after the last '/' or '\').
std::string_view DeriveFilename(std::string_view path);

// Fills parent_path, filename, canonical_path and canonical_parent_path the
// way the legacy server does on Unix (canonical == original), for callers
// that only know the path.
void FillDerivedColumns(MediaFileFields& f);

// A read-only view of a stored record. Cheap to copy (two pointers).
// Lifetime: valid while the Snapshot it came from is alive.
class MediaFileView {
 public:
  MediaFileView() = default;
  explicit MediaFileView(const fb::MediaFile* record) : rec_(record) {}
  bool valid() const { return rec_ != nullptr; }

  int64_t id() const;
  std::string_view path() const;
  OptText parent_path() const;
  OptText canonical_path() const;
  OptText canonical_parent_path() const;
  OptText filename() const;
  int64_t size() const;
  int64_t modified() const;
  OptText mime_type() const;
  OptInt duration() const;
  OptText title() const;
  OptText artist() const;
  OptText album() const;
  OptText genre() const;
  OptInt track_number() const;
  OptInt year() const;
  OptText album_artist() const;
  int64_t created_at() const;
  int64_t updated_at() const;
  // Whether parent_path is set and a leading part of path (bytes), as the
  // legacy server writes it ('/music' for '/music/a.mp3', '' for 'a.mp3').
  bool parent_leads_path() const;

  // Copies every column into `out`; the strings still point into the mapping.
  MediaFileFields Fields() const;

 private:
  const fb::MediaFile* rec_ = nullptr;
};

// Field-by-field equality of what a reader sees (NULL == NULL).
bool SameColumns(const MediaFileFields& a, const MediaFileFields& b);

}  // namespace zcmedia
