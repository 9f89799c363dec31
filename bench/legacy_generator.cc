#include "legacy_generator.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <unordered_set>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "generator.h"
#include "sqlite_legacy.h"
#include "zcmedia/migrate.h"

namespace zcmedia::bench {

namespace {

// ---------------------------------------------------------------------------
// Schema

// media_files of the older shapes, with the declarations shape D keeps for
// the same columns (columns were only ever added).
constexpr const char* kShapeAMediaFiles = R"sql(CREATE TABLE media_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT UNIQUE NOT NULL,
    filename TEXT NOT NULL,
    size INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    mime_type TEXT NOT NULL,
    duration INTEGER,
    title TEXT,
    artist TEXT,
    album TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
))sql";

constexpr const char* kShapeBMediaFiles = R"sql(CREATE TABLE media_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT UNIQUE NOT NULL,
    parent_path TEXT NOT NULL,
    filename TEXT NOT NULL,
    size INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    mime_type TEXT NOT NULL,
    duration INTEGER,
    title TEXT,
    artist TEXT,
    album TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
))sql";

constexpr const char* kShapeCMediaFiles = R"sql(CREATE TABLE media_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT UNIQUE NOT NULL,
    parent_path TEXT NOT NULL,
    filename TEXT NOT NULL,
    size INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    mime_type TEXT NOT NULL,
    duration INTEGER,
    title TEXT,
    artist TEXT,
    album TEXT,
    genre TEXT,
    track_number INTEGER,
    year INTEGER,
    album_artist TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
))sql";

// The server's migration from C to D: the two columns go to the end of the
// table, existing rows get NULL.
constexpr const char* kAddCanonicalColumns =
    "ALTER TABLE media_files ADD COLUMN canonical_path TEXT;"
    "ALTER TABLE media_files ADD COLUMN canonical_parent_path TEXT;";

// The shape whose schema a table or index first appeared in.
enum class Era { kA, kB, kC, kD };

Era CreationEra(LegacyShape shape) {
  switch (shape) {
    case LegacyShape::kA: return Era::kA;
    case LegacyShape::kB: return Era::kB;
    case LegacyShape::kC:
    case LegacyShape::kCThenD: return Era::kC;
    case LegacyShape::kD: return Era::kD;
  }
  return Era::kD;
}

Era IndexEra(std::string_view name) {
  static constexpr std::string_view kShapeA[] = {"idx_media_files_path", "idx_media_files_modified",
                                                 "idx_media_files_mime_type", "idx_media_files_filename"};
  static constexpr std::string_view kShapeD[] = {"idx_media_files_canonical_path",
                                                 "idx_media_files_canonical_parent_path"};
  if (std::find(std::begin(kShapeA), std::end(kShapeA), name) != std::end(kShapeA)) return Era::kA;
  if (name == "idx_media_files_parent_path") return Era::kB;
  if (std::find(std::begin(kShapeD), std::end(kShapeD), name) != std::end(kShapeD)) return Era::kD;
  return Era::kC;  // the music columns' and the playlist tables' indexes
}

bool HasPlaylistTables(LegacyShape shape) { return CreationEra(shape) >= Era::kC; }

struct SchemaStatement {
  std::string name;  // the table's or the index's
  std::string sql;
};

// kLegacyShapeDSchema taken apart, so that every shape shares its playlist
// and metadata tables and its index statements instead of restating them.
struct ShapeDSchema {
  std::vector<SchemaStatement> tables;   // declaration order
  std::vector<SchemaStatement> indexes;  // declaration order
};

// The whitespace- or '('-separated words at the start of `sql`.
std::vector<std::string_view> LeadingWords(std::string_view sql, size_t count) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (words.size() < count && i < sql.size()) {
    while (i < sql.size() && (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == '(')) ++i;
    const size_t start = i;
    while (i < sql.size() && !std::isspace(static_cast<unsigned char>(sql[i])) && sql[i] != '(') ++i;
    if (i > start) words.push_back(sql.substr(start, i - start));
  }
  return words;
}

