#include "differential_test_util.h"

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <set>
#include <sstream>

#include "zcmedia/options.h"
#include "zcmedia/sqlite_extension.h"
#include "zcmedia/store.h"

namespace zcmedia::vtabtest {

const ColumnInfo kColumns[kColumnCount] = {
    {"id", true, false},          {"path", false, false},          {"parent_path", false, false},
    {"canonical_path", false, true}, {"canonical_parent_path", false, true}, {"filename", false, false},
    {"size", true, false},        {"modified", true, false},       {"mime_type", false, false},
    {"duration", true, true},     {"title", false, true},          {"artist", false, true},
    {"album", false, true},       {"genre", false, true},          {"track_number", true, true},
    {"year", true, true},         {"album_artist", false, true},   {"created_at", true, false},
    {"updated_at", true, false}};

int ColumnIndex(const std::string& name) {
  for (int i = 0; i < kColumnCount; ++i)
    if (name == kColumns[i].name) return i;
  return -1;
}

// ---- Value --------------------------------------------------------------------

std::string Value::Literal() const {
  switch (type) {
    case SQLITE_NULL: return "NULL";
    case SQLITE_INTEGER:
      // -9223372036854775808 as a literal is a REAL (the minus is an operator).
      if (i == std::numeric_limits<int64_t>::min()) return "(-9223372036854775807 - 1)";
      return std::to_string(i);
    case SQLITE_FLOAT: {
      char buf[64];
      snprintf(buf, sizeof buf, "%.17g", d);
      std::string s = buf;
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
      return s;
    }
    case SQLITE_TEXT: {
      std::string out = "'";
      for (char c : s) {
        out.push_back(c);
        if (c == '\'') out.push_back('\'');
      }
      return out + "'";
    }
    case SQLITE_BLOB: {
      static const char* hex = "0123456789abcdef";
      std::string out = "X'";
      for (unsigned char c : s) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
      }
      return out + "'";
    }
  }
  return "?";
}

std::string Value::Describe() const {
  std::string lit = Literal();
  std::string out;
  for (unsigned char c : lit) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (out.size() > 300) out = out.substr(0, 150) + "...(" + std::to_string(out.size()) + " chars)..." + out.substr(out.size() - 60);
  return out;
}

namespace {
int TypeRank(int type) {
  switch (type) {
    case SQLITE_NULL: return 0;
    case SQLITE_INTEGER: return 1;
    case SQLITE_FLOAT: return 2;
    case SQLITE_TEXT: return 3;
    default: return 4;
  }
}

bool RealClose(double a, double b) {
  if (a == b) return true;
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}
}  // namespace

bool operator==(const Value& a, const Value& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case SQLITE_NULL: return true;
    case SQLITE_INTEGER: return a.i == b.i;
    case SQLITE_FLOAT: return RealClose(a.d, b.d);
    default: return a.s == b.s;
  }
}

bool operator<(const Value& a, const Value& b) {
  if (a.type != b.type) return TypeRank(a.type) < TypeRank(b.type);
  switch (a.type) {
    case SQLITE_NULL: return false;
    case SQLITE_INTEGER: return a.i < b.i;
    case SQLITE_FLOAT: return !RealClose(a.d, b.d) && a.d < b.d;
    default: return a.s < b.s;
  }
}

// ---- Rows -----------------------------------------------------------------------

