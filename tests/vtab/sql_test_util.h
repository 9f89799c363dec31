// Helpers of the extension's tests: a SQLite connection with the zcmedia
// module registered, and results captured with their types so that two
// databases can be compared value for value.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

#include "zcmedia/sqlite_extension.h"

namespace zcmedia::test {

// One result value: its SQLite type and its bytes ("" for NULL).
struct SqlCell {
  int type = SQLITE_NULL;
  std::string bytes;
  bool operator==(const SqlCell& o) const { return type == o.type && bytes == o.bytes; }
  bool operator<(const SqlCell& o) const { return type != o.type ? type < o.type : bytes < o.bytes; }
};
using SqlRow = std::vector<SqlCell>;

// What running one statement gave: its rows, or its error.
struct SqlResult {
  int rc = SQLITE_OK;          // extended result code of the failing step, or SQLITE_OK
  std::string error;           // sqlite3_errmsg when rc != SQLITE_OK
  std::vector<SqlRow> rows;
  bool ok() const { return rc == SQLITE_OK; }
  std::string ToString(size_t max_rows = 20) const;
};

class SqlDb {
 public:
  // Opens (creating) `path`, extended result codes on, the zcmedia module
  // registered.
  explicit SqlDb(const std::string& path);
  ~SqlDb();
  SqlDb(const SqlDb&) = delete;
  SqlDb& operator=(const SqlDb&) = delete;

  // Runs every statement of `sql`, binding `params` (as text, integer or
  // NULL: see Param) to each; stops at the first error.
  struct Param {
    enum class Kind { kNull, kInt, kText, kReal } kind = Kind::kNull;
    long long i = 0;
    double d = 0;
    std::string s;
    static Param Null() { return {}; }
    static Param Int(long long v) { return {Kind::kInt, v, 0, {}}; }
    static Param Real(double v) { return {Kind::kReal, 0, v, {}}; }
    static Param Text(std::string v) { return {Kind::kText, 0, 0, std::move(v)}; }
  };
  SqlResult Run(const std::string& sql, const std::vector<Param>& params = {});
  // Run, failing the test on an error.
  std::vector<SqlRow> Rows(const std::string& sql, const std::vector<Param>& params = {});
  void Exec(const std::string& sql);
  long long Int(const std::string& sql);

  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// The legacy shape-D schema (ordinary tables, the legacy indexes, foreign
// keys on): the reference the virtual tables are compared with.
extern const std::string kLegacySchema;
// CREATE VIRTUAL TABLE statements for the three tables over store `dir`.
std::string VirtualSchema(const std::string& dir,
                          const std::vector<std::string>& kinds = {"media_files", "playlists", "playlist_entries"});

}  // namespace zcmedia::test
