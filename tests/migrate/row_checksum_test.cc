// RowChecksum and FirstDifferences: equal multisets of rows give equal
// checksums whatever their order; a difference is found and named by id.
#include <gtest/gtest.h>

#include <vector>

#include "row_checksum.h"

namespace zcmedia::migrate {
namespace {

RowHasher::Digest DigestOf(int64_t id, const std::string& text) {
  RowHasher hasher;
  hasher.Begin();
  hasher.Integer(id);
  hasher.Text(text);
  return hasher.Finish();
}

std::function<bool(KeyedDigest*)> Stream(const std::vector<std::pair<int64_t, std::string>>& rows) {
  auto index = std::make_shared<size_t>(0);
  return [rows, index](KeyedDigest* out) {
    if (*index >= rows.size()) return false;
    const auto& [id, text] = rows[(*index)++];
    out->id = id;
    out->digest = DigestOf(id, text);
    return true;
  };
}

TEST(RowChecksumTest, OrderDoesNotMatterValuesAndTypesDo) {
  RowChecksum a, b, c;
  a.Add(DigestOf(1, "x"));
  a.Add(DigestOf(2, "y"));
  b.Add(DigestOf(2, "y"));
  b.Add(DigestOf(1, "x"));
  EXPECT_EQ(a, b);
  c.Add(DigestOf(1, "x"));
  c.Add(DigestOf(2, "z"));
  EXPECT_FALSE(a == c);

  RowHasher text, integer;
  text.Begin();
  text.Text("1");
  integer.Begin();
  integer.Integer(1);
  EXPECT_FALSE(text.Finish() == integer.Finish());
  RowHasher split1, split2;  // ("ab", "c") is not ("a", "bc")
  split1.Begin();
  split1.Text("ab");
  split1.Text("c");
  split2.Begin();
  split2.Text("a");
  split2.Text("bc");
  EXPECT_FALSE(split1.Finish() == split2.Finish());
}

TEST(RowChecksumTest, MergedPartsEqualTheWhole) {
  RowChecksum whole, low, high;
  for (int64_t id = 1; id <= 10; ++id) {
    whole.Add(DigestOf(id, "v"));
    (id <= 5 ? low : high).Add(DigestOf(id, "v"));
  }
  low.Merge(high);
  EXPECT_EQ(low, whole);
}

TEST(FirstDifferencesTest, NamesTheDifferingIds) {
  auto legacy = Stream({{1, "a"}, {2, "b"}, {3, "c"}, {5, "e"}});
  auto migrated = Stream({{1, "a"}, {2, "B"}, {4, "d"}, {5, "e"}, {6, "f"}});
  EXPECT_EQ(FirstDifferences(legacy, migrated, 10),
            (std::vector<std::string>{"id 2 (other values)", "id 3 (only in the legacy file)",
                                      "id 4 (only in the new file)", "id 6 (only in the new file)"}));
  EXPECT_TRUE(FirstDifferences(Stream({{1, "a"}}), Stream({{1, "a"}}), 10).empty());
  EXPECT_EQ(FirstDifferences(Stream({{1, "a"}, {2, "b"}, {3, "c"}}), Stream({}), 2).size(), 2u);
}

}  // namespace
}  // namespace zcmedia::migrate