MediaFileFields MediaRow::Fields() const {
  auto view = [](const std::optional<std::string>& s) -> OptText {
    return s ? OptText(std::string_view(*s)) : std::nullopt;
  };
  MediaFileFields f;
  f.id = id;
  f.path = path;
  f.parent_path = std::string_view(parent_path);
  f.canonical_path = view(canonical_path);
  f.canonical_parent_path = view(canonical_parent_path);
  f.filename = std::string_view(filename);
  f.size = size;
  f.modified = modified;
  f.mime_type = std::string_view(mime_type);
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

Value MediaRow::Column(int column) const {
  auto text = [](const std::optional<std::string>& s) { return s ? Value::Text(*s) : Value::Null(); };
  auto integer = [](const std::optional<int64_t>& v) { return v ? Value::Int(*v) : Value::Null(); };
  switch (column) {
    case 0: return Value::Int(id);
    case 1: return Value::Text(path);
    case 2: return Value::Text(parent_path);
    case 3: return text(canonical_path);
    case 4: return text(canonical_parent_path);
    case 5: return Value::Text(filename);
    case 6: return Value::Int(size);
    case 7: return Value::Int(modified);
    case 8: return Value::Text(mime_type);
    case 9: return integer(duration);
    case 10: return text(title);
    case 11: return text(artist);
    case 12: return text(album);
    case 13: return text(genre);
    case 14: return integer(track_number);
    case 15: return integer(year);
    case 16: return text(album_artist);
    case 17: return Value::Int(created_at);
    case 18: return Value::Int(updated_at);
  }
  return Value::Null();
}

namespace {



// The Windows server's canonical form: lower case, '\' as '/'.
std::string WindowsCanonical(std::string s) {
  s = Lower(std::move(s));
  for (char& c : s)
    if (c == '\\') c = '/';
  return s;
}

const std::vector<std::string> kArtists = {
    "Beatles", "beatles", "BEATLES", "The Beatles", "Björk", "BJÖRK", "björk", "AC/DC", "Motörhead",
    "Sigur Rós", "坂本龍一", "Ünïcödé ☃", "a", "A", "Zz Top", "zz top", "O'Brien", "100% Pure", "under_score",
    "5", "05", "Mötley Crüe", "mötley crüe", " leading space", "trailing space ", "x"};
const std::vector<std::string> kAlbums = {"Abbey Road", "abbey road", "ABBEY ROAD", "Homogenic", "Back in Black",
                                          "Ágætis byrjun", "Greatest Hits", "greatest hits", "1984", "Untitled",
                                          "Live", "live", "LIVE", "Ω", "ω", "Vol. 1"};
const std::vector<std::string> kGenres = {"Rock", "rock", "ROCK", "Pop", "Electronic", "Jazz", "jazz",
                                          "Classical", "Música Popular", "Hip-Hop", "hip-hop", "Other"};
const std::vector<std::string> kAudioMimes = {"audio/mpeg", "audio/flac", "audio/wav", "audio/aac", "audio/ogg",
                                              "audio/x-ms-wma", "audio/mp4", "audio/opus", "audio/aiff",
                                              "Audio/MPEG", "AUDIO/FLAC", "aUdIo/ogg"};
const std::vector<std::string> kVideoMimes = {"video/x-matroska", "video/mp4", "video/x-msvideo", "video/quicktime",
                                              "video/webm", "Video/MP4", "VIDEO/webm", "video/3gpp"};
const std::vector<std::string> kImageMimes = {"image/jpeg", "image/png", "image/gif", "image/svg+xml",
                                              "Image/JPEG", "IMAGE/png"};
const std::vector<std::string> kOtherMimes = {"application/octet-stream", "text/plain", "", "audio", "audiox/mp3",
                                              "audio/", "video", "videos/x", "AUDIO", "application/audio"};
const std::vector<std::string> kExtensions = {".mp3", ".flac", ".MP3", ".mkv", ".jpg", ".JPG", "", ".tar.gz"};

std::string MakeLongName(Rng& rng, size_t length) {
  std::string s;
  while (s.size() < length) s += "long-segment-" + std::to_string(rng.Int(0, 999)) + "-é-";
  return s;
}

}  // namespace

std::vector<MediaRow> GenerateMediaRows(const DataSetOptions& options) {
  Rng rng(options.seed * 0x9E3779B97F4A7C15ull + 17);
  // Directories: mixed case twins, UTF-8, LIKE metacharacters, the root, no
  // parent at all, a path over 1 KiB, Windows separators.
  std::vector<std::string> dirs = {
      "/media/music/Beatles/Abbey Road", "/media/music/beatles/abbey road", "/media/music/BEATLES/ABBEY ROAD",
      "/media/music", "/media/Music", "/media/Vidéos/Été 2020", "/media/vidéos/été 2020", "/media/100%_done",
      "/media/100x_done", "/media/photos/2024", "/media/photos/2024/raw", "/media/photos", "/", "",
      "/media/音楽/坂本龍一", "/media/a'quote", "C:\\Users\\Me\\Music", "c:\\users\\me\\music",
      "/media/music/Beatles", "/media/music/Beatles/Abbey Road/disc 1",
      "/media/" + MakeLongName(rng, 1100), "/media/" + MakeLongName(rng, 1100) + "/sub"};
  for (int i = 0; i < 30; ++i) dirs.push_back("/media/lib/d" + std::to_string(i % 10) + "/" + std::to_string(i));
  const std::string big_dir = "/media/big";

  std::vector<MediaRow> rows;
  std::set<std::string> paths;
  int64_t id = 0;
  const std::vector<std::string> common_names = {"cover.jpg", "Cover.jpg", "COVER.JPG", "01 - Intro.mp3",
                                                 "folder.png", "track.flac", "Track.flac", "a", "B", "_"};
  for (int n = 0; static_cast<int>(rows.size()) < options.rows; ++n) {
    MediaRow r;
    // Ids: gaps, and a few very large ones at the end.
    id += rng.Chance(0.7) ? 1 : rng.Int(2, 9);
    r.id = static_cast<int>(rows.size()) >= options.rows - 3 ? (int64_t{1} << 40) + id : id;

    r.parent_path = rng.Chance(0.2) ? big_dir : rng.Pick(dirs);
    std::string name;
    if (rng.Chance(0.15)) name = rng.Pick(common_names);
    else if (rng.Chance(0.03)) name = MakeLongName(rng, 1200) + ".flac";
    else if (rng.Chance(0.1)) name = "Ünïcödé " + std::to_string(n) + rng.Pick(kExtensions);
    else name = (rng.Chance(0.5) ? "Track " : "track ") + std::to_string(rng.Int(0, 400)) + rng.Pick(kExtensions);
    r.filename = name;
    const bool windows = r.parent_path.find('\\') != std::string::npos;
    if (r.parent_path.empty()) r.path = name;
    else if (r.parent_path == "/") r.path = "/" + name;
    else r.path = r.parent_path + (windows ? "\\" : "/") + name;
    if (!paths.insert(r.path).second) continue;  // path is UNIQUE

    // Canonical columns: equal to the originals, or NULL (rows from before
    // the migration); with `noncanonical`, the Windows form for some rows.
    if (rng.Chance(0.15)) {
      r.canonical_path.reset();
      r.canonical_parent_path.reset();
    } else if (options.noncanonical && (windows || rng.Chance(0.15))) {
      r.canonical_path = WindowsCanonical(r.path);
      r.canonical_parent_path = WindowsCanonical(r.parent_path);
    } else {
      r.canonical_path = r.path;
      r.canonical_parent_path = rng.Chance(0.03) ? std::nullopt : std::optional<std::string>(r.parent_path);
    }

    const int64_t family = rng.Int(0, 9);  // 0-5 audio, 6-7 video, 8 image, 9 other
    const bool audio = family <= 5;
    r.mime_type = audio ? rng.Pick(kAudioMimes)
                        : family <= 7 ? rng.Pick(kVideoMimes) : family == 8 ? rng.Pick(kImageMimes) : rng.Pick(kOtherMimes);

    auto integer = [&](int64_t lo, int64_t hi) -> int64_t {
      switch (rng.Int(0, 9)) {
        case 0: return 0;
        case 1: return -rng.Int(1, 1000);
        case 2: return rng.Chance(0.5) ? rng.Int(int64_t{1} << 40, 1000000000000000) : -rng.Int(int64_t{1} << 40, 1000000000000000);
        default: return rng.Int(lo, hi);
      }
    };
    r.size = integer(0, 50000000);
    // modified holds the extremes too (never summed: that could overflow).
    r.modified = rng.Chance(0.03) ? (rng.Chance(0.5) ? std::numeric_limits<int64_t>::max()
                                                     : std::numeric_limits<int64_t>::min())
                                  : integer(1500000000, 1800000000);
    r.created_at = integer(1500000000, 1800000000);
    r.updated_at = rng.Chance(0.5) ? r.created_at : integer(1500000000, 1800000000);

    auto tag = [&](const std::vector<std::string>& pool, double tagged) -> std::optional<std::string> {
      if (!rng.Chance(tagged)) return std::nullopt;
      if (rng.Chance(0.06)) return std::string();
      return rng.Pick(pool);
    };
    const double tagged = audio ? 0.85 : 0.08;  // a few tagged non-audio rows: no category may show them
    if (audio || rng.Chance(0.1)) r.duration = rng.Chance(0.1) ? std::nullopt : std::optional<int64_t>(integer(1000, 600000));
    r.title = rng.Chance(tagged) ? std::optional<std::string>(rng.Chance(0.05) ? "" : "Title " + std::to_string(rng.Int(0, 50)))
                                 : std::nullopt;
    r.artist = tag(kArtists, tagged);
    r.album = tag(kAlbums, tagged);
    r.genre = tag(kGenres, tagged);
    r.album_artist = rng.Chance(0.5) ? r.artist : tag(kArtists, tagged);
    if (rng.Chance(tagged)) r.track_number = rng.Chance(0.1) ? integer(1, 20) : rng.Int(0, 20);
    if (rng.Chance(tagged)) {
      switch (rng.Int(0, 9)) {
        case 0: r.year = 0; break;
        case 1: r.year = rng.Chance(0.5) ? -5 : 99999; break;
        default: r.year = rng.Int(1965, 2024);
      }
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

void LoadStore(const std::string& directory, const std::vector<MediaRow>& rows) {
  Options options;
  options.use_environment = false;
  options.sync = false;
  std::unique_ptr<Store> store;
  Status s = Store::Open(directory, options, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  WriteBatch batch;
  const size_t per_batch = std::max<size_t>(store->recommended_batch_records(), 1);
  for (const MediaRow& r : rows) {
    batch.Put(r.Fields());
    if (batch.size() >= per_batch) {
      s = store->Write(batch);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }
  if (!batch.empty()) {
    s = store->Write(batch);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
}

namespace {
void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  ASSERT_EQ(rc, SQLITE_OK) << (err ? err : "") << "\n" << sql;
  sqlite3_free(err);
}

void Bind(sqlite3_stmt* st, int index, const Value& v) {
  switch (v.type) {
    case SQLITE_NULL: sqlite3_bind_null(st, index); break;
    case SQLITE_INTEGER: sqlite3_bind_int64(st, index, v.i); break;
    case SQLITE_FLOAT: sqlite3_bind_double(st, index, v.d); break;
    case SQLITE_TEXT: sqlite3_bind_text(st, index, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT); break;
    case SQLITE_BLOB: sqlite3_bind_blob(st, index, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT); break;
  }
}
}  // namespace

void LoadReference(sqlite3* db, const std::vector<MediaRow>& rows) {
  Exec(db,
       "CREATE TABLE media_files (\n"
       "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
       "    path TEXT UNIQUE NOT NULL,\n"
       "    parent_path TEXT NOT NULL,\n"
       "    canonical_path TEXT,\n"
       "    canonical_parent_path TEXT,\n"
       "    filename TEXT NOT NULL,\n"
       "    size INTEGER NOT NULL,\n"
       "    modified INTEGER NOT NULL,\n"
       "    mime_type TEXT NOT NULL,\n"
       "    duration INTEGER,\n"
       "    title TEXT,\n"
       "    artist TEXT,\n"
       "    album TEXT,\n"
       "    genre TEXT,\n"
       "    track_number INTEGER,\n"
       "    year INTEGER,\n"
       "    album_artist TEXT,\n"
       "    created_at INTEGER NOT NULL,\n"
       "    updated_at INTEGER NOT NULL\n"
       ")");
  for (const char* col : {"path", "parent_path", "canonical_path", "canonical_parent_path", "modified", "mime_type",
                          "filename", "artist", "album", "genre", "year", "album_artist", "track_number"}) {
    Exec(db, std::string("CREATE INDEX IF NOT EXISTS idx_media_files_") + col + " ON media_files(" + col + ")");
  }
  Exec(db, "BEGIN");
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO media_files VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st,
                               nullptr),
            SQLITE_OK);
  for (const MediaRow& r : rows) {
    for (int c = 0; c < kColumnCount; ++c) Bind(st, c + 1, r.Column(c));
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db) << " " << r.path;
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  Exec(db, "COMMIT");
  Exec(db, "ANALYZE");
}

QueryResult RunQuery(sqlite3* db, const std::string& sql, const std::vector<Value>& params) {
  QueryResult out;
  sqlite3_stmt* st = nullptr;
  out.rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &st, nullptr);
  if (out.rc != SQLITE_OK) {
    out.error = sqlite3_errmsg(db);
    sqlite3_finalize(st);
    return out;
  }
  out = RunPrepared(st, params);
  sqlite3_finalize(st);
  return out;
}

QueryResult RunPrepared(sqlite3_stmt* st, const std::vector<Value>& params, size_t max_rows, bool resume) {
  QueryResult out;
  sqlite3* db = sqlite3_db_handle(st);
  if (!resume) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (size_t i = 0; i < params.size(); ++i) Bind(st, static_cast<int>(i) + 1, params[i]);
  }
  const int n = sqlite3_column_count(st);
  for (int c = 0; c < n; ++c) out.columns.push_back(sqlite3_column_name(st, c));
  int rc = SQLITE_ROW;  // (not stepped yet when max_rows is 0)
  while (out.rows.size() < max_rows && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::vector<Value> row(n);
    for (int c = 0; c < n; ++c) {
      Value& v = row[c];
      v.type = sqlite3_column_type(st, c);
      switch (v.type) {
        case SQLITE_INTEGER: v.i = sqlite3_column_int64(st, c); break;
        case SQLITE_FLOAT: v.d = sqlite3_column_double(st, c); break;
        case SQLITE_TEXT: {
          const unsigned char* t = sqlite3_column_text(st, c);
          v.s.assign(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(st, c)));
          break;
        }
        case SQLITE_BLOB: {
          const void* b = sqlite3_column_blob(st, c);
          v.s.assign(static_cast<const char*>(b), static_cast<size_t>(sqlite3_column_bytes(st, c)));
          break;
        }
        default: break;
      }
    }
    out.rows.push_back(std::move(row));
  }
  out.done = rc == SQLITE_DONE;
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    out.rc = rc;
    out.error = sqlite3_errmsg(db);
  }
  return out;
}

