// RowChecksum: an order-independent checksum of a table's rows, the same on
// both sides of a verification (the legacy snapshot, and the new file read
// through the extension), so that equal checksums mean equal multisets of
// rows with near certainty (2 x 64 bits of XXH3-128 summed per row).
//
// A row is fed column by column, in a fixed column order, with SQLite's
// storage class kept: 0 (INTEGER), '' (TEXT), NULL and X'' (BLOB) all differ.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <functional>
#include <vector>

struct sqlite3_stmt;

namespace zcmedia::migrate {

class RowHasher {
 public:
  void Begin() { buffer_.clear(); }
  void Null();
  void Integer(int64_t value);
  void Real(double value);
  void Text(std::string_view text);
  void Blob(std::string_view bytes);
  // Column `column` of the current row of `stmt`, by its storage class.
  void Column(sqlite3_stmt* stmt, int column);
  // Every column of the current row of `stmt`.
  void Row(sqlite3_stmt* stmt);

  struct Digest {
    uint64_t low = 0, high = 0;
    bool operator==(const Digest&) const = default;
  };
  Digest Finish() const;

 private:
  std::string buffer_;  // the row's columns, tagged; reused
};

class RowChecksum {
 public:
  void Add(const RowHasher::Digest& row) {
    ++rows_;
    low_ += row.low;
    high_ += row.high ^ (row.low * 0x9E3779B97F4A7C15ull);
  }
  // The checksum of both row sets together (checksums of disjoint parts add up).
  void Merge(const RowChecksum& other) {
    rows_ += other.rows_;
    low_ += other.low_;
    high_ += other.high_;
  }
  uint64_t rows() const { return rows_; }
  bool operator==(const RowChecksum&) const = default;
  std::string ToString() const;  // "rows=N sum=hex"

 private:
  uint64_t rows_ = 0;
  uint64_t low_ = 0;
  uint64_t high_ = 0;
};

// One row of an id-ordered walk: its id and digest.
struct KeyedDigest {
  int64_t id = 0;
  RowHasher::Digest digest;
};

// Walks two id-ordered row streams (`next` fills the next row and returns
// true, or returns false at the end) side by side and describes up to
// `limit` ids where they differ: "id 17 (other values)", "id 18 (only in
// the legacy file)", "id 19 (only in the new file)". Empty when equal.
// (How a failed verification names its first differing rows.)
std::vector<std::string> FirstDifferences(const std::function<bool(KeyedDigest*)>& legacy,
                                          const std::function<bool(KeyedDigest*)>& migrated, size_t limit);

}  // namespace zcmedia::migrate
