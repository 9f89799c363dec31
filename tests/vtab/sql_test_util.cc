#include "sql_test_util.h"

#include <gtest/gtest.h>

#include <sstream>

#include "sqlite_capture.h"
#include "sqlite_legacy.h"

namespace zcmedia::test {

const std::string kLegacySchema = std::string(bench::kLegacyShapeDSchema) + "PRAGMA foreign_keys = ON;";

std::string VirtualSchema(const std::string& dir, const std::vector<std::string>& kinds) {
  std::string out;
  for (const std::string& kind : kinds)
    out += std::string("CREATE VIRTUAL TABLE ") + kind + " USING zcmedia(store='" + dir + "', kind='" + kind + "');";
  return out;
}

std::string SqlResult::ToString(size_t max_rows) const {
  std::ostringstream o;
  if (!ok()) o << "error " << rc << ": " << error << "\n";
  o << rows.size() << " rows\n";
  for (size_t i = 0; i < rows.size() && i < max_rows; ++i) {
    for (const SqlCell& c : rows[i]) {
      if (c.type == SQLITE_NULL) o << "NULL";
      else if (c.type == SQLITE_TEXT) o << "'" << c.bytes << "'";
      else o << c.bytes << (c.type == SQLITE_FLOAT ? "f" : "");
      o << " | ";
    }
    o << "\n";
  }
  return o.str();
}

SqlDb::SqlDb(const std::string& path) {
  EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK) << path;
  sqlite3_extended_result_codes(db_, 1);
  char* err = nullptr;
  EXPECT_EQ(zcmedia_register(db_, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
}

SqlDb::~SqlDb() { sqlite3_close_v2(db_); }

SqlResult SqlDb::Run(const std::string& sql, const std::vector<Param>& params) {
  SqlResult result;
  const char* tail = sql.c_str();
  while (tail != nullptr && *tail != '\0') {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, tail, -1, &stmt, &tail);
    if (rc != SQLITE_OK) {
      result.rc = sqlite3_extended_errcode(db_);
      result.error = sqlite3_errmsg(db_);
      return result;
    }
    if (stmt == nullptr) continue;  // whitespace or a comment
    const int n = sqlite3_bind_parameter_count(stmt);
    for (int i = 0; i < n && i < static_cast<int>(params.size()); ++i) {
      const Param& p = params[i];
      switch (p.kind) {
        case Param::Kind::kNull: sqlite3_bind_null(stmt, i + 1); break;
        case Param::Kind::kInt: sqlite3_bind_int64(stmt, i + 1, p.i); break;
        case Param::Kind::kReal: sqlite3_bind_double(stmt, i + 1, p.d); break;
        case Param::Kind::kText: sqlite3_bind_text(stmt, i + 1, p.s.data(), static_cast<int>(p.s.size()), SQLITE_TRANSIENT); break;
      }
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      SqlRow row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        SqlCell cell;
        CaptureColumn(stmt, c, &cell.type, &cell.bytes);
        row.push_back(std::move(cell));
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

std::vector<SqlRow> SqlDb::Rows(const std::string& sql, const std::vector<Param>& params) {
  SqlResult r = Run(sql, params);
  EXPECT_TRUE(r.ok()) << sql << "\n" << r.ToString();
  return r.rows;
}

void SqlDb::Exec(const std::string& sql) {
  SqlResult r = Run(sql);
  ASSERT_TRUE(r.ok()) << sql << "\n" << r.ToString();
}

long long SqlDb::Int(const std::string& sql) {
  std::vector<SqlRow> rows = Rows(sql);
  if (rows.empty() || rows[0].empty() || rows[0][0].type != SQLITE_INTEGER) {
    ADD_FAILURE() << sql << " gave no integer";
    return -1;
  }
  return std::stoll(rows[0][0].bytes);
}

}  // namespace zcmedia::test