namespace {

std::string DescribeRow(const std::vector<Value>& row) {
  std::string out = "(";
  for (size_t i = 0; i < row.size(); ++i) out += (i ? ", " : "") + row[i].Describe();
  return out + ")";
}

std::string DescribeParams(const std::vector<Value>& params) {
  if (params.empty()) return "(none)";
  std::string out;
  for (size_t i = 0; i < params.size(); ++i) {
    if (i == 10 && params.size() > 12) {
      out += " ... (" + std::to_string(params.size()) + " parameters)";
      break;
    }
    out += (i ? ", " : "") + std::string("?") + std::to_string(i + 1) + "=" + params[i].Describe();
  }
  return out;
}

}  // namespace

std::vector<Value> NormalizedRow(std::vector<Value> row, const Expectation& e) {
  for (int c : e.concat_columns) {
    if (c < 0 || static_cast<size_t>(c) >= row.size() || row[c].type != SQLITE_TEXT) continue;
    std::vector<std::string> pieces;
    std::string cur;
    for (char ch : row[c].s) {
      if (ch == '\x1f') {
        pieces.push_back(cur);
        cur.clear();
      } else {
        cur.push_back(ch);
      }
    }
    pieces.push_back(cur);
    std::sort(pieces.begin(), pieces.end());
    std::string joined;
    for (size_t i = 0; i < pieces.size(); ++i) joined += (i ? "\x1f" : "") + pieces[i];
    row[c].s = joined;
  }
  return row;
}

