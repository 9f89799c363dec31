#include "migrate_test_util.h"

#include <locale.h>
#include <stdlib.h>
#include <wctype.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sqlite_capture.h"

namespace zcmedia::migratetest {

namespace fs = std::filesystem;

TempDir::TempDir() {
  char tmpl[] = "/tmp/zcmedia-migrate-test-XXXXXX";
  const char* made = mkdtemp(tmpl);
  if (made == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  path_ = made;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  // A test may leave a directory read-only.
  for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec)) fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::remove_all(path_, ec);
}

std::string TempDir::Subdir(const std::string& name) const {
  std::string dir = File(name);
  std::error_code ec;
  fs::create_directories(dir, ec);
  EXPECT_FALSE(ec) << dir << ": " << ec.message();
  return dir;
}

std::string Value::ToString() const {
  switch (type) {
    case SQLITE_NULL: return "NULL";
    case SQLITE_INTEGER: return bytes;
    case SQLITE_FLOAT: return bytes + "r";
    case SQLITE_TEXT: return "'" + bytes + "'";
    default: {
      std::string out = "x'";
      char hex[3];
      for (unsigned char c : bytes) {
        std::snprintf(hex, sizeof hex, "%02x", c);
        out += hex;
      }
      return out + "'";
    }
  }
}

std::string RowString(const Row& row) {
  std::string out;
  for (size_t i = 0; i < row.size(); ++i) out += (i ? "|" : "") + row[i].ToString();
  return out;
}

Db::Db(const std::string& path, int flags) {
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  EXPECT_EQ(rc, SQLITE_OK) << path << ": " << (db_ ? sqlite3_errmsg(db_) : "out of memory");
  if (db_ == nullptr) return;
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 2000);
  char* error = nullptr;
  EXPECT_EQ(zcmedia_register(db_, &error), SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
}

Db::~Db() { sqlite3_close_v2(db_); }

QueryResult Db::Run(const std::string& sql, const std::vector<Value>& params) {
  QueryResult result;
  const char* tail = sql.c_str();
  while (tail != nullptr && *tail != '\0') {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, tail, -1, &stmt, &tail) != SQLITE_OK) {
      result.rc = sqlite3_extended_errcode(db_);
      result.error = sqlite3_errmsg(db_);
      return result;
    }
    if (stmt == nullptr) continue;
    const int n = sqlite3_bind_parameter_count(stmt);
    for (int i = 0; i < n && i < static_cast<int>(params.size()); ++i) {
      const Value& p = params[static_cast<size_t>(i)];
      if (p.type == SQLITE_INTEGER) {
        sqlite3_bind_int64(stmt, i + 1, std::stoll(p.bytes));
      } else if (p.type == SQLITE_TEXT) {
        sqlite3_bind_text(stmt, i + 1, p.bytes.data(), static_cast<int>(p.bytes.size()), SQLITE_TRANSIENT);
      } else if (p.type == SQLITE_FLOAT) {
        sqlite3_bind_double(stmt, i + 1, std::stod(p.bytes));
      } else if (p.type == SQLITE_BLOB) {
        sqlite3_bind_blob(stmt, i + 1, p.bytes.data(), static_cast<int>(p.bytes.size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(stmt, i + 1);
      }
    }
    result.columns.clear();
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) result.columns.push_back(sqlite3_column_name(stmt, c));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      Row row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        Value v;
        test::CaptureColumn(stmt, c, &v.type, &v.bytes);
        row.push_back(std::move(v));
      }
      result.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) {
      result.rc = sqlite3_extended_errcode(db_);
      result.error = sqlite3_errmsg(db_);
      sqlite3_finalize(stmt);
      return result;
    }
    sqlite3_finalize(stmt);
  }
  return result;
}

std::vector<Row> Db::Rows(const std::string& sql, const std::vector<Value>& params) {
  QueryResult result = Run(sql, params);
  EXPECT_TRUE(result.ok()) << sql << ": " << result.error;
  return result.rows;
}

std::vector<std::string> Db::Strings(const std::string& sql, const std::vector<Value>& params) {
  std::vector<std::string> out;
  for (const Row& row : Rows(sql, params)) out.push_back(RowString(row));
  return out;
}

void Db::Exec(const std::string& sql) {
  QueryResult result = Run(sql);
  EXPECT_TRUE(result.ok()) << sql << ": " << result.error;
}

int64_t Db::Int(const std::string& sql, const std::vector<Value>& params) {
  std::vector<Row> rows = Rows(sql, params);
  if (rows.empty() || rows[0].empty() || rows[0][0].type != SQLITE_INTEGER) {
    ADD_FAILURE() << sql << " gave no integer";
    return -1;
  }
  return std::stoll(rows[0][0].bytes);
}

std::string Db::Text(const std::string& sql, const std::vector<Value>& params) {
  std::vector<Row> rows = Rows(sql, params);
  if (rows.empty() || rows[0].empty()) {
    ADD_FAILURE() << sql << " gave no row";
    return "";
  }
  return rows[0][0].bytes;
}

std::string FileUri(const std::string& path, const std::string& query) {
  std::string uri = "file:";
  for (unsigned char c : fs::absolute(path).string()) {
    if (c == '%' || c == '?' || c == '#' || c < 0x20 || c >= 0x7f) {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", c);
      uri += escaped;
    } else {
      uri += static_cast<char>(c);
    }
  }
  return uri + "?" + query;
}

