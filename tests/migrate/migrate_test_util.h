// Helpers of the migrator's tests (tests/migrate/): temporary directories,
// generated legacy files, SQLite connections with the zcmedia module whose
// results come back as comparable strings, and snapshots of directories to
// prove that a migration changed nothing it must not change.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "legacy_generator.h"
#include "zcmedia/migrate.h"
#include "zcmedia/sqlite_extension.h"

namespace zcmedia::migratetest {

using bench::LegacyShape;

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path()/name
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  // Creates path()/name (a directory) and returns it.
  std::string Subdir(const std::string& name) const;

 private:
  std::string path_;
};

// One statement parameter or result value: its SQLite type and, for
// integers and reals, its text; for text and blobs, its bytes.
struct Value {
  int type = SQLITE_NULL;
  std::string bytes;
  static Value Null() { return {}; }
  static Value Int(int64_t v) { return {SQLITE_INTEGER, std::to_string(v)}; }
  static Value Text(std::string v) { return {SQLITE_TEXT, std::move(v)}; }
  bool operator==(const Value& o) const { return type == o.type && bytes == o.bytes; }
  // NULL, 12, 'text', 1.5r, x'..'
  std::string ToString() const;
};
using Row = std::vector<Value>;
std::string RowString(const Row& row);

struct QueryResult {
  int rc = SQLITE_OK;  // extended code of the failure, or SQLITE_OK
  std::string error;
  std::vector<std::string> columns;
  std::vector<Row> rows;
  bool ok() const { return rc == SQLITE_OK; }
};

// A connection with the zcmedia module registered.
class Db {
 public:
  // `path` may be a file: URI. Default: read-write, created if missing.
  explicit Db(const std::string& path, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  sqlite3* get() const { return db_; }

  // Runs every statement of `sql` (the parameters bound to each); stops at
  // the first error.
  QueryResult Run(const std::string& sql, const std::vector<Value>& params = {});
  // Run's rows, one string each (RowString); a failure of the test on error.
  std::vector<std::string> Strings(const std::string& sql, const std::vector<Value>& params = {});
  std::vector<Row> Rows(const std::string& sql, const std::vector<Value>& params = {});
  void Exec(const std::string& sql);
  int64_t Int(const std::string& sql, const std::vector<Value>& params = {});
  std::string Text(const std::string& sql, const std::vector<Value>& params = {});

 private:
  sqlite3* db_ = nullptr;
};

// A read-only connection to a legacy file that leaves nothing next to it
// (immutable: only for files no one writes meanwhile).
std::unique_ptr<Db> OpenImmutable(const std::string& path);
// "file:/abs/path?<query>"
std::string FileUri(const std::string& path, const std::string& query);

struct GenerateSpec {
  LegacyShape shape = LegacyShape::kD;
  uint64_t rows = 3000;
  uint64_t seed = 11;
  bool windows_paths = false;
  int64_t playlists = -1;
  bool id_gaps = true;
};
bench::LegacyGenerateReport Generate(const std::string& path, const GenerateSpec& spec);
// The same for a shape D file with the unconstrained legacy tables (no
// UNIQUE, NOT NULL or foreign keys, the declared types kept): the generated
// rows copied into it, ready for rows that break the constraints.
void GenerateUnconstrained(const std::string& path, const GenerateSpec& spec);

bool Exists(const std::string& path);
std::string ReadBytes(const std::string& path);
// Every regular file below `dir` (relative name -> bytes) and every
// directory (name -> "<dir>").
std::map<std::string, std::string> Snapshot(const std::string& dir);
// Equal snapshots, or which names were added, removed or changed.
::testing::AssertionResult SameSnapshot(const std::map<std::string, std::string>& before,
                                        const std::map<std::string, std::string>& after);
// The names directly in `dir`, sorted.
std::vector<std::string> ListDir(const std::string& dir);

// Compares two row lists, reporting their sizes and the first difference.
::testing::AssertionResult SameRows(const std::vector<std::string>& want, const std::vector<std::string>& got);
::testing::AssertionResult Contains(const std::string& text, const std::string& part);

// The legacy server's canonical form, written for the tests independently
// of zcmedia::migrate::CanonicalForm: Unix paths unchanged; Windows paths
// (drive letter or UNC) lower-cased by the C library's Unicode tables (the
// Latin letters the server's to_lowercase changes alike) with '\' as '/'.
std::string ExpectedCanonical(const std::string& path);

migrate::MigrateOptions Options(const std::string& legacy, const std::string& output);

}  // namespace zcmedia::migratetest
