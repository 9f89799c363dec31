#include "sqlite_legacy.h"

#include <sqlite3.h>

#include <algorithm>
#include <iterator>

#include "bench_util.h"

namespace zcmedia::bench {

// The legacy server's connection setup (sqlx options): WAL with NORMAL sync,
// a 2 MB page cache, no mmap.
const char* const kLegacyConnectionPragmas =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA temp_store=MEMORY;"
    "PRAGMA foreign_keys=ON;"
    "PRAGMA cache_size=-2000;"
    "PRAGMA mmap_size=0;";

// Shape D as a fresh file: shared/notes/legacy-schema.md, verbatim.
const char* const kLegacyShapeDSchema = R"sql(
CREATE TABLE media_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT UNIQUE NOT NULL,
    parent_path TEXT NOT NULL,
    canonical_path TEXT,
    canonical_parent_path TEXT,
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
);
CREATE TABLE playlists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE NOT NULL,
    description TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE playlist_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    playlist_id INTEGER NOT NULL,
    media_file_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    FOREIGN KEY (playlist_id) REFERENCES playlists(id) ON DELETE CASCADE,
    FOREIGN KEY (media_file_id) REFERENCES media_files(id) ON DELETE CASCADE,
    UNIQUE(playlist_id, media_file_id),
    UNIQUE(playlist_id, position)
);
CREATE TABLE database_metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS idx_media_files_path ON media_files(path);
CREATE INDEX IF NOT EXISTS idx_media_files_parent_path ON media_files(parent_path);
CREATE INDEX IF NOT EXISTS idx_media_files_canonical_path ON media_files(canonical_path);
CREATE INDEX IF NOT EXISTS idx_media_files_canonical_parent_path ON media_files(canonical_parent_path);
CREATE INDEX IF NOT EXISTS idx_media_files_modified ON media_files(modified);
CREATE INDEX IF NOT EXISTS idx_media_files_mime_type ON media_files(mime_type);
CREATE INDEX IF NOT EXISTS idx_media_files_filename ON media_files(filename);
CREATE INDEX IF NOT EXISTS idx_media_files_artist ON media_files(artist);
CREATE INDEX IF NOT EXISTS idx_media_files_album ON media_files(album);
CREATE INDEX IF NOT EXISTS idx_media_files_genre ON media_files(genre);
CREATE INDEX IF NOT EXISTS idx_media_files_year ON media_files(year);
CREATE INDEX IF NOT EXISTS idx_media_files_album_artist ON media_files(album_artist);
CREATE INDEX IF NOT EXISTS idx_media_files_track_number ON media_files(track_number);
CREATE INDEX IF NOT EXISTS idx_playlist_entries_playlist_id ON playlist_entries(playlist_id);
CREATE INDEX IF NOT EXISTS idx_playlist_entries_media_file_id ON playlist_entries(media_file_id);
CREATE INDEX IF NOT EXISTS idx_playlist_entries_position ON playlist_entries(playlist_id, position);
INSERT INTO database_metadata (key, value, updated_at)
    VALUES ('schema_version', '2', CAST(strftime('%s', 'now') AS INTEGER));
)sql";