namespace {

std::string FoldAscii(const std::string& s) { return Lower(s); }

bool SameKey(const std::vector<Value>& a, const std::vector<Value>& b, const Expectation& e) {
  for (const Expectation::Key& k : e.keys) {
    const Value& x = a[k.column];
    const Value& y = b[k.column];
    if (k.nocase && x.type == SQLITE_TEXT && y.type == SQLITE_TEXT) {
      if (FoldAscii(x.s) != FoldAscii(y.s)) return false;
    } else if (!(x == y)) {
      return false;
    }
  }
  return true;
}

// Consecutive rows with equal keys.
std::vector<std::vector<std::vector<Value>>> Groups(const std::vector<std::vector<Value>>& rows, const Expectation& e) {
  std::vector<std::vector<std::vector<Value>>> groups;
  for (const auto& row : rows) {
    if (groups.empty() || (!e.keys.empty() && !SameKey(groups.back().front(), row, e))) groups.emplace_back();
    groups.back().push_back(row);
  }
  return groups;
}

}  // namespace

::testing::AssertionResult SameResults(const QueryResult& want, const QueryResult& got, const std::string& sql,
                                       const std::vector<Value>& params, const Expectation& e) {
  auto fail = [&]() {
    return ::testing::AssertionFailure() << "\nSQL: " << sql << "\nparameters: " << DescribeParams(params)
                                         << "\nreference rows: " << want.rows.size()
                                         << ", virtual table rows: " << got.rows.size() << "\n";
  };
  if (want.rc != SQLITE_OK || got.rc != SQLITE_OK) {
    if (want.rc == got.rc) return ::testing::AssertionSuccess();
    return fail() << "reference: rc " << want.rc << " " << want.error << "\nvirtual table: rc " << got.rc << " "
                  << got.error;
  }
  if (want.columns.size() != got.columns.size()) return fail() << "column counts differ";
  if (want.rows.size() != got.rows.size()) {
    auto out = fail() << "row counts differ";
    // The first rows of each, sorted, to show what is missing.
    std::vector<std::vector<Value>> a = want.rows, b = got.rows;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    std::vector<std::vector<Value>> only_a, only_b;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_a));
    std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_b));
    for (size_t i = 0; i < only_a.size() && i < 5; ++i) out << "only in reference: " << DescribeRow(only_a[i]) << "\n";
    for (size_t i = 0; i < only_b.size() && i < 5; ++i) out << "only in virtual table: " << DescribeRow(only_b[i]) << "\n";
    return out;
  }
  if (e.count_only) return ::testing::AssertionSuccess();

  std::vector<std::vector<Value>> a, b;
  for (const auto& r : want.rows) a.push_back(NormalizedRow(r, e));
  for (const auto& r : got.rows) b.push_back(NormalizedRow(r, e));
  auto ga = Groups(a, e), gb = Groups(b, e);
  if (ga.size() != gb.size()) {
    auto out = fail() << "groups of equal ORDER BY keys differ: " << ga.size() << " in the reference, " << gb.size()
                      << " from the virtual table\n";
    for (size_t i = 0; i < a.size(); ++i) {
      if (!(a[i] == b[i])) {
        out << "first difference at row " << i << ":\n  reference:     " << DescribeRow(a[i])
            << "\n  virtual table: " << DescribeRow(b[i]);
        break;
      }
    }
    return out;
  }
  for (size_t g = 0; g < ga.size(); ++g) {
    auto& x = ga[g];
    auto& y = gb[g];
    const bool edge = e.partial_edges && (g == 0 || g + 1 == ga.size());
    if (!SameKey(x.front(), y.front(), e) || x.size() != y.size()) {
      return fail() << "group " << g << " differs: reference starts " << DescribeRow(x.front()) << " (" << x.size()
                    << " rows), virtual table " << DescribeRow(y.front()) << " (" << y.size() << " rows)";
    }
    if (edge && !e.keys.empty()) continue;
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i] == y[i]) continue;
      return fail() << "group " << g << " (of " << ga.size() << ") differs"
                    << (e.keys.empty() ? " (rows compared as a multiset)" : "")
                    << ":\n  reference:     " << DescribeRow(x[i]) << "\n  virtual table: " << DescribeRow(y[i]);
    }
  }
  return ::testing::AssertionSuccess();
}

