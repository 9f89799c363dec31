// Helpers shared by the store tests: temporary directories and records that
// own their strings.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <sstream>
#include <string>

#include "zcmedia/media_file.h"
#include "zcmedia/options.h"

namespace zcmedia::test {

// Options with `memory_budget` that ignore the ZCMEDIA_* variables of the
// environment the tests run in.
inline Options BudgetOptions(size_t memory_budget = Options{}.memory_budget) {
  Options o;
  o.use_environment = false;
  o.memory_budget = memory_budget;
  return o;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/zcmedia-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A record owning every string; fields() gives views into it.
struct OwnedRecord {
  int64_t id = 0;
  std::string path;
  std::optional<std::string> parent_path, canonical_path, canonical_parent_path, filename, mime_type;
  int64_t size = 0, modified = 0, created_at = 0, updated_at = 0;
  std::optional<int64_t> duration, track_number, year;
  std::optional<std::string> title, artist, album, genre, album_artist;

  // A deterministic audio record, unique per n, with the derived columns
  // filled the legacy way.
  static OwnedRecord Sample(int n) {
    OwnedRecord r;
    const int artist = n % 7, album = n % 3;
    r.parent_path = "/media/music/Artist " + std::to_string(artist) + "/Album " + std::to_string(album) + " (2001)";
    r.filename = std::to_string(n) + " - Track " + std::to_string(n) + ".flac";
    r.path = *r.parent_path + "/" + *r.filename;
    r.canonical_path = r.path;
    r.canonical_parent_path = r.parent_path;
    r.mime_type = "audio/flac";
    r.size = 1000 + n;
    r.modified = 1700000000 + n;
    r.duration = 180000 + n;
    r.title = "Track " + std::to_string(n);
    r.artist = "Artist " + std::to_string(artist);
    r.album = "Album " + std::to_string(album);
    r.genre = n % 5 == 0 ? std::optional<std::string>() : "Genre " + std::to_string(n % 4);
    r.track_number = n % 20;
    r.year = 2001;
    r.album_artist = r.artist;
    r.created_at = 1700000100 + n;
    r.updated_at = 1700000200 + n;
    return r;
  }

  MediaFileFields fields() const {
    auto view = [](const std::optional<std::string>& s) -> OptText {
      return s ? OptText(std::string_view(*s)) : std::nullopt;
    };
    MediaFileFields f;
    f.id = id;
    f.path = path;
    f.parent_path = view(parent_path);
    f.canonical_path = view(canonical_path);
    f.canonical_parent_path = view(canonical_parent_path);
    f.filename = view(filename);
    f.size = size;
    f.modified = modified;
    f.mime_type = view(mime_type);
    f.duration = duration;
    f.title = view(title);
    f.artist = view(artist);
    f.album = view(album);
    f.genre = view(genre);
    f.track_number = track_number;
    f.year = year;
    f.album_artist = view(album_artist);
    f.created_at = created_at;
    f.updated_at = updated_at;
    return f;
  }
};

inline std::string Describe(const MediaFileFields& f) {
  std::ostringstream o;
  auto t = [&](const char* name, const OptText& v) { o << name << "=" << (v ? "'" + std::string(*v) + "'" : "NULL") << " "; };
  auto i = [&](const char* name, const OptInt& v) { o << name << "=" << (v ? std::to_string(*v) : "NULL") << " "; };
  o << "id=" << f.id << " path='" << f.path << "' ";
  t("parent", f.parent_path);
  t("canon", f.canonical_path);
  t("canon_parent", f.canonical_parent_path);
  t("filename", f.filename);
  o << "size=" << f.size << " modified=" << f.modified << " ";
  t("mime", f.mime_type);
  i("duration", f.duration);
  t("title", f.title);
  t("artist", f.artist);
  t("album", f.album);
  t("genre", f.genre);
  i("track", f.track_number);
  i("year", f.year);
  t("album_artist", f.album_artist);
  o << "created=" << f.created_at << " updated=" << f.updated_at;
  return o.str();
}

}  // namespace zcmedia::test