std::unique_ptr<Db> OpenImmutable(const std::string& path) {
  return std::make_unique<Db>(FileUri(path, "mode=ro&immutable=1"), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
}

bench::LegacyGenerateReport Generate(const std::string& path, const GenerateSpec& spec) {
  bench::LegacyGenerateOptions options;
  options.path = path;
  options.rows = spec.rows;
  options.shape = spec.shape;
  options.seed = spec.seed;
  options.windows_paths = spec.windows_paths;
  options.playlists = spec.playlists;
  options.id_gaps = spec.id_gaps;
  try {
    return bench::GenerateLegacyDatabase(options);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "generating " << path << ": " << e.what();
    return {};
  }
}

void GenerateUnconstrained(const std::string& path, const GenerateSpec& spec) {
  GenerateSpec d = spec;
  d.shape = LegacyShape::kD;
  const std::string source = path + ".source";
  Generate(source, d);
  {
    Db db(path);
    db.Exec(R"sql(
      CREATE TABLE media_files (
        id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT, parent_path TEXT, canonical_path TEXT,
        canonical_parent_path TEXT, filename TEXT, size INTEGER, modified INTEGER, mime_type TEXT,
        duration INTEGER, title TEXT, artist TEXT, album TEXT, genre TEXT, track_number INTEGER,
        year INTEGER, album_artist TEXT, created_at INTEGER, updated_at INTEGER);
      CREATE TABLE playlists (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, description TEXT,
        created_at INTEGER, updated_at INTEGER);
      CREATE TABLE playlist_entries (id INTEGER PRIMARY KEY AUTOINCREMENT, playlist_id INTEGER,
        media_file_id INTEGER, position INTEGER, created_at INTEGER);
      CREATE TABLE database_metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL);
      CREATE INDEX idx_media_files_path ON media_files(path);
    )sql");
    db.Exec("ATTACH " + Value::Text(FileUri(source, "mode=ro&immutable=1")).ToString() + " AS source");
    db.Exec(
        "BEGIN;"
        "INSERT INTO media_files SELECT * FROM source.media_files;"
        "INSERT INTO playlists SELECT * FROM source.playlists;"
        "INSERT INTO playlist_entries SELECT * FROM source.playlist_entries;"
        "INSERT INTO database_metadata SELECT * FROM source.database_metadata;"
        "DELETE FROM sqlite_sequence;"
        "INSERT INTO sqlite_sequence SELECT * FROM source.sqlite_sequence;"
        "COMMIT;"
        "DETACH source;");
  }
  std::error_code ec;
  fs::remove(source, ec);
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string name = fs::relative(it->path(), dir).string();
    out[name] = it->is_directory() ? "<dir>" : ReadBytes(it->path().string());
  }
  return out;
}

::testing::AssertionResult SameSnapshot(const std::map<std::string, std::string>& before,
                                        const std::map<std::string, std::string>& after) {
  std::string diff;
  for (const auto& [name, bytes] : before) {
    auto it = after.find(name);
    if (it == after.end()) {
      diff += " removed " + name + ";";
    } else if (it->second != bytes) {
      diff += " changed " + name + ";";
    }
  }
  for (const auto& [name, bytes] : after) {
    if (before.find(name) == before.end()) diff += " added " + name + ";";
  }
  if (diff.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the directory changed:" << diff;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

::testing::AssertionResult SameRows(const std::vector<std::string>& want, const std::vector<std::string>& got) {
  const size_t n = std::min(want.size(), got.size());
  for (size_t i = 0; i < n; ++i) {
    if (want[i] != got[i]) {
      return ::testing::AssertionFailure() << "row " << i << " differs (of " << want.size() << " wanted, "
                                           << got.size() << " got):\n  want " << want[i] << "\n  got  " << got[i];
    }
  }
  if (want.size() != got.size()) {
    return ::testing::AssertionFailure() << want.size() << " rows wanted, " << got.size() << " got; first extra: "
                                         << (want.size() > got.size() ? "want " + want[n] : "got " + got[n]);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

namespace {

bool IsWindows(const std::string& p) {
  if (p.size() >= 2 && p[0] == '\\' && p[1] == '\\') return true;
  return p.size() >= 3 && std::isalpha(static_cast<unsigned char>(p[0])) && p[1] == ':' && (p[2] == '\\' || p[2] == '/');
}

// Appends code point c as UTF-8.
void PutUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

}  // namespace

std::string ExpectedCanonical(const std::string& path) {
  if (!IsWindows(path)) return path;
  static locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  EXPECT_NE(utf8, static_cast<locale_t>(0)) << "no C.UTF-8 locale";
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    const unsigned char b = static_cast<unsigned char>(path[i]);
    char32_t c = b;
    size_t len = 1;
    if (b >= 0xF0) {
      len = 4;
      c = b & 0x07;
    } else if (b >= 0xE0) {
      len = 3;
      c = b & 0x0F;
    } else if (b >= 0xC0) {
      len = 2;
      c = b & 0x1F;
    }
    for (size_t k = 1; k < len && i + k < path.size(); ++k) c = (c << 6) | (path[i + k] & 0x3F);
    i += len;
    if (c == '\\') {
      c = '/';
    } else if (c < 0x180 && c != 0x130 && utf8 != static_cast<locale_t>(0)) {
      // Rust's to_lowercase and the C library agree on ASCII, Latin-1 and
      // Latin Extended-A, except U+0130 (which Rust makes two code points).
      c = static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), utf8));
    }
    PutUtf8(c, &out);
  }
  return out;
}

migrate::MigrateOptions Options(const std::string& legacy, const std::string& output) {
  migrate::MigrateOptions options;
  options.legacy_path = legacy;
  options.output_path = output;
  return options;
}

}  // namespace zcmedia::migratetest
