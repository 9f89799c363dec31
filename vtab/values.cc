#include "values.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace zcmedia::vtab {

int Compare(const SqlValue& a, const SqlValue& b) {
  if (a.type != b.type) return static_cast<int>(a.type) < static_cast<int>(b.type) ? -1 : 1;
  switch (a.type) {
    case SqlValue::Type::kNull: return 0;
    case SqlValue::Type::kInt: return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
    case SqlValue::Type::kText: {
      const int c = a.s.compare(b.s);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
  return 0;
}

namespace {
std::optional<int64_t> ExactFromDouble(double d) {
  if (!std::isfinite(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0) return std::nullopt;
  const int64_t i = static_cast<int64_t>(d);
  if (static_cast<double>(i) != d) return std::nullopt;
  return i;
}
}  // namespace

std::optional<int64_t> AsExactInteger(sqlite3_value* value) {
  switch (sqlite3_value_type(value)) {
    case SQLITE_INTEGER:
      return sqlite3_value_int64(value);
    case SQLITE_FLOAT:
      return ExactFromDouble(sqlite3_value_double(value));
    case SQLITE_TEXT: {
      // Numeric affinity: text that is a well-formed number (surrounding
      // spaces allowed) converts; anything else stays text and equals no
      // integer.
      const char* text = reinterpret_cast<const char*>(sqlite3_value_text(value));
      if (text == nullptr) return std::nullopt;
      std::string t = text;
      while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
      size_t start = 0;
      while (start < t.size() && std::isspace(static_cast<unsigned char>(t[start]))) ++start;
      t = t.substr(start);
      if (t.empty()) return std::nullopt;
      char* end = nullptr;
      errno = 0;
      const long long i = std::strtoll(t.c_str(), &end, 10);
      if (errno == 0 && end == t.c_str() + t.size()) return static_cast<int64_t>(i);
      end = nullptr;
      const double d = std::strtod(t.c_str(), &end);
      if (end != t.c_str() + t.size() || std::strpbrk(t.c_str(), "xXnN") != nullptr) return std::nullopt;
      return ExactFromDouble(d);
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::string> AsText(sqlite3_value* value) {
  const int type = sqlite3_value_type(value);
  if (type == SQLITE_NULL || type == SQLITE_BLOB) return std::nullopt;
  const unsigned char* text = sqlite3_value_text(value);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_value_bytes(value)));
}

int ColumnNamed(const char* const* names, int count, std::string_view name) {
  for (int i = 0; i < count; ++i)
    if (name == names[i]) return i;
  return -1;
}

}  // namespace zcmedia::vtab
