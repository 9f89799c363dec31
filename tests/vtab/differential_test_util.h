// Differential testing of the zcmedia virtual tables against SQLite itself
// (../shared/notes/vtab-techniques.md B1): the same seeded rows go into a
// store (read through `media_files` USING zcmedia) and into an ordinary
// SQLite table `media_files` with the legacy shape-D schema and its indexes,
// identical rows and ids, each in its own connection, so one SQL text runs
// unchanged on both and the ordinary table's answer is the reference.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "zcmedia/media_file.h"

namespace zcmedia::vtabtest {

// The legacy columns in declaration order, with what they hold.
struct ColumnInfo {
  const char* name;
  bool integer;   // INTEGER affinity (else TEXT)
  bool nullable;  // the legacy schema allows NULL
};
constexpr int kColumnCount = 19;
extern const ColumnInfo kColumns[kColumnCount];
int ColumnIndex(const std::string& name);  // -1 when unknown

// One SQL value: a parameter, a literal, or a result cell.
struct Value {
  int type = SQLITE_NULL;  // SQLITE_NULL, SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB
  int64_t i = 0;
  double d = 0;
  std::string s;  // text or blob bytes

  static Value Null() { return {}; }
  static Value Int(int64_t v) { return {SQLITE_INTEGER, v, 0, {}}; }
  static Value Real(double v) { return {SQLITE_FLOAT, 0, v, {}}; }
  static Value Text(std::string v) { return {SQLITE_TEXT, 0, 0, std::move(v)}; }
  static Value Blob(std::string v) { return {SQLITE_BLOB, 0, 0, std::move(v)}; }
  // As a SQL literal ('it''s', 5, 5.0, NULL, X'00ff').
  std::string Literal() const;
  // For messages: the literal, with bytes outside printable ASCII escaped.
  std::string Describe() const;
};
bool operator==(const Value& a, const Value& b);
// A total order over values for sorting rows (by type, then value, text by bytes).
bool operator<(const Value& a, const Value& b);

// One media_files row, owning its strings.
struct MediaRow {
  int64_t id = 0;
  std::string path;
  std::string parent_path;
  std::optional<std::string> canonical_path, canonical_parent_path;
  std::string filename;
  int64_t size = 0, modified = 0;
  std::string mime_type;
  std::optional<int64_t> duration;
  std::optional<std::string> title, artist, album, genre;
  std::optional<int64_t> track_number, year;
  std::optional<std::string> album_artist;
  int64_t created_at = 0, updated_at = 0;

