// Helpers shared by the durability tests (fault injection, crash, corruption,
// multi-process): temp dirs, deterministic records that a parent process can
// recompute, a column-by-column comparison that does not trust the store's
// own SameColumns, and "read everything and check it" against a model.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fault_injection_env.h"
#include "zcmedia/media_file.h"
#include "zcmedia/options.h"
#include "zcmedia/status.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace durtest {

// ---------------------------------------------------------------- temp dirs

class TempDir {
 public:
  explicit TempDir(const char* tag = "zcdur") {
    std::string templ = std::string("/tmp/") + tag + "-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    char* p = ::mkdtemp(buf.data());
    if (p != nullptr) path_ = p;
  }
  ~TempDir() {
    if (!path_.empty() && owner_ == ::getpid()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  bool ok() const { return !path_.empty(); }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
  pid_t owner_ = ::getpid();  // a forked child never removes the parent's dir
};

// --------------------------------------------------------------- file bytes

inline std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool WriteFileBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

inline uint64_t FileSize(const std::string& path) {
  std::error_code ec;
  auto s = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(s);
}

// XORs the byte at `offset` with `mask` in place (the file keeps its size).
inline bool XorByte(const std::string& path, uint64_t offset, uint8_t mask) {
  int fd = ::open(path.c_str(), O_RDWR);
  if (fd < 0) return false;
  uint8_t b = 0;
  bool ok = ::pread(fd, &b, 1, static_cast<off_t>(offset)) == 1;
  b ^= mask;
  ok = ok && ::pwrite(fd, &b, 1, static_cast<off_t>(offset)) == 1;
  ::close(fd);
  return ok;
}

inline bool TruncateFile(const std::string& path, uint64_t size) {
  return ::truncate(path.c_str(), static_cast<off_t>(size)) == 0;
}

inline bool PWriteBytes(const std::string& path, uint64_t offset, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_RDWR);
  if (fd < 0) return false;
  bool ok = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)) ==
            static_cast<ssize_t>(bytes.size());
  ::close(fd);
  return ok;
}

