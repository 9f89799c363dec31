// SQL values as the tables compare and convert them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sqlite_api.h"

namespace zcmedia::vtab {

// A column value for sorting: NULL, INTEGER or TEXT (the store holds no
// other types), compared as SQLite does with BINARY collation: NULL first,
// then integers, then text by bytes.
struct SqlValue {
  enum class Type { kNull, kInt, kText } type = Type::kNull;
  int64_t i = 0;
  std::string_view s;

  static SqlValue Null() { return {}; }
  static SqlValue Int(int64_t v) { return {Type::kInt, v, {}}; }
  static SqlValue Text(std::string_view v) { return {Type::kText, 0, v}; }
  static SqlValue OptInt(const std::optional<int64_t>& v) { return v ? Int(*v) : Null(); }
  static SqlValue OptText(const std::optional<std::string_view>& v) { return v ? Text(*v) : Null(); }
};
int Compare(const SqlValue& a, const SqlValue& b);

// `value` as an INTEGER column compares it (numeric affinity): integers as
// they are, reals and numeric text only when they hold an exact integer.
// nullopt: no integer equals it (NULL, blobs, 1.5, 'abc').
std::optional<int64_t> AsExactInteger(sqlite3_value* value);

// `value` as a TEXT column compares it (text affinity: numbers become their
// text). nullopt for NULL and blobs, which equal no text.
std::optional<std::string> AsText(sqlite3_value* value);

// The index of `name` in `names`, or -1.
int ColumnNamed(const char* const* names, int count, std::string_view name);

}  // namespace zcmedia::vtab