ShapeDSchema ParseShapeDSchema() {
  ShapeDSchema schema;
  std::string statement;
  auto take = [&schema](std::string sql) {
    const size_t first = sql.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return;
    sql.erase(0, first);
    const std::vector<std::string_view> words = LeadingWords(sql, 6);
    if (words.size() >= 3 && words[0] == "CREATE" && words[1] == "TABLE") {
      schema.tables.push_back({std::string(words[2]), sql});
    } else if (words.size() >= 3 && words[0] == "CREATE" && words[1] == "INDEX") {
      const bool if_not_exists = words.size() >= 6 && words[2] == "IF";
      schema.indexes.push_back({std::string(words[if_not_exists ? 5 : 2]), sql});
    }
    // The schema_version INSERT is left out: the generator writes its own
    // row, with its version and a timestamp that does not come from the clock.
  };
  for (const char* c = kLegacyShapeDSchema; *c != '\0'; ++c) {
    statement += *c;
    // sqlite3_complete knows about quotes and comments: a ';' inside them
    // does not end the statement.
    if (*c == ';' && sqlite3_complete(statement.c_str())) {
      take(std::move(statement));
      statement.clear();
    }
  }
  take(std::move(statement));
  for (const char* table : {"media_files", "playlists", "playlist_entries", "database_metadata"}) {
    if (std::none_of(schema.tables.begin(), schema.tables.end(),
                     [table](const SchemaStatement& s) { return s.name == table; }))
      throw BenchError(std::string("internal error: kLegacyShapeDSchema has no CREATE TABLE ") + table);
  }
  return schema;
}

// ---------------------------------------------------------------------------
// SQLite plumbing

struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

void BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  // A null data pointer would bind SQL NULL; "" must stay "".
  sqlite3_bind_text(stmt, index, text.data() ? text.data() : "", static_cast<int>(text.size()), SQLITE_STATIC);
}

void BindOptText(sqlite3_stmt* stmt, int index, const OptText& text) {
  if (text) {
    BindText(stmt, index, *text);
  } else {
    sqlite3_bind_null(stmt, index);
  }
}

void BindOptInt(sqlite3_stmt* stmt, int index, const OptInt& value) {
  if (value) {
    sqlite3_bind_int64(stmt, index, *value);
  } else {
    sqlite3_bind_null(stmt, index);
  }
}