namespace {

// The legacy server's INSERT: every column but id, in declaration order.
constexpr const char* kInsertSql =
    "INSERT INTO media_files (path, parent_path, canonical_path, canonical_parent_path, "
    "filename, size, modified, mime_type, duration, title, artist, album, genre, "
    "track_number, year, album_artist, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kByPathSql = "SELECT * FROM media_files WHERE path = ?";
constexpr const char* kByIdSql = "SELECT * FROM media_files WHERE id = ?";
constexpr const char* kByParentSql =
    "SELECT * FROM media_files WHERE parent_path = ? ORDER BY filename";

void BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  // A null data pointer would bind SQL NULL; "" must stay "".
  sqlite3_bind_text(stmt, index, text.data() ? text.data() : "", static_cast<int>(text.size()),
                    SQLITE_STATIC);
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

OptText ColumnText(sqlite3_stmt* stmt, int column) {
  // column_text before column_bytes: the documented safe order.
  const unsigned char* text = sqlite3_column_text(stmt, column);
  if (text == nullptr) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(text),
                          static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
}

OptInt ColumnInt(sqlite3_stmt* stmt, int column) {
  if (sqlite3_column_type(stmt, column) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt, column);
}

// SELECT * on a fresh shape-D table: columns in declaration order.
void ReadRow(sqlite3_stmt* stmt, MediaFileFields* f) {
  f->id = sqlite3_column_int64(stmt, 0);
  f->path = ColumnText(stmt, 1).value_or(std::string_view());
  f->parent_path = ColumnText(stmt, 2);
  f->canonical_path = ColumnText(stmt, 3);
  f->canonical_parent_path = ColumnText(stmt, 4);
  f->filename = ColumnText(stmt, 5);
  f->size = sqlite3_column_int64(stmt, 6);
  f->modified = sqlite3_column_int64(stmt, 7);
  f->mime_type = ColumnText(stmt, 8);
  f->duration = ColumnInt(stmt, 9);
  f->title = ColumnText(stmt, 10);
  f->artist = ColumnText(stmt, 11);
  f->album = ColumnText(stmt, 12);
  f->genre = ColumnText(stmt, 13);
  f->track_number = ColumnInt(stmt, 14);
  f->year = ColumnInt(stmt, 15);
  f->album_artist = ColumnText(stmt, 16);
  f->created_at = sqlite3_column_int64(stmt, 17);
  f->updated_at = sqlite3_column_int64(stmt, 18);
}

sqlite3* OpenOrThrow(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw BenchError("cannot open SQLite database '" + path + "': " + message);
  }
  return db;
}

}  // namespace

std::unique_ptr<LegacyDb> LegacyDb::Create(const std::string& path) {
  sqlite3* db = OpenOrThrow(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  std::unique_ptr<LegacyDb> legacy(new LegacyDb(db, path));
  legacy->Exec(kLegacyConnectionPragmas);
  legacy->Exec(kLegacyShapeDSchema);
  legacy->insert_ = legacy->Prepare(kInsertSql);
  return legacy;
}

std::unique_ptr<LegacyDb> LegacyDb::OpenReadOnly(const std::string& path) {
  sqlite3* db = OpenOrThrow(path, SQLITE_OPEN_READONLY);
  std::unique_ptr<LegacyDb> legacy(new LegacyDb(db, path));
  legacy->Exec("PRAGMA temp_store=MEMORY; PRAGMA cache_size=-2000; PRAGMA mmap_size=0;");
  return legacy;
}

LegacyDb::~LegacyDb() {
  for (sqlite3_stmt* stmt : {insert_, by_path_, by_id_, by_parent_, artist_tracks_}) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

void LegacyDb::Fail(std::string_view what) {
  throw BenchError("SQLite (" + path_ + "): " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

sqlite3_stmt* LegacyDb::Prepare(const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    Fail(std::string("prepare '") + sql + "'");
  }
  return stmt;
}

void LegacyDb::Exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    throw BenchError("SQLite (" + path_ + "): " + message + " in: " + sql.substr(0, 200));
  }
}

void LegacyDb::Begin() { Exec("BEGIN"); }
void LegacyDb::Commit() { Exec("COMMIT"); }

int64_t LegacyDb::Insert(const MediaFileFields& f) {
  sqlite3_stmt* s = insert_;
  if (s == nullptr) throw BenchError("SQLite (" + path_ + "): database is open read-only");
  BindText(s, 1, f.path);
  BindOptText(s, 2, f.parent_path);
  BindOptText(s, 3, f.canonical_path);
  BindOptText(s, 4, f.canonical_parent_path);
  BindOptText(s, 5, f.filename);
  sqlite3_bind_int64(s, 6, f.size);
  sqlite3_bind_int64(s, 7, f.modified);
  BindOptText(s, 8, f.mime_type);
  BindOptInt(s, 9, f.duration);
  BindOptText(s, 10, f.title);
  BindOptText(s, 11, f.artist);
  BindOptText(s, 12, f.album);
  BindOptText(s, 13, f.genre);
  BindOptInt(s, 14, f.track_number);
  BindOptInt(s, 15, f.year);
  BindOptText(s, 16, f.album_artist);
  sqlite3_bind_int64(s, 17, f.created_at);
  sqlite3_bind_int64(s, 18, f.updated_at);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) Fail("insert of '" + std::string(f.path) + "'");
  return sqlite3_last_insert_rowid(db_);
}

