// Small RAII helpers over the SQLite C API for the migrator (the store
// knows nothing of SQLite; these live here, not in store/).
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "zcmedia/status.h"

namespace zcmedia::migrate {

// A prepared statement, finalized on destruction.
class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Returns the SQLite result code; the message is sqlite3_errmsg(db).
  int Prepare(sqlite3* db, const std::string& sql) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr);
    return rc_;
  }
  sqlite3_stmt* get() const { return stmt_; }
  int Step() { return rc_ = sqlite3_step(stmt_); }
  // The loop over result rows: `while (s.Next()) ...; if (s.rc() != SQLITE_DONE) error`.
  // False at the end and after any error (of Prepare too).
  bool Next() {
    if (rc_ != SQLITE_OK && rc_ != SQLITE_ROW) return false;
    return Step() == SQLITE_ROW;
  }
  // The last result code: SQLITE_DONE after the last row.
  int rc() const { return rc_; }
  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string Text(int column) const {
    const unsigned char* text = sqlite3_column_text(stmt_, column);
    return text ? std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column)) : "";
  }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

// The bytes of a TEXT (or BLOB) column without a copy. sqlite3_column_text
// would copy every value that is not NUL-terminated in place (text straight
// from a b-tree page, or a virtual table's SQLITE_STATIC result) to add the
// terminator; sqlite3_column_blob returns a TEXT value's bytes as they are.
inline std::string_view ColumnBytes(sqlite3_stmt* stmt, int column) {
  const void* data = sqlite3_column_blob(stmt, column);
  const int size = sqlite3_column_bytes(stmt, column);
  return data ? std::string_view(static_cast<const char*>(data), static_cast<size_t>(size)) : std::string_view("", 0);
}

// "name" quoted as an SQL identifier.
inline std::string QuoteIdentifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// 'text' quoted as an SQL string literal.
inline std::string QuoteLiteral(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace zcmedia::migrate
