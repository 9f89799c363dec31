// SortRows (vtab/plan.h): the order a cursor hands rows over in when its
// plan consumes the ORDER BY, for small results (keys worked out once) and
// large ones (sorted in place, no copy of the keys).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "plan.h"

namespace zcmedia::vtab {
namespace {

struct Row {
  int64_t a;
  int64_t b;
};

SqlValue ColumnOf(const Row& r, int column) {
  if (column == 0) return SqlValue::Int(r.a);
  if (column == 1) return r.b < 0 ? SqlValue::Null() : SqlValue::Int(r.b);
  return SqlValue::Null();
}

void ExpectOrdered(const std::vector<Row>& rows, const std::vector<OrderTerm>& order) {
  for (size_t i = 1; i < rows.size(); ++i) {
    int c = 0;
    for (const OrderTerm& t : order) {
      c = Compare(ColumnOf(rows[i - 1], t.column), ColumnOf(rows[i], t.column));
      if (c != 0) {
        if (t.desc) c = -c;
        break;
      }
    }
    ASSERT_LE(c, 0) << "rows " << i - 1 << " and " << i << " out of order";
  }
}

TEST(SortRowsTest, SmallAndLargeResultsComeInTheOrderByOrder) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{1000}, kMaxSortKeys}) {  // the last sorts in place
    std::mt19937 rng(static_cast<uint32_t>(n));
    std::vector<Row> rows(n);
    for (Row& r : rows) r = {static_cast<int64_t>(rng() % 50), static_cast<int64_t>(rng() % 20) - 3};
    const std::vector<OrderTerm> order = {{0, false}, {1, true}};
    std::vector<Row> sorted = rows;
    SortRows(&sorted, order, ColumnOf);
    ASSERT_EQ(sorted.size(), rows.size());
    ExpectOrdered(sorted, order);
    // A permutation of the input: the multiset of rows is unchanged.
    auto key = [](const Row& r) { return r.a * 1000 + r.b; };
    std::vector<int64_t> before, after;
    for (const Row& r : rows) before.push_back(key(r));
    for (const Row& r : sorted) after.push_back(key(r));
    std::sort(before.begin(), before.end());
    std::sort(after.begin(), after.end());
    EXPECT_EQ(before, after) << n << " rows";
  }
}

}  // namespace
}  // namespace zcmedia::vtab
