// How the SQL tests (tests/vtab/, tests/migrate/) capture a result value so
// that two databases can be compared value for value.
#pragma once

#include <sqlite3.h>

#include <cstdio>
#include <string>

namespace zcmedia::test {

// Column `c` of `stmt`'s current row: *type its SQLite storage class,
// *bytes its value (integers and reals as text, reals with 17 significant
// digits; text and blobs byte for byte; "" for NULL).
inline void CaptureColumn(sqlite3_stmt* stmt, int c, int* type, std::string* bytes) {
  *type = sqlite3_column_type(stmt, c);
  bytes->clear();
  if (*type == SQLITE_INTEGER) {
    *bytes = std::to_string(sqlite3_column_int64(stmt, c));
  } else if (*type == SQLITE_FLOAT) {
    char text[40];
    std::snprintf(text, sizeof text, "%.17g", sqlite3_column_double(stmt, c));
    *bytes = text;
  } else if (*type != SQLITE_NULL) {
    const void* data = *type == SQLITE_BLOB ? sqlite3_column_blob(stmt, c) : sqlite3_column_text(stmt, c);
    bytes->assign(static_cast<const char*>(data ? data : ""), static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
  }
}

}  // namespace zcmedia::test