// ---- DifferentialDb ------------------------------------------------------------------

DifferentialDb::DifferentialDb(std::vector<MediaRow> rows) : rows_(std::move(rows)) {
  char tmpl[] = "/tmp/zcmedia-vtab-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = std::string(tmpl) + "/store";
  LoadStore(dir_, rows_);
  if (::testing::Test::HasFatalFailure()) {
    error_ = "loading the store failed";
    return;
  }
  if (sqlite3_open(":memory:", &ref_) != SQLITE_OK) {
    error_ = "opening the reference failed";
    return;
  }
  LoadReference(ref_, rows_);
  if (::testing::Test::HasFatalFailure()) {
    error_ = "loading the reference failed";
    return;
  }
  if (sqlite3_open(":memory:", &vtab_) != SQLITE_OK) {
    error_ = "opening the virtual table's database failed";
    return;
  }
  char* err = nullptr;
  if (zcmedia_register(vtab_, &err) != SQLITE_OK) {
    error_ = std::string("zcmedia_register: ") + (err ? err : "");
    sqlite3_free(err);
    return;
  }
  const std::string create = "CREATE VIRTUAL TABLE media_files USING zcmedia(store=" + Value::Text(dir_).Literal() +
                             ", kind='media_files')";
  if (sqlite3_exec(vtab_, create.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    error_ = create + ": " + (err ? err : "");
    sqlite3_free(err);
  }
}

DifferentialDb::~DifferentialDb() {
  sqlite3_close(vtab_);
  sqlite3_close(ref_);
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(dir_).parent_path(), ec);
  }
}

