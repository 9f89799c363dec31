// Helpers of the playlist-table and table-function tests: a connection with
// the extension registered, query results with their SQL types, and query
// plans.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "zcmedia/sqlite_extension.h"

namespace zcmedia::sqltest {

// One result value with its SQL type (INTEGER 1 and REAL 1.0 and TEXT '1'
// differ).
struct Value {
  int type = SQLITE_NULL;
  int64_t i = 0;
  double d = 0;
  std::string s;
  bool operator==(const Value& o) const {
    return type == o.type && i == o.i && d == o.d && s == o.s;
  }
  bool operator<(const Value& o) const {
    if (type != o.type) return type < o.type;
    if (i != o.i) return i < o.i;
    if (d != o.d) return d < o.d;
    return s < o.s;
  }
};
using Row = std::vector<Value>;

inline std::ostream& operator<<(std::ostream& out, const Value& v) {
  switch (v.type) {
    case SQLITE_NULL: return out << "NULL";
    case SQLITE_INTEGER: return out << v.i;
    case SQLITE_FLOAT: return out << v.d << "(real)";
    default: return out << "'" << v.s << "'";
  }
}

inline std::string ToString(const std::vector<Row>& rows) {
  std::ostringstream out;
  for (const Row& r : rows) {
    out << "  (";
    for (size_t i = 0; i < r.size(); ++i) out << (i ? ", " : "") << r[i];
    out << ")\n";
  }
  return out.str();
}

// A connection (in memory unless a file is given) with zcmedia registered.
class Db {
 public:
  explicit Db(const std::string& file = ":memory:") {
    EXPECT_EQ(sqlite3_open(file.c_str(), &db_), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(zcmedia_register(db_, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  sqlite3* get() const { return db_; }

  // Runs `sql` (several statements allowed); SQLITE_OK or the error code,
  // with the message in *message.
  int Exec(const std::string& sql, std::string* message = nullptr) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (message != nullptr) *message = err ? err : "";
    sqlite3_free(err);
    return rc;
  }
  void MustExec(const std::string& sql) {
    std::string message;
    ASSERT_EQ(Exec(sql, &message), SQLITE_OK) << sql << ": " << message;
  }

  // The rows of one statement. On an error: *rc and *message say which.
  std::vector<Row> Query(const std::string& sql, int* rc = nullptr, std::string* message = nullptr) {
    std::vector<Row> rows;
    sqlite3_stmt* stmt = nullptr;
    int code = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    while (code == SQLITE_OK || code == SQLITE_ROW) {
      code = sqlite3_step(stmt);
      if (code != SQLITE_ROW) break;
      Row row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        Value v;
        v.type = sqlite3_column_type(stmt, c);
        if (v.type == SQLITE_INTEGER) v.i = sqlite3_column_int64(stmt, c);
        else if (v.type == SQLITE_FLOAT) v.d = sqlite3_column_double(stmt, c);
        else if (v.type != SQLITE_NULL)
          v.s.assign(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)),
                     static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
        row.push_back(std::move(v));
      }
      rows.push_back(std::move(row));
    }
    if (code == SQLITE_DONE) code = SQLITE_OK;
    if (rc != nullptr) *rc = code;
    if (message != nullptr) *message = code == SQLITE_OK ? "" : sqlite3_errmsg(db_);
    if (rc == nullptr) {
      EXPECT_EQ(code, SQLITE_OK) << sql << ": " << sqlite3_errmsg(db_);
    }
    sqlite3_finalize(stmt);
    return rows;
  }

  // EXPLAIN QUERY PLAN, one detail per line.
  std::string Plan(const std::string& sql) {
    std::string out;
    for (const Row& r : Query("EXPLAIN QUERY PLAN " + sql)) out += r.back().s + "\n";
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace zcmedia::sqltest