// One connection to the file being generated. Statements prepared from it
// must be destroyed before it.
class Connection {
 public:
  explicit Connection(const std::string& path) : path_(path) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
      const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw BenchError("cannot create legacy database '" + path + "': " + message);
    }
  }
  ~Connection() { sqlite3_close(db_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  [[noreturn]] void Fail(std::string_view what) const {
    throw BenchError("legacy database '" + path_ + "': " + std::string(what) + ": " + sqlite3_errmsg(db_));
  }

  void Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : sqlite3_errmsg(db_);
      sqlite3_free(error);
      throw BenchError("legacy database '" + path_ + "': " + message + " in: " + sql.substr(0, 200));
    }
  }

  Statement Prepare(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) Fail("prepare '" + sql + "'");
    return Statement(stmt);
  }

  // Runs a bound statement that returns no rows, then resets it for reuse.
  void Run(sqlite3_stmt* stmt, std::string_view what) {
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) Fail(what);
  }

  // The first column of the first row of `sql`; 0 when there is no row or
  // the value is NULL.
  int64_t QueryInt(const std::string& sql) {
    Statement stmt = Prepare(sql);
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_ROW) return sqlite3_column_int64(stmt.get(), 0);
    if (rc != SQLITE_DONE) Fail(sql);
    return 0;
  }

  std::string QueryText(const std::string& sql) {
    Statement stmt = Prepare(sql);
    if (sqlite3_step(stmt.get()) != SQLITE_ROW) Fail(sql);
    const unsigned char* text = sqlite3_column_text(stmt.get(), 0);
    return text ? reinterpret_cast<const char*>(text) : "";
  }

  // Closes now, reporting failure (a statement still open, an I/O error on
  // the final WAL checkpoint) instead of ignoring it in the destructor.
  void Close() {
    if (sqlite3_close(db_) != SQLITE_OK) Fail("close");
    db_ = nullptr;
  }

  sqlite3* handle() const { return db_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

// ---------------------------------------------------------------------------
// Rows

// The path columns of one row. Views into the record or into PathForms,
// valid until the next PathForms::For.
struct RowPaths {
  std::string_view path, parent_path, canonical_path, canonical_parent_path;
};

// The server's canonical form of a Windows path (lower case, '\\' -> '/'):
// the migrator's, so that generated files and migrated fills agree.
void CanonicalWindowsPath(std::string_view native, std::string* out) { *out = migrate::CanonicalForm(native); }

// Turns the generator's Unix paths into the path columns of the chosen
// platform. On Windows: /media/music/A/B.mp3 -> C:\Media\Music\A\B.mp3, or
// \\NAS\Media\Music\A\B.mp3 for about one top-level folder (an artist, a
// movie, a show, a photo year) in 20, chosen by a hash of that folder so
// that all of its files share a root.
class PathForms {
 public:
  PathForms(bool windows, uint64_t seed) : windows_(windows), seed_(seed) {}

  RowPaths For(const GeneratedRecord& record) {
    if (!windows_) return {record.path, record.parent_path, record.path, record.parent_path};
    const bool unc = IsOnNas(record.path);
    ToWindows(record.path, unc, &path_);
    ToWindows(record.parent_path, unc, &parent_);
    CanonicalWindowsPath(path_, &canonical_path_);
    CanonicalWindowsPath(parent_, &canonical_parent_);
    return {path_, parent_, canonical_path_, canonical_parent_};
  }

 private:
  static constexpr std::string_view kUnixRoot = "/media/";

  static void CheckUnixPath(std::string_view unix_path) {
    if (unix_path.substr(0, kUnixRoot.size()) != kUnixRoot)
      throw BenchError("internal error: generated path outside /media/: " + std::string(unix_path));
  }

  // "/media/<top>/<unit>" of the path, hashed (FNV-1a, seeded).
  bool IsOnNas(std::string_view unix_path) const {
    CheckUnixPath(unix_path);
    size_t end = unix_path.find('/', kUnixRoot.size());
    if (end != std::string_view::npos) end = unix_path.find('/', end + 1);
    const std::string_view unit = unix_path.substr(0, end);
    uint64_t hash = 14695981039346656037ull ^ seed_;
    for (char c : unit) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return hash % 20 == 0;
  }

  static void ToWindows(std::string_view unix_path, bool unc, std::string* out) {
    CheckUnixPath(unix_path);
    out->assign(unc ? "\\\\NAS\\Media\\" : "C:\\Media\\");
    const std::string_view rest = unix_path.substr(kUnixRoot.size());
    for (size_t i = 0; i < rest.size(); ++i) {
      char c = rest[i];
      if (c == '/') c = '\\';
      // Capitalized top-level folders, as Windows users name them:
      // music -> Music, photos -> Photos.
      if (i == 0 && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      out->push_back(c);
    }
  }

  bool windows_;
  uint64_t seed_;
  std::string path_, parent_, canonical_path_, canonical_parent_;
};

// An INSERT of every media_files column but id, in the order the table
// declares them at the time it is built (PRAGMA table_info), so that it
// follows the shape and the migration's ALTERs: columns are bound by name.
class MediaFileInserter {
 public:
  explicit MediaFileInserter(Connection* db) : db_(db) {
    Statement info = db->Prepare("PRAGMA table_info(media_files)");
    std::string names, placeholders;
    int rc;
    while ((rc = sqlite3_step(info.get())) == SQLITE_ROW) {
      const std::string_view name = reinterpret_cast<const char*>(sqlite3_column_text(info.get(), 1));
      if (name == "id") continue;
      columns_.push_back(ColumnOf(name));
      names += (names.empty() ? "" : ", ") + std::string(name);
      placeholders += placeholders.empty() ? "?" : ", ?";
    }
    if (rc != SQLITE_DONE || columns_.empty()) db->Fail("PRAGMA table_info(media_files)");
    insert_ = db->Prepare("INSERT INTO media_files (" + names + ") VALUES (" + placeholders + ")");
  }

  // Returns the new row's id.
  int64_t Insert(const GeneratedRecord& record, const RowPaths& paths) {
    // fields() applies the generator's NULL conventions (tags of untagged
    // files); the path columns come from `paths`.
    const MediaFileFields f = record.fields();
    sqlite3_stmt* s = insert_.get();
    for (size_t i = 0; i < columns_.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      switch (columns_[i]) {
        case Column::kPath: BindText(s, index, paths.path); break;
        case Column::kParentPath: BindText(s, index, paths.parent_path); break;
        case Column::kCanonicalPath: BindText(s, index, paths.canonical_path); break;
        case Column::kCanonicalParentPath: BindText(s, index, paths.canonical_parent_path); break;
        case Column::kFilename: BindOptText(s, index, f.filename); break;
        case Column::kSize: sqlite3_bind_int64(s, index, f.size); break;
        case Column::kModified: sqlite3_bind_int64(s, index, f.modified); break;
        case Column::kMimeType: BindOptText(s, index, f.mime_type); break;
        case Column::kDuration: BindOptInt(s, index, f.duration); break;
        case Column::kTitle: BindOptText(s, index, f.title); break;
        case Column::kArtist: BindOptText(s, index, f.artist); break;
        case Column::kAlbum: BindOptText(s, index, f.album); break;
        case Column::kGenre: BindOptText(s, index, f.genre); break;
        case Column::kTrackNumber: BindOptInt(s, index, f.track_number); break;
        case Column::kYear: BindOptInt(s, index, f.year); break;
        case Column::kAlbumArtist: BindOptText(s, index, f.album_artist); break;
        case Column::kCreatedAt: sqlite3_bind_int64(s, index, f.created_at); break;
        case Column::kUpdatedAt: sqlite3_bind_int64(s, index, f.updated_at); break;
      }
    }
    db_->Run(s, "insert of '" + std::string(paths.path) + "'");
    return sqlite3_last_insert_rowid(db_->handle());
  }

 private:
  enum class Column {
    kPath, kParentPath, kCanonicalPath, kCanonicalParentPath, kFilename, kSize, kModified, kMimeType,
    kDuration, kTitle, kArtist, kAlbum, kGenre, kTrackNumber, kYear, kAlbumArtist, kCreatedAt, kUpdatedAt,
  };

  Column ColumnOf(std::string_view name) const {
    static constexpr std::pair<std::string_view, Column> kNames[] = {
        {"path", Column::kPath},
        {"parent_path", Column::kParentPath},
        {"canonical_path", Column::kCanonicalPath},
        {"canonical_parent_path", Column::kCanonicalParentPath},
        {"filename", Column::kFilename},
        {"size", Column::kSize},
        {"modified", Column::kModified},
        {"mime_type", Column::kMimeType},
        {"duration", Column::kDuration},
        {"title", Column::kTitle},
        {"artist", Column::kArtist},
        {"album", Column::kAlbum},
        {"genre", Column::kGenre},
        {"track_number", Column::kTrackNumber},
        {"year", Column::kYear},
        {"album_artist", Column::kAlbumArtist},
        {"created_at", Column::kCreatedAt},
        {"updated_at", Column::kUpdatedAt},
    };
    for (const auto& [known, column] : kNames) {
      if (known == name) return column;
    }
    throw BenchError("internal error: media_files has an unknown column '" + std::string(name) + "'");
  }

  Connection* db_;
  Statement insert_;
  std::vector<Column> columns_;
};

// Seeded choices for the parts LibraryGenerator does not make (playlists,
// deletions). mt19937_64's sequence is fixed by the standard, and the
// mapping to ranges is done here, so the output is the same everywhere.
class Choices {
 public:
  explicit Choices(uint64_t seed) : engine_(seed) {}
  uint64_t Uniform(uint64_t n) { return n == 0 ? 0 : engine_() % n; }  // [0, n)
  int64_t Range(int64_t lo, int64_t hi) {  // [lo, hi]
    return lo + static_cast<int64_t>(Uniform(static_cast<uint64_t>(hi - lo) + 1));
  }
  bool Chance(double p) { return static_cast<double>(engine_() >> 11) * 0x1.0p-53 < p; }

 private:
  std::mt19937_64 engine_;
};

constexpr int64_t kSecondsPerDay = 86'400;

// Playlist names: themes, then the same themes with " (2)", " (3)", ... No
// theme ends in ')', so the names stay unique.
constexpr std::string_view kPlaylistThemes[] = {
    "Favourites",    "Road Trip",      "Workout",        "Chill",         "Dinner Party",
    "Focus",         "Rock 'n' Roll",  "Sunday Morning", "Late Night",    "Summer Hits",
    "Rainy Day",     "Party Mix",      "Study",          "Running",       "Kids",
    "Christmas",     "Throwbacks",     "Acoustic",       "Sleep",         "Café Jazz",
    "Top Rated",     "Recently Added", "Cooking",        "夜のドライブ",  "Wedding",
};
constexpr std::string_view kPlaylistDescriptions[] = {
    "Songs for the car",      "Auto-generated from ratings", "For the gym",
    "Shared with the family", "Quiet ones",                  "Imported from iTunes",
    "Loud",                   "Don't delete!",               "Mix for Saturday, 8 pm",
};
// The one playlist that is always empty: created and never filled.
constexpr std::string_view kEmptyPlaylistName = "New Playlist";

std::string PlaylistName(uint64_t ordinal) {
  constexpr uint64_t kThemes = std::size(kPlaylistThemes);
  std::string name(kPlaylistThemes[ordinal % kThemes]);
  if (ordinal >= kThemes) name += " (" + std::to_string(ordinal / kThemes + 1) + ")";
  return name;
}

// Seeds of the independent choice streams, so that changing one (say the
// playlist count) does not change another (the deleted ids).
constexpr uint64_t kPlaylistSalt = 0x706c61796c697374ull;
constexpr uint64_t kGapSalt = 0x6964206761707321ull;

// How many playlists `options` asks for. Throws BenchError when the shape
// cannot hold them.
uint64_t PlaylistCount(const LegacyGenerateOptions& options) {
  if (options.playlists >= 0) {
    if (options.playlists > 0 && !HasPlaylistTables(options.shape))
      throw BenchError(std::string("shape ") + LegacyShapeName(options.shape) +
                       " has no playlist tables: --playlists must be 0 or left out");
    return static_cast<uint64_t>(options.playlists);
  }
  if (!HasPlaylistTables(options.shape) || options.rows == 0) return 0;
  return std::max<uint64_t>(2, options.rows / 2000);
}

// ---------------------------------------------------------------------------
// The generation, one phase per method, in the order Generate runs them.

class LegacyGeneration {
 public:
  explicit LegacyGeneration(const LegacyGenerateOptions& options)
      : options_(options),
        db_(options.path),
        generator_(options.seed, options.rows),
        paths_(options.windows_paths, options.seed) {
    // The database's birth: the scan clock at the first record (also when
    // no rows are asked for), so no timestamp comes from the wall clock.
    LibraryGenerator first(options.seed, 1);
    GeneratedRecord record;
    first.Next(&record);
    created_time_ = record.created_at;
    last_created_ = created_time_;
  }

  LegacyGenerateReport Generate() {
    // Bulk-load settings: no rollback journal, no fsync (a failure removes
    // the file anyway); a 256 MiB page cache and the file mapped, since each
    // CREATE INDEX after the load reads the whole table again.
    // foreign_keys=ON keeps the playlists consistent.
    db_.Exec("PRAGMA synchronous=OFF; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
             "PRAGMA cache_size=-262144; PRAGMA mmap_size=2147418112;");
    if (db_.QueryText("PRAGMA journal_mode=OFF") != "off") db_.Fail("cannot turn the journal off");

    const ShapeDSchema d_schema = ParseShapeDSchema();
    CreateTables(d_schema);
    if (options_.shape == LegacyShape::kCThenD) {
      const uint64_t before_migration = options_.rows / 2;
      InsertRows(before_migration);
      Migrate();
      InsertRows(options_.rows - before_migration);
    } else {
      InsertRows(options_.rows);
    }
    AddPlaylists();
    CreateIndexes(d_schema);
    PunchIdGaps();

    LegacyGenerateReport report;
    report.media_files = static_cast<uint64_t>(db_.QueryInt("SELECT count(*) FROM media_files"));
    if (HasPlaylistTables(options_.shape)) {
      report.playlists = static_cast<uint64_t>(db_.QueryInt("SELECT count(*) FROM playlists"));
      report.playlist_entries = static_cast<uint64_t>(db_.QueryInt("SELECT count(*) FROM playlist_entries"));
    }
    report.max_id = db_.QueryInt("SELECT max(id) FROM media_files");
    report.sequence = db_.QueryInt("SELECT seq FROM sqlite_sequence WHERE name = 'media_files'");

    // What the legacy server leaves: WAL mode, recorded in the file header
    // (bytes 18-19 = 2), so every later connection opens it in WAL mode.
    if (db_.QueryText("PRAGMA journal_mode=WAL") != "wal") db_.Fail("cannot switch to WAL");
    db_.Close();  // checkpoints and deletes the -wal
    return report;
  }

 private:
  void CreateTables(const ShapeDSchema& d_schema) {
    const Era era = CreationEra(options_.shape);
    db_.Exec("BEGIN");
    for (const SchemaStatement& table : d_schema.tables) {
      if (table.name == "media_files") {
        switch (era) {
          case Era::kA: db_.Exec(kShapeAMediaFiles); break;
          case Era::kB: db_.Exec(kShapeBMediaFiles); break;
          case Era::kC: db_.Exec(kShapeCMediaFiles); break;
          case Era::kD: db_.Exec(table.sql); break;
        }
      } else if (table.name == "database_metadata" || era >= Era::kC) {
        db_.Exec(table.sql);  // the playlist tables came with shape C
      }
    }
    const char* version = era == Era::kD ? "2" : "1";
    Statement insert = db_.Prepare(
        "INSERT INTO database_metadata (key, value, updated_at) VALUES ('schema_version', ?, ?)");
    sqlite3_bind_text(insert.get(), 1, version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(insert.get(), 2, created_time_);
    db_.Run(insert.get(), "insert of schema_version");
    db_.Exec("COMMIT");
  }

  void InsertRows(uint64_t count) {
    MediaFileInserter inserter(&db_);
    GeneratedRecord record;
    db_.Exec("BEGIN");
    for (uint64_t i = 0; i < count; ++i) {
      if (!generator_.Next(&record)) throw BenchError("internal error: the generator ran out of records");
      const int64_t id = inserter.Insert(record, paths_.For(record));
      if (record.kind == GeneratedRecord::Kind::kAudio) audio_ids_.push_back(id);
      all_ids_end_ = id + 1;
      last_created_ = record.created_at;
    }
    db_.Exec("COMMIT");
  }

  // C -> D as the server did it: in one transaction, right after the last
  // row written before the upgrade.
  void Migrate() {
    db_.Exec("BEGIN");
    db_.Exec(kAddCanonicalColumns);
    Statement update = db_.Prepare(
        "UPDATE database_metadata SET value = '2', updated_at = ? WHERE key = 'schema_version'");
    sqlite3_bind_int64(update.get(), 1, last_created_);
    db_.Run(update.get(), "update of schema_version");
    db_.Exec("COMMIT");
  }

  void AddPlaylists() {
    const uint64_t count = PlaylistCount(options_);
    if (count == 0) return;
    Choices choose(options_.seed ^ kPlaylistSalt);
    // Playlists hold music; a library without audio lends its other files.
    std::vector<int64_t> pool = audio_ids_;
    if (pool.empty()) {
      for (int64_t id = 1; id < all_ids_end_; ++id) pool.push_back(id);
    }
    const uint64_t empty_index = count >= 2 ? choose.Uniform(count) : count;

    Statement add_playlist =
        db_.Prepare("INSERT INTO playlists (name, description, created_at, updated_at) VALUES (?, ?, ?, ?)");
    Statement add_entry = db_.Prepare(
        "INSERT INTO playlist_entries (playlist_id, media_file_id, position, created_at) VALUES (?, ?, ?, ?)");
    Statement touch_playlist = db_.Prepare("UPDATE playlists SET updated_at = ? WHERE id = ?");
    std::vector<int64_t> removed_entries;  // deleted once all are in: later edits by the user
    std::vector<int64_t> members;
    std::unordered_set<int64_t> taken;

    db_.Exec("BEGIN");
    int64_t time = last_created_ + choose.Range(1, 30) * kSecondsPerDay;
    uint64_t named = 0;
    for (uint64_t p = 0; p < count; ++p) {
      time += choose.Range(3600, 20 * kSecondsPerDay);
      const bool empty = p == empty_index || pool.empty();
      const std::string name = p == empty_index ? std::string(kEmptyPlaylistName) : PlaylistName(named++);
      sqlite3_stmt* s = add_playlist.get();
      BindText(s, 1, name);
      const uint64_t description = choose.Uniform(100);
      if (description < 30) {
        sqlite3_bind_null(s, 2);
      } else if (description < 35) {
        BindText(s, 2, "");
      } else {
        BindText(s, 2, kPlaylistDescriptions[choose.Uniform(std::size(kPlaylistDescriptions))]);
      }
      sqlite3_bind_int64(s, 3, time);
      sqlite3_bind_int64(s, 4, time);
      db_.Run(s, "insert of playlist '" + name + "'");
      if (empty) continue;
      const int64_t playlist_id = sqlite3_last_insert_rowid(db_.handle());

      PickMembers(choose, pool, &members, &taken);
      // Positions: 0-based, with at least one skipped stretch (the server
      // leaves gaps when entries are removed or positions set by hand), and
      // at least one entry removed later when there are three or more.
      const size_t forced_gap = members.size() >= 2 ? 1 + choose.Uniform(members.size() - 1) : members.size();
      const size_t forced_removal = members.size() >= 3 ? choose.Uniform(members.size()) : members.size();
      int64_t position = 0;
      int64_t entry_time = time;
      for (size_t i = 0; i < members.size(); ++i) {
        if (i == forced_gap || choose.Chance(0.03)) position += choose.Range(1, 3);
        entry_time += choose.Range(1, 30);
        sqlite3_stmt* e = add_entry.get();
        sqlite3_bind_int64(e, 1, playlist_id);
        sqlite3_bind_int64(e, 2, members[i]);
        sqlite3_bind_int64(e, 3, position++);
        sqlite3_bind_int64(e, 4, entry_time);
        db_.Run(e, "insert of a playlist entry");
        if (i == forced_removal || choose.Chance(0.03))
          removed_entries.push_back(sqlite3_last_insert_rowid(db_.handle()));
      }
      sqlite3_bind_int64(touch_playlist.get(), 1, entry_time);
      sqlite3_bind_int64(touch_playlist.get(), 2, playlist_id);
      db_.Run(touch_playlist.get(), "update of a playlist");
    }
    Statement remove = db_.Prepare("DELETE FROM playlist_entries WHERE id = ?");
    for (int64_t id : removed_entries) {
      sqlite3_bind_int64(remove.get(), 1, id);
      db_.Run(remove.get(), "delete of a playlist entry");
    }
    db_.Exec("COMMIT");
  }

  // Fills *members with the media files of one playlist, distinct: 40% an
  // album-like run of consecutive audio files, otherwise picks from the whole
  // pool. `taken` is scratch space.
  static void PickMembers(Choices& choose, const std::vector<int64_t>& pool, std::vector<int64_t>* members,
                          std::unordered_set<int64_t>* taken) {
    members->clear();
    uint64_t size = choose.Chance(0.1) ? choose.Range(300, 1000) : choose.Range(5, 150);
    size = std::min<uint64_t>(size, pool.size());
    if (choose.Chance(0.4) || size * 2 > pool.size()) {
      const uint64_t start = choose.Uniform(pool.size() - size + 1);
      members->assign(pool.begin() + static_cast<ptrdiff_t>(start),
                      pool.begin() + static_cast<ptrdiff_t>(start + size));
      return;
    }
    taken->clear();
    while (members->size() < size) {
      const int64_t id = pool[choose.Uniform(pool.size())];
      if (taken->insert(id).second) members->push_back(id);
    }
  }

  // After the load, so that SQLite builds each index with one sort instead
  // of growing it row by row. Order: the shape's indexes as
  // kLegacyShapeDSchema lists them; for C+D the canonical ones last, as
  // the migration added them.
  void CreateIndexes(const ShapeDSchema& d_schema) {
    const Era era = CreationEra(options_.shape);
    db_.Exec("BEGIN");
    for (const SchemaStatement& index : d_schema.indexes) {
      if (IndexEra(index.name) <= era) db_.Exec(index.sql);
    }
    if (options_.shape == LegacyShape::kCThenD) {
      for (const SchemaStatement& index : d_schema.indexes) {
        if (IndexEra(index.name) == Era::kD) db_.Exec(index.sql);
      }
    }
    db_.Exec("COMMIT");
  }

  // Removed files, as the server's cleanup deletes them: about 1% anywhere
  // plus the newest 1-3 (so sqlite_sequence.seq ends above max(id)). Their
  // playlist entries go with them (ON DELETE CASCADE).
  void PunchIdGaps() {
    if (!options_.id_gaps || all_ids_end_ <= 1) return;
    Choices choose(options_.seed ^ kGapSalt);
    const int64_t last_id = all_ids_end_ - 1;
    const int64_t newest_removed = std::min<int64_t>(choose.Range(1, 3), last_id / 2);
    Statement remove = db_.Prepare("DELETE FROM media_files WHERE id = ?");
    db_.Exec("BEGIN");
    for (int64_t id = 1; id <= last_id; ++id) {
      if (id > last_id - newest_removed || choose.Uniform(100) == 0) {
        sqlite3_bind_int64(remove.get(), 1, id);
        db_.Run(remove.get(), "delete of a media file");
      }
    }
    db_.Exec("COMMIT");
  }

  const LegacyGenerateOptions& options_;
  Connection db_;
  LibraryGenerator generator_;
  PathForms paths_;
  int64_t created_time_ = 0;
  int64_t last_created_ = 0;     // created_at of the newest row so far
  int64_t all_ids_end_ = 1;      // one past the highest id inserted
  std::vector<int64_t> audio_ids_;
};

// The database file and the sidecars SQLite may create next to it.
std::vector<std::string> DatabaseFiles(const std::string& path) {
  return {path, path + "-wal", path + "-shm", path + "-journal"};
}

// Refuses to touch an existing database: the generator writes new files
// only, and a leftover -wal or -journal of an earlier file with this name
// would be replayed into the new one.
void CheckNothingThere(const std::string& path) {
  if (path.empty()) throw BenchError("generate-legacy: no output file given");
  for (const std::string& file : DatabaseFiles(path)) {
    std::error_code error;
    const auto status = std::filesystem::symlink_status(file, error);
    if (status.type() != std::filesystem::file_type::not_found && status.type() != std::filesystem::file_type::none) {
      if (file == path) throw BenchError("'" + path + "' already exists: generate-legacy only writes new files");
      throw BenchError("'" + file + "' exists (left over from an earlier database named '" + path +
                       "'): remove it first");
    }
  }
}

}  // namespace

bool ParseLegacyShape(std::string_view text, LegacyShape* shape) {
  std::string upper(text);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static constexpr std::pair<std::string_view, LegacyShape> kShapes[] = {
      {"A", LegacyShape::kA}, {"B", LegacyShape::kB},         {"C", LegacyShape::kC},
      {"D", LegacyShape::kD}, {"C+D", LegacyShape::kCThenD},
  };
  for (const auto& [name, value] : kShapes) {
    if (upper == name) {
      *shape = value;
      return true;
    }
  }
  return false;
}

const char* LegacyShapeName(LegacyShape shape) {
  switch (shape) {
    case LegacyShape::kA: return "A";
    case LegacyShape::kB: return "B";
    case LegacyShape::kC: return "C";
    case LegacyShape::kD: return "D";
    case LegacyShape::kCThenD: return "C+D";
  }
  return "?";
}

LegacyGenerateReport GenerateLegacyDatabase(const LegacyGenerateOptions& options) {
  PlaylistCount(options);  // refuse impossible options before creating anything
  CheckNothingThere(options.path);
  Stopwatch stopwatch;
  LegacyGenerateReport report;
  try {
    report = LegacyGeneration(options).Generate();
  } catch (...) {
    // Nothing was there before (checked above): whatever is there now is a
    // partial file of ours. The connection is closed by now (the
    // generation's destructor ran during unwinding).
    for (const std::string& file : DatabaseFiles(options.path)) {
      std::error_code ignored;
      std::filesystem::remove(file, ignored);
    }
    throw;
  }
  report.seconds = stopwatch.Seconds();
  return report;
}

int RunGenerateLegacy(const LegacyGenerateOptions& options, bool json) {
  const LegacyGenerateReport report = GenerateLegacyDatabase(options);
  if (json) {
    JsonLine line;
    line.Add("path", options.path)
        .Add("shape", LegacyShapeName(options.shape))
        .Add("rows_inserted", options.rows)
        .Add("seed", options.seed)
        .Add("windows_paths", options.windows_paths)
        .Add("id_gaps", options.id_gaps)
        .Add("media_files", report.media_files)
        .Add("max_id", report.max_id)
        .Add("sequence", report.sequence)
        .Add("playlists", report.playlists)
        .Add("playlist_entries", report.playlist_entries)
        .Add("seconds", report.seconds);
    std::printf("%s\n", line.ToString().c_str());
  } else {
    std::printf("shape %s: %s media files (max id %s, sequence %s), %s playlists, %s entries in %.2f s: %s\n",
                LegacyShapeName(options.shape), FormatThousands(report.media_files).c_str(),
                FormatThousands(static_cast<uint64_t>(report.max_id)).c_str(),
                FormatThousands(static_cast<uint64_t>(report.sequence)).c_str(),
                FormatThousands(report.playlists).c_str(), FormatThousands(report.playlist_entries).c_str(),
                report.seconds, options.path.c_str());
  }
  return 0;
}

}  // namespace zcmedia::bench
