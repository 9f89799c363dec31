// Playlists: rows of the legacy `playlists` and `playlist_entries` tables.
//
// The *Fields structs are what a caller writes (views of strings the caller
// owns until the WriteBatch call that takes them returns); the *View classes
// are what a reader gets (views into the store's mapping, valid as long as
// the Snapshot they came from). SQL NULL is std::nullopt.
//
// The legacy constraints hold for every committed state (store.h, WriteBatch):
//   playlists.name                      UNIQUE, NOT NULL (may be "")
//   playlist_entries(playlist_id, media_file_id)   UNIQUE
//   playlist_entries(playlist_id, position)        UNIQUE
//   playlist_id, media_file_id          must name a live playlist / media file
//                                       (the legacy FOREIGN KEYs)
// and the legacy ON DELETE CASCADEs: removing a media file removes the
// entries that name it; removing a playlist removes its entries.
// Playlist and entry ids, like media-file ids, are never reused; each table
// has its own sequence (SQLite's AUTOINCREMENT, one sqlite_sequence row each).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "zcmedia/media_file.h"
#include "zcmedia/status.h"

namespace zcmedia {

namespace fb {
struct Playlist;
struct PlaylistEntry;
}  // namespace fb

// Playlist and entry ids are 1 .. kMaxPlaylistId (the playlist index keeps
// them in 59 bits; ample for any library).
constexpr int64_t kMaxPlaylistId = (int64_t{1} << 59) - 1;

struct PlaylistFields {
  int64_t id = 0;  // 0: the store assigns the next playlist id
  std::string_view name;
  OptText description;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct PlaylistEntryFields {
  int64_t id = 0;  // 0: the store assigns the next entry id
  int64_t playlist_id = 0;
  int64_t media_file_id = 0;
  int64_t position = 0;  // 0-based in the legacy server; gaps allowed
  int64_t created_at = 0;
};

// Lifetime: valid while the Snapshot it came from is alive. Cheap to copy.
class PlaylistView {
 public:
  PlaylistView() = default;
  explicit PlaylistView(const fb::Playlist* record) : rec_(record) {}
  bool valid() const { return rec_ != nullptr; }
  int64_t id() const;
  std::string_view name() const;
  OptText description() const;
  int64_t created_at() const;
  int64_t updated_at() const;
  PlaylistFields Fields() const;

 private:
  const fb::Playlist* rec_ = nullptr;
};

class PlaylistEntryView {
 public:
  PlaylistEntryView() = default;
  explicit PlaylistEntryView(const fb::PlaylistEntry* record) : rec_(record) {}
  bool valid() const { return rec_ != nullptr; }
  int64_t id() const;
  int64_t playlist_id() const;
  int64_t media_file_id() const;
  int64_t position() const;
  int64_t created_at() const;
  PlaylistEntryFields Fields() const;

 private:
  const fb::PlaylistEntry* rec_ = nullptr;
};

// Iterates the live playlist entries of a snapshot in id order (a full scan
// of `playlist_entries`). Lifetime: the Snapshot must outlive it.
class PlaylistEntryIterator {
 public:
  virtual ~PlaylistEntryIterator() = default;
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void Seek(int64_t id) = 0;  // first entry with id >= `id`
  virtual void Next() = 0;
  virtual PlaylistEntryView entry() const = 0;
  // Not OK when an entry could not be read (corruption); Valid() is false then.
  virtual Status status() const = 0;
};

}  // namespace zcmedia
