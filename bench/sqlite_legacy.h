// LegacyDb: the legacy server's SQLite database (shape D, schema_version '2'),
// as the baseline the store is measured against. The DDL, the connection
// PRAGMAs and the 18-column INSERT are the legacy server's own (see
// shared/notes/legacy-schema.md), so its costs are what servers pay today.
//
// Errors throw BenchError with SQLite's message. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "zcmedia/media_file.h"

struct sqlite3;
struct sqlite3_stmt;

namespace zcmedia::bench {

class LegacyDb {
 public:
  // Creates a fresh database at `path` (which must not exist) with every
  // table and index of shape D and the database_metadata row.
  static std::unique_ptr<LegacyDb> Create(const std::string& path);
  // Opens an existing database read-only, with the default 2 MB page cache.
  static std::unique_ptr<LegacyDb> OpenReadOnly(const std::string& path);

  ~LegacyDb();
  LegacyDb(const LegacyDb&) = delete;
  LegacyDb& operator=(const LegacyDb&) = delete;

  void Begin();
  void Commit();

  // The legacy INSERT of one row (every column but id); returns the new id.
  int64_t Insert(const MediaFileFields& f);

  // Point lookups reading all 19 columns. *out holds views into SQLite's
  // row buffer: valid until the next call on this LegacyDb.
  bool FindByPath(std::string_view path, MediaFileFields* out);
  bool FindById(int64_t id, MediaFileFields* out);
  // `SELECT * FROM media_files WHERE parent_path=? ORDER BY filename`; calls
  // `row` for each result row (views valid during the call). Returns the
  // number of rows.
  size_t ListDirectory(std::string_view parent, const std::function<void(const MediaFileFields&)>& row);

  // The legacy category listing: `SELECT <column>, COUNT(*) FROM media_files
  // WHERE mime_type LIKE 'audio/%' AND <column> IS NOT NULL AND <column> != ''
  // GROUP BY <column> ORDER BY <column> COLLATE NOCASE` (years: ORDER BY year
  // DESC). `column` is artist, album, genre, album_artist or year. Calls
  // `value` per row (the text is a view valid during the call); returns the
  // number of rows.
  size_t ListCategory(const std::string& column,
                      const std::function<void(std::string_view text, int64_t count)>& value);
  // The tracks of one artist: `SELECT * FROM media_files WHERE artist = ? AND
  // mime_type LIKE 'audio/%' ORDER BY album COLLATE NOCASE, album,
  // track_number, filename, id` (the store's order, spelled out in SQL).
  size_t ListArtistTracks(std::string_view artist, const std::function<void(const MediaFileFields&)>& row);

  // Runs one SQL statement that returns no rows.
  void Exec(const std::string& sql);

  sqlite3* handle() { return db_; }

 private:
  LegacyDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3_stmt* Prepare(const char* sql);
  // Steps a bound statement to the end, calling `row` per result row (all
  // 19 columns); returns the row count. Fails with `what` on an error.
  size_t StepRows(sqlite3_stmt* stmt, const std::function<void(const MediaFileFields&)>& row, const char* what);
  [[noreturn]] void Fail(std::string_view what);

  sqlite3* db_ = nullptr;
  std::string path_;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* by_path_ = nullptr;
  sqlite3_stmt* by_id_ = nullptr;
  sqlite3_stmt* by_parent_ = nullptr;
  sqlite3_stmt* artist_tracks_ = nullptr;
};

// The legacy connection settings and schema, exposed for tests and docs.
extern const char* const kLegacyConnectionPragmas;
extern const char* const kLegacyShapeDSchema;

}  // namespace zcmedia::bench