// Names in `dir` that start with `prefix` and end with `suffix`, sorted.
inline std::vector<std::string> ListNames(const std::string& dir, const std::string& prefix,
                                          const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string n = e.path().filename().string();
    if (n.size() >= prefix.size() + suffix.size() && n.compare(0, prefix.size(), prefix) == 0 &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(n);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Copies every regular file of `from` into `to` (created).
inline bool CopyDirFiles(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::create_directories(to, ec);
  for (auto& e : std::filesystem::directory_iterator(from, ec)) {
    if (!e.is_regular_file()) continue;
    std::filesystem::copy_file(e.path(), std::filesystem::path(to) / e.path().filename(),
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) return false;
  }
  return !ec;
}

// ------------------------------------------------------ deterministic records

inline uint64_t Mix(uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline uint64_t Hash(uint64_t a, uint64_t b, uint64_t c = 0, uint64_t d = 0) {
  return Mix(Mix(Mix(Mix(a) ^ b) ^ c) ^ d);
}

// A record whose strings it owns. Fields() views them.
struct OwnedRecord {
  int64_t id = 0;
  std::string path;
  std::optional<std::string> parent_path, canonical_path, canonical_parent_path, filename;
  int64_t size = 0, modified = 0;
  std::optional<std::string> mime_type;
  OptInt duration;
  std::optional<std::string> title, artist, album, genre;
  OptInt track_number, year;
  std::optional<std::string> album_artist;
  int64_t created_at = 0, updated_at = 0;

  MediaFileFields Fields() const {
    auto v = [](const std::optional<std::string>& s) -> OptText {
      if (!s) return std::nullopt;
      return std::string_view(*s);
    };
    MediaFileFields f;
    f.id = id;
    f.path = path;
    f.parent_path = v(parent_path);
    f.canonical_path = v(canonical_path);
    f.canonical_parent_path = v(canonical_parent_path);
    f.filename = v(filename);
    f.size = size;
    f.modified = modified;
    f.mime_type = v(mime_type);
    f.duration = duration;
    f.title = v(title);
    f.artist = v(artist);
    f.album = v(album);
    f.genre = v(genre);
    f.track_number = track_number;
    f.year = year;
    f.album_artist = v(album_artist);
    f.created_at = created_at;
    f.updated_at = updated_at;
    return f;
  }
};

inline std::string ParentOf(const std::string& path) {
  size_t s = path.rfind('/');
  if (s == std::string::npos) return "";
  if (s == 0) return "/";
  return path.substr(0, s);
}

inline std::string NameOf(const std::string& path) {
  size_t s = path.rfind('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

// Record `index` of batch `batch`, at `version` (0 = as first put; updates
// bump it). Everything but the path depends on (seed, batch, index, version).
// `dir` is the record's directory (no trailing slash).
inline OwnedRecord MakeRecord(uint64_t seed, uint64_t batch, uint64_t index, uint64_t version,
                              const std::string& dir) {
  OwnedRecord r;
  const uint64_t h = Hash(seed, batch, index, version);
  const uint64_t hp = Hash(seed, batch, index, ~uint64_t{0});  // the path ignores version
  auto pick = [&](int salt, uint64_t mod) { return Hash(h, static_cast<uint64_t>(salt)) % mod; };
  static const char* kExt[] = {".mp3", ".flac", ".mkv", ".m4a", ".jpg", ".ogg", ""};
  r.path = dir + "/f" + std::to_string(index) + (Hash(hp, 1) % 5 == 0 ? "-\xc3\xa9t\xc3\xa9" : "") +
           kExt[Hash(hp, 2) % 7];
  switch (pick(3, 3)) {
    case 0:  // what the legacy server derives
      r.parent_path = ParentOf(r.path);
      r.filename = NameOf(r.path);
      r.canonical_path = r.path;
      r.canonical_parent_path = r.parent_path;
      break;
    case 1:  // all NULL
      break;
    default:  // stored, not derivable
      r.parent_path = ParentOf(r.path);
      r.filename = "name-" + std::to_string(pick(4, 1000));
      r.canonical_path = "/canon" + r.path;
      r.canonical_parent_path = "/canon" + ParentOf(r.path);
      break;
  }
  r.size = static_cast<int64_t>(Hash(h, 5) >> 20);  // up to 2^44
  r.modified = static_cast<int64_t>(Hash(h, 6) % 2000000000) - 100;
  static const char* kMime[] = {"audio/mpeg", "audio/flac", "video/x-matroska", "image/jpeg"};
  switch (pick(7, 6)) {
    case 0: case 1: case 2: case 3: r.mime_type = kMime[pick(8, 4)]; break;
    case 4: r.mime_type = "application/x-odd-" + std::to_string(pick(9, 50)); break;
    default: break;  // NULL
  }
  auto opt_int = [&](int salt, int64_t mod) -> OptInt {
    uint64_t x = Hash(h, static_cast<uint64_t>(salt));
    if (x % 4 == 0) return std::nullopt;
    if (x % 4 == 1) return int64_t{0};
    return static_cast<int64_t>((x >> 8) % static_cast<uint64_t>(mod));
  };
  r.duration = opt_int(10, 100000000);
  r.track_number = opt_int(11, 40);
  r.year = opt_int(12, 2100);
  auto opt_text = [&](int salt, const char* what) -> std::optional<std::string> {
    uint64_t x = Hash(h, static_cast<uint64_t>(salt));
    if (x % 5 == 0) return std::nullopt;
    if (x % 5 == 1) return std::string();  // "" is not NULL
    return std::string(what) + " " + std::to_string(batch) + "." + std::to_string(index) + " v" +
           std::to_string(version) + " #" + std::to_string((x >> 8) % 997);
  };
  r.title = opt_text(13, "Title");
  r.artist = opt_text(14, "Artist");
  r.album = opt_text(15, "Album");
  r.genre = opt_text(16, "Genre");
  r.album_artist = opt_text(17, "AlbumArtist");
  r.created_at = static_cast<int64_t>(Hash(h, 18) % 1700000000);
  r.updated_at = r.created_at + static_cast<int64_t>(version);
  return r;
}

// ------------------------------------------------------------- comparison

inline std::string Show(const OptText& t) {
  return t ? "\"" + std::string(*t) + "\"" : std::string("NULL");
}
inline std::string Show(const OptInt& t) { return t ? std::to_string(*t) : std::string("NULL"); }

// "" when `v` shows exactly `want` (id included); else what differs.
inline std::string DiffColumns(const OwnedRecord& want, const MediaFileView& v) {
  if (!v.valid()) return "invalid view";
  std::string d;
  const MediaFileFields w = want.Fields();
  auto text = [&](const char* name, const OptText& a, const OptText& b) {
    if (a.has_value() != b.has_value() || (a && *a != *b))
      d += std::string(name) + ": want " + Show(a) + " got " + Show(b) + "; ";
  };
  auto integer = [&](const char* name, const OptInt& a, const OptInt& b) {
    if (a != b) d += std::string(name) + ": want " + Show(a) + " got " + Show(b) + "; ";
  };
  integer("id", w.id, v.id());
  text("path", w.path, v.path());
  text("parent_path", w.parent_path, v.parent_path());
  text("canonical_path", w.canonical_path, v.canonical_path());
  text("canonical_parent_path", w.canonical_parent_path, v.canonical_parent_path());
  text("filename", w.filename, v.filename());
  integer("size", w.size, v.size());
  integer("modified", w.modified, v.modified());
  text("mime_type", w.mime_type, v.mime_type());
  integer("duration", w.duration, v.duration());
  text("title", w.title, v.title());
  text("artist", w.artist, v.artist());
  text("album", w.album, v.album());
  text("genre", w.genre, v.genre());
  integer("track_number", w.track_number, v.track_number());
  integer("year", w.year, v.year());
  text("album_artist", w.album_artist, v.album_artist());
  integer("created_at", w.created_at, v.created_at());
  integer("updated_at", w.updated_at, v.updated_at());
  return d;
}

// ------------------------------------------------------- model + read-all

// What the store should hold: records keyed by id (ids set).
using Model = std::map<int64_t, OwnedRecord>;

struct ReadReport {
  std::vector<std::string> corruption;  // messages of Corruption statuses
  std::vector<std::string> errors;      // wrong data, unexpected statuses
  bool clean() const { return corruption.empty() && errors.empty(); }
  std::string Summary(size_t max = 8) const {
    std::string s;
    for (size_t i = 0; i < errors.size() && i < max; ++i) s += "  error: " + errors[i] + "\n";
    if (errors.size() > max) s += "  ... " + std::to_string(errors.size() - max) + " more errors\n";
    for (size_t i = 0; i < corruption.size() && i < max; ++i)
      s += "  corruption: " + corruption[i] + "\n";
    if (corruption.size() > max)
      s += "  ... " + std::to_string(corruption.size() - max) + " more corruption statuses\n";
    return s;
  }
};

// Reads everything a reader can ask of `snap` and checks it against `model`.
// A Corruption status is recorded (not an error); any other non-OK status,
// and any OK answer that disagrees with the model, is an error.
// `extra_dirs` are directories to list besides those the model mentions
// (e.g. directories of records that must be absent).
inline ReadReport ReadAndCheck(const Snapshot& snap, const Model& model,
                               const std::set<std::string>& absent_paths = {},
                               const std::set<std::string>& extra_dirs = {}) {
  ReadReport rep;
  auto bad = [&](const std::string& what, const Status& s) {
    if (s.IsCorruption()) rep.corruption.push_back(what + ": " + s.message());
    else rep.errors.push_back(what + ": " + s.ToString());
  };
  if (snap.record_count() != model.size()) {
    rep.errors.push_back("record_count " + std::to_string(snap.record_count()) + ", want " +
                         std::to_string(model.size()));
  }
  // Iteration.
  {
    auto it = snap.NewIterator();
    it->SeekToFirst();
    size_t n = 0;
    int64_t last = INT64_MIN;
    for (; it->Valid() && n <= model.size() + 1000; it->Next(), ++n) {
      const int64_t id = it->id();
      if (id <= last) rep.errors.push_back("iterator: id " + std::to_string(id) + " after " +
                                           std::to_string(last));
      last = id;
      auto m = model.find(id);
      if (m == model.end()) {
        rep.errors.push_back("iterator: unexpected id " + std::to_string(id) + " path " +
                             std::string(it->record().path()));
        continue;
      }
      if (it->record().id() != id) rep.errors.push_back("iterator: id() != record().id()");
      std::string d = DiffColumns(m->second, it->record());
      if (!d.empty()) rep.errors.push_back("iterator id " + std::to_string(id) + ": " + d);
    }
    if (!it->status().ok()) {
      bad("iterator", it->status());
    } else if (n != model.size()) {
      rep.errors.push_back("iterator saw " + std::to_string(n) + " records, want " +
                           std::to_string(model.size()));
    }
  }
  // Point lookups.
  std::map<std::string, std::vector<int64_t>> dirs;
  for (const auto& [id, rec] : model) {
    MediaFileView v;
    Status s = snap.Get(id, &v);
    if (!s.ok()) bad("Get(" + std::to_string(id) + ")", s);
    else if (auto d = DiffColumns(rec, v); !d.empty())
      rep.errors.push_back("Get(" + std::to_string(id) + "): " + d);
    s = snap.FindByPath(rec.path, &v);
    if (!s.ok()) bad("FindByPath(" + rec.path + ")", s);
    else if (auto d = DiffColumns(rec, v); !d.empty())
      rep.errors.push_back("FindByPath(" + rec.path + "): " + d);
    if (rec.parent_path) dirs[*rec.parent_path].push_back(id);
  }
  // Bulk lookups (also ask for a missing id and path).
  {
    std::vector<int64_t> ids;
    std::vector<std::string_view> paths;
    for (const auto& [id, rec] : model) {
      ids.push_back(id);
      paths.push_back(rec.path);
    }
    const int64_t missing_id = (model.empty() ? 0 : model.rbegin()->first) + 1000000;
    ids.push_back(missing_id);
    paths.push_back("/definitely/not/stored");
    std::vector<MediaFileView> out;
    Status s = snap.GetMany(ids, &out);
    if (!s.ok()) bad("GetMany", s);
    else if (out.size() != ids.size()) rep.errors.push_back("GetMany: wrong size");
    else {
      size_t i = 0;
      for (const auto& [id, rec] : model) {
        if (auto d = DiffColumns(rec, out[i++]); !d.empty())
          rep.errors.push_back("GetMany[" + std::to_string(id) + "]: " + d);
      }
      if (out.back().valid()) rep.errors.push_back("GetMany: missing id found");
    }
    out.clear();
    s = snap.FindManyByPath(paths, &out);
    if (!s.ok()) bad("FindManyByPath", s);
    else if (out.size() != paths.size()) rep.errors.push_back("FindManyByPath: wrong size");
    else {
      size_t i = 0;
      for (const auto& [id, rec] : model) {
        if (auto d = DiffColumns(rec, out[i++]); !d.empty())
          rep.errors.push_back("FindManyByPath[" + rec.path + "]: " + d);
      }
      if (out.back().valid()) rep.errors.push_back("FindManyByPath: missing path found");
    }
  }
  // Absent paths.
  for (const auto& p : absent_paths) {
    MediaFileView v;
    Status s = snap.FindByPath(p, &v);
    if (s.ok()) rep.errors.push_back("FindByPath(" + p + ") found a record that must be absent");
    else if (!s.IsNotFound()) bad("FindByPath(" + p + ") [absent]", s);
  }
  // Directory listings.
  for (const auto& d : extra_dirs) dirs.try_emplace(d);
  for (const auto& [dir, ids] : dirs) {
    std::vector<MediaFileView> out;
    Status s = snap.ListDirectory(dir, &out);
    if (!s.ok()) {
      bad("ListDirectory(" + dir + ")", s);
      continue;
    }
    std::vector<int64_t> got;
    for (auto& v : out) got.push_back(v.valid() ? v.id() : -1);
    if (got != ids) {
      rep.errors.push_back("ListDirectory(" + dir + "): got " + std::to_string(got.size()) +
                           " ids, want " + std::to_string(ids.size()) +
                           (got.size() == ids.size() ? " (different ids or order)" : ""));
    } else {
      for (size_t i = 0; i < out.size(); ++i) {
        if (auto diff = DiffColumns(model.at(ids[i]), out[i]); !diff.empty())
          rep.errors.push_back("ListDirectory(" + dir + ") id " + std::to_string(ids[i]) + ": " +
                               diff);
      }
    }
  }
  // Directory names: each directory holding files, and every ancestor of
  // it, is listed under its parent (this reads the Directory records).
  {
    std::set<std::string> named;
    for (const auto& [dir, ids] : dirs) {
      if (ids.empty()) continue;
      for (std::string d = dir; !d.empty() && d != "/"; d = ParentOf(d)) named.insert(d);
    }
    std::set<std::string> asked;
    std::map<std::string, std::set<std::string>> listed;  // parent -> directories listed under it
    for (const std::string& d : named) {
      const std::string parent = ParentOf(d);
      if (!asked.insert(parent).second) continue;
      std::vector<DirectoryInfo> subdirs;
      Status s = snap.ListSubdirectories(parent, std::nullopt, &subdirs);
      if (!s.ok()) {
        bad("ListSubdirectories(" + parent + ")", s);
        continue;
      }
      std::set<std::string>& under = listed[parent];
      for (const DirectoryInfo& info : subdirs) under.insert(parent + std::string(info.tail));
    }
    for (const std::string& d : named) {
      const auto it = listed.find(ParentOf(d));
      if (it != listed.end() && it->second.count(d) == 0)  // (a failed listing was reported above)
        rep.errors.push_back("ListSubdirectories(" + ParentOf(d) + ") does not list " + d);
    }
  }
  // Music categories: every listing reads its part of the category index;
  // the track counts must add up to the audio records that carry a value.
  const Category categories[] = {Category::kArtist, Category::kAlbum, Category::kGenre, Category::kYear,
                                 Category::kAlbumArtist};
  for (Category c : categories) {
    const std::string what = "ListCategory(" + std::to_string(static_cast<int>(c)) + ")";
    std::vector<CategoryCount> values;
    Status s = snap.ListCategory(c, &values);
    if (!s.ok()) {
      bad(what, s);
      continue;
    }
    uint64_t want = 0, got = 0;
    for (const auto& [id, rec] : model) {
      if (MimeFamilyOf(rec.mime_type ? OptText(*rec.mime_type) : std::nullopt) != MimeFamily::kAudio) continue;
      const std::optional<std::string>* text = c == Category::kArtist  ? &rec.artist
                                               : c == Category::kAlbum ? &rec.album
                                               : c == Category::kGenre ? &rec.genre
                                                                       : &rec.album_artist;
      if (c == Category::kYear ? rec.year.has_value() : (*text && !(*text)->empty())) ++want;
    }
    for (const CategoryCount& v : values) got += v.tracks;
    if (got != want)
      rep.errors.push_back(what + ": " + std::to_string(got) + " tracks, want " + std::to_string(want));
  }
  return rep;
}

// Writes the records of `recs` as one batch; fills their ids on success.
inline Status PutBatch(Store& store, std::vector<OwnedRecord>& recs) {
  WriteBatch b;
  for (const auto& r : recs) b.Put(r.Fields());
  std::vector<int64_t> ids;
  Status s = store.Write(b, &ids);
  if (!s.ok()) return s;
  if (ids.size() != recs.size())
    return Status::InvalidArgument("assigned_ids has " + std::to_string(ids.size()) +
                                   " ids for " + std::to_string(recs.size()) + " puts");
  for (size_t i = 0; i < recs.size(); ++i) recs[i].id = ids[i];
  return Status::OK();
}

inline Options TestOptions(Env* env = nullptr) {
  Options o;
  o.env = env;
  o.memory_budget = size_t{1} << 20;    // small: memtable flushes to runs early
  o.segment_max_bytes = uint64_t{1} << 20;  // small: several segments
  o.lock_timeout = std::chrono::milliseconds(0);  // a second writer is refused at once
  o.use_environment = false;                      // the developer's ZCMEDIA_* do not apply
  return o;
}

// How many write operations `work` does on a copy of the store in `base`
// (made in `scratch`): the crash points a sweep over it has. -1 if opening
// the copy or `work` failed.
template <typename Work>
int64_t CountWriteOps(const std::string& base, const std::string& scratch, Work&& work) {
  if (!CopyDirFiles(base, scratch)) return -1;
  FaultInjectionEnv env;
  std::unique_ptr<Store> store;
  if (!Store::Open(scratch, TestOptions(&env), &store).ok()) return -1;
  env.ResetCounters();
  if (!work(*store).ok()) return -1;
  return env.write_ops();
}

}  // namespace durtest
}  // namespace zcmedia