  MediaFileFields Fields() const;  // views into this row
  Value Column(int column) const;  // by kColumns index
};

struct DataSetOptions {
  uint64_t seed = 1;
  int rows = 2500;
  // Some rows get Windows-style canonical columns (lower case, '\' as '/'):
  // the store's noncanonical_files total is then non-zero and the
  // canonical-column plans must not be used.
  bool noncanonical = false;
};

// Seeded rows stressing the edges: NULL in every nullable column, empty
// strings, NOCASE-equal variants ("Beatles"/"beatles"/"BEATLES"), UTF-8,
// paths over 1 KiB, a directory holding a fifth of the rows, mime types in
// odd cases ('Audio/MPEG') and of every family, canonical columns equal to
// the originals or NULL (or, with `noncanonical`, different), negative and
// huge integers, years 0 and NULL, ids with gaps and some very large ones.
std::vector<MediaRow> GenerateMediaRows(const DataSetOptions& options);

// Writes the rows into a new store in `directory` (with their ids).
void LoadStore(const std::string& directory, const std::vector<MediaRow>& rows);
// Creates the legacy shape-D media_files table with its indexes in `db` and
// inserts the rows (same ids).
void LoadReference(sqlite3* db, const std::vector<MediaRow>& rows);

struct QueryResult {
  int rc = SQLITE_OK;  // the first error of prepare/step, or SQLITE_OK
  std::string error;
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
  bool done = false;  // the statement ran to its end
};
QueryResult RunQuery(sqlite3* db, const std::string& sql, const std::vector<Value>& params = {});
// The same with a prepared statement, reset and bound again (the cursors'
// state must not leak from one run into the next). Steps at most
// `max_rows` rows (the statement stays where it is: a caller may go on
// with RunPrepared(..., resume=true)).
QueryResult RunPrepared(sqlite3_stmt* st, const std::vector<Value>& params, size_t max_rows = SIZE_MAX,
                        bool resume = false);

// How two results must agree.
struct Expectation {
  // The statement has an ORDER BY: rows come in groups of equal keys (the
  // result columns below, `nocase` ones compared ASCII case-folded) in the
  // same order; inside a group any order. With no keys the whole result is
  // one group (a multiset comparison). Keys that make the order total
  // (e.g. ending in id) give an ordered comparison.
  struct Key {
    int column;
    bool nocase = false;
  };
  std::vector<Key> keys;
  // LIMIT/OFFSET may cut through a group of ties: the first and the last
  // group are compared by key and size only.
  bool partial_edges = false;
  // LIMIT without a total ORDER BY: any rows of the full result may come;
  // only the number of rows is compared here (the caller checks membership).
  bool count_only = false;
  // Result columns holding group_concat(..., char(31)): compared as
  // multisets of their pieces (the concatenation order is unspecified).
  std::vector<int> concat_columns;
};

// `row` as SameResults compares it (group_concat pieces sorted).
std::vector<Value> NormalizedRow(std::vector<Value> row, const Expectation& expectation);

// Compares `got` (the virtual table's) with `want` (the reference's): the
// same error code, or the same column count and rows, values and
// sqlite3_column_type per cell, text byte for byte (reals to 1e-9 relative:
// sums in a different order). On a mismatch the message holds the SQL, the
// parameters and the first differing rows.
::testing::AssertionResult SameResults(const QueryResult& want, const QueryResult& got, const std::string& sql,
                                       const std::vector<Value>& params, const Expectation& expectation);

// The two databases over one data set.
class DifferentialDb {
 public:
  // Loads `rows` into a store in a new temporary directory and into the
  // reference; ok() says whether that worked (error() why not).
  explicit DifferentialDb(std::vector<MediaRow> rows);
  ~DifferentialDb();
  DifferentialDb(const DifferentialDb&) = delete;
  DifferentialDb& operator=(const DifferentialDb&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  sqlite3* vtab() const { return vtab_; }
  sqlite3* ref() const { return ref_; }
  const std::vector<MediaRow>& rows() const { return rows_; }
  const std::string& store_dir() const { return dir_; }

  // Runs `sql` on both connections and compares (SameResults).
  ::testing::AssertionResult Check(const std::string& sql, const std::vector<Value>& params = {},
                                   const Expectation& expectation = {});
  // Statements compared so far.
  int64_t checked() const { return checked_; }

 private:
  std::vector<MediaRow> rows_;
  std::string dir_;
  std::string error_;
  sqlite3* vtab_ = nullptr;
  sqlite3* ref_ = nullptr;
  int64_t checked_ = 0;
};

// The EXPLAIN QUERY PLAN details of `sql`, one line each.
std::string QueryPlan(sqlite3* db, const std::string& sql);

// The seeded randomness of the generators and the statement makers.
class Rng {
 public:
  explicit Rng(uint64_t seed) : rng_(seed) {}
  int64_t Int(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[static_cast<size_t>(Int(0, static_cast<int64_t>(v.size()) - 1))]; }
  std::mt19937_64& engine() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

// ASCII letters folded, as SQLite's NOCASE and LIKE fold them.
std::string Lower(std::string s);
std::string Upper(std::string s);

// ZCMEDIA_TEST_SCALE (a positive number, default 1): statement counts are
// multiplied by it.
double TestScale();
// Seeds for the randomised tests: ZCMEDIA_TEST_SEED if set, else `defaults`.
std::vector<uint64_t> TestSeeds(std::vector<uint64_t> defaults);

}  // namespace zcmedia::vtabtest