::testing::AssertionResult DifferentialDb::Check(const std::string& sql, const std::vector<Value>& params,
                                                 const Expectation& expectation) {
  ++checked_;
  const QueryResult want = RunQuery(ref_, sql, params);
  const QueryResult got = RunQuery(vtab_, sql, params);
  return SameResults(want, got, sql, params, expectation);
}

std::string QueryPlan(sqlite3* db, const std::string& sql) {
  QueryResult r = RunQuery(db, "EXPLAIN QUERY PLAN " + sql);
  if (r.rc != SQLITE_OK) return "error: " + r.error;
  std::string out;
  for (const auto& row : r.rows)
    if (row.size() >= 4) out += row[3].s + "\n";
  return out;
}

double TestScale() {
  const char* s = getenv("ZCMEDIA_TEST_SCALE");
  if (s == nullptr || *s == '\0') return 1.0;
  const double v = atof(s);
  return v > 0 ? v : 1.0;
}

std::vector<uint64_t> TestSeeds(std::vector<uint64_t> defaults) {
  const char* s = getenv("ZCMEDIA_TEST_SEED");
  if (s == nullptr || *s == '\0') return defaults;
  return {static_cast<uint64_t>(strtoull(s, nullptr, 10))};
}

std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string Upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

}  // namespace zcmedia::vtabtest