bool LegacyDb::FindByPath(std::string_view path, MediaFileFields* out) {
  if (by_path_ == nullptr) by_path_ = Prepare(kByPathSql);
  sqlite3_reset(by_path_);
  BindText(by_path_, 1, path);
  int rc = sqlite3_step(by_path_);
  if (rc == SQLITE_ROW) {
    ReadRow(by_path_, out);
    return true;
  }
  if (rc != SQLITE_DONE) Fail("lookup by path");
  return false;
}

bool LegacyDb::FindById(int64_t id, MediaFileFields* out) {
  if (by_id_ == nullptr) by_id_ = Prepare(kByIdSql);
  sqlite3_reset(by_id_);
  sqlite3_bind_int64(by_id_, 1, id);
  int rc = sqlite3_step(by_id_);
  if (rc == SQLITE_ROW) {
    ReadRow(by_id_, out);
    return true;
  }
  if (rc != SQLITE_DONE) Fail("lookup by id");
  return false;
}

size_t LegacyDb::StepRows(sqlite3_stmt* stmt, const std::function<void(const MediaFileFields&)>& row,
                          const char* what) {
  size_t rows = 0;
  MediaFileFields fields;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    ReadRow(stmt, &fields);
    row(fields);
    ++rows;
  }
  if (rc != SQLITE_DONE) Fail(what);
  return rows;
}

size_t LegacyDb::ListDirectory(std::string_view parent,
                               const std::function<void(const MediaFileFields&)>& row) {
  if (by_parent_ == nullptr) by_parent_ = Prepare(kByParentSql);
  sqlite3_reset(by_parent_);
  BindText(by_parent_, 1, parent);
  return StepRows(by_parent_, row, "directory listing");
}

size_t LegacyDb::ListCategory(const std::string& column,
                              const std::function<void(std::string_view text, int64_t count)>& value) {
  static const char* const kColumns[] = {"artist", "album", "genre", "album_artist", "year"};
  if (std::find(std::begin(kColumns), std::end(kColumns), column) == std::end(kColumns))
    throw BenchError("no category column '" + column + "'");
  const std::string order = column == "year" ? "year DESC" : column + " COLLATE NOCASE";
  const std::string sql = "SELECT " + column + ", COUNT(*) FROM media_files WHERE mime_type LIKE 'audio/%' AND " +
                          column + " IS NOT NULL AND " + column + " != '' GROUP BY " + column + " ORDER BY " + order;
  sqlite3_stmt* stmt = Prepare(sql.c_str());
  size_t rows = 0;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const char* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    value(std::string_view(text ? text : "", static_cast<size_t>(sqlite3_column_bytes(stmt, 0))),
          sqlite3_column_int64(stmt, 1));
    ++rows;
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) Fail("category listing");
  return rows;
}

size_t LegacyDb::ListArtistTracks(std::string_view artist,
                                  const std::function<void(const MediaFileFields&)>& row) {
  if (artist_tracks_ == nullptr)
    artist_tracks_ = Prepare(
        "SELECT * FROM media_files WHERE artist = ? AND mime_type LIKE 'audio/%' "
        "ORDER BY album COLLATE NOCASE, album, track_number, filename, id");
  sqlite3_reset(artist_tracks_);
  BindText(artist_tracks_, 1, artist);
  return StepRows(artist_tracks_, row, "tracks of an artist");
}

}  // namespace zcmedia::bench
