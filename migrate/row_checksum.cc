#include "row_checksum.h"

#include <sqlite3.h>
#include <xxhash.h>

#include <cstdio>
#include <cstring>

#include "sqlite_util.h"

namespace zcmedia::migrate {
namespace {

enum Tag : char { kNull = 'N', kInteger = 'I', kReal = 'R', kText = 'T', kBlob = 'B' };

// Host byte order: a checksum is only ever compared within one process.
void AppendFixed(std::string* out, uint64_t value) {
  char bytes[8];
  std::memcpy(bytes, &value, sizeof value);
  out->append(bytes, 8);
}

}  // namespace

void RowHasher::Null() { buffer_.push_back(kNull); }

void RowHasher::Integer(int64_t value) {
  buffer_.push_back(kInteger);
  AppendFixed(&buffer_, static_cast<uint64_t>(value));
}

void RowHasher::Real(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  buffer_.push_back(kReal);
  AppendFixed(&buffer_, bits);
}

void RowHasher::Text(std::string_view text) {
  buffer_.push_back(kText);
  AppendFixed(&buffer_, text.size());  // the length keeps ("ab","c") apart from ("a","bc")
  buffer_.append(text);
}

void RowHasher::Blob(std::string_view bytes) {
  buffer_.push_back(kBlob);
  AppendFixed(&buffer_, bytes.size());
  buffer_.append(bytes);
}

void RowHasher::Column(sqlite3_stmt* stmt, int column) {
  switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_NULL:
      Null();
      break;
    case SQLITE_INTEGER:
      Integer(sqlite3_column_int64(stmt, column));
      break;
    case SQLITE_FLOAT:
      Real(sqlite3_column_double(stmt, column));
      break;
    case SQLITE_TEXT:
      Text(ColumnBytes(stmt, column));
      break;
    default:
      Blob(ColumnBytes(stmt, column));
      break;
  }
}

void RowHasher::Row(sqlite3_stmt* stmt) {
  Begin();
  const int columns = sqlite3_column_count(stmt);
  for (int i = 0; i < columns; ++i) Column(stmt, i);
}

RowHasher::Digest RowHasher::Finish() const {
  XXH128_hash_t hash = XXH3_128bits(buffer_.data(), buffer_.size());
  return {hash.low64, hash.high64};
}

std::string RowChecksum::ToString() const {
  char text[80];
  std::snprintf(text, sizeof text, "rows=%llu sum=%016llx%016llx", static_cast<unsigned long long>(rows_),
                static_cast<unsigned long long>(high_), static_cast<unsigned long long>(low_));
  return text;
}

std::vector<std::string> FirstDifferences(const std::function<bool(KeyedDigest*)>& legacy,
                                          const std::function<bool(KeyedDigest*)>& migrated, size_t limit) {
  std::vector<std::string> out;
  KeyedDigest a, b;
  bool has_a = legacy(&a), has_b = migrated(&b);
  while ((has_a || has_b) && out.size() < limit) {
    if (has_a && (!has_b || a.id < b.id)) {
      out.push_back("id " + std::to_string(a.id) + " (only in the legacy file)");
      has_a = legacy(&a);
    } else if (has_b && (!has_a || b.id < a.id)) {
      out.push_back("id " + std::to_string(b.id) + " (only in the new file)");
      has_b = migrated(&b);
    } else {
      if (!(a.digest == b.digest)) out.push_back("id " + std::to_string(a.id) + " (other values)");
      has_a = legacy(&a);
      has_b = migrated(&b);
    }
  }
  return out;
}

}  // namespace zcmedia::migrate
