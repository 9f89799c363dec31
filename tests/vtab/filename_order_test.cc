// FilenameOrder (vtab/filename_order.h): every record of a snapshot in
// SQLite's order of `filename` (BINARY, ties by id), sorted in memory or
// spilled in runs to a temporary file and merged; ascending and descending.
// Names are chosen to hit each branch of the key comparison: duplicates,
// names sharing more than the key's 29-byte prefix, a name that is a
// prefix of another (inside the key and past it), bytes above 0x7f.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../store/test_util.h"
#include "filename_order.h"
#include "zcmedia/store.h"

namespace zcmedia::vtab {
namespace {

using test::TempDir;

const std::vector<std::string>& Names() {
  static const std::vector<std::string> names = {
      "a", "A", "b", "ab", "abc", "abc.mp3", "01 - Intro.flac", "01 - Intro.flac ", "cover.jpg",
      "\xc3\xa9t\xc3\xa9.ogg", "\xff", "z",
      // 29 bytes, and longer names sharing them
      "0123456789012345678901234567x", "0123456789012345678901234567x.", "0123456789012345678901234567x.a",
      "0123456789012345678901234567x.b",
      // Share 40 bytes, differ after; and one is a prefix of the other
      "Lorem ipsum dolor sit amet, consectetur 1.flac", "Lorem ipsum dolor sit amet, consectetur 2.flac",
      "Lorem ipsum dolor sit amet, consectetur", "Lorem ipsum dolor sit amet, consectetur 1.flac.bak"};
  return names;
}

class FilenameOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Store::Open(dir_.path() + "/store", Options(), &store_).ok());
    std::mt19937 rng(11);
    WriteBatch batch;
    for (int i = 0; i < 3000; ++i) {
      const std::string& name = Names()[rng() % Names().size()];
      const std::string folder = "/m/" + std::to_string(i);
      const std::string path = folder + "/" + name;
      MediaFileFields f;
      f.path = path;
      f.parent_path = folder;
      f.filename = name;
      f.mime_type = "audio/flac";
      batch.Put(f);
      if (batch.size() >= 500) {
        ASSERT_TRUE(store_->Write(batch).ok());
      }
    }
    ASSERT_TRUE(store_->Write(batch).ok());
    // The reference: (name, id) in BINARY order (std::string compares bytes
    // as unsigned char), ties by id.
    std::unique_ptr<RecordIterator> it = store_->GetSnapshot()->NewIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next())
      expected_.emplace_back(std::string(*it->record().filename()), it->id());
    std::sort(expected_.begin(), expected_.end());
    ASSERT_EQ(expected_.size(), 3000u);
  }

  std::vector<std::pair<std::string, int64_t>> Sorted(bool descending, size_t run_keys, size_t* runs) {
    std::shared_ptr<const Snapshot> snapshot = store_->GetSnapshot();
    FilenameOrder order;
    Status s = order.Start(*snapshot, dir_.path() + "/store", descending, run_keys);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<std::pair<std::string, int64_t>> got;
    for (; order.Valid(); order.Next()) got.emplace_back(std::string(*order.Current().filename()), order.Current().id());
    *runs = order.spilled_runs();
    return got;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::vector<std::pair<std::string, int64_t>> expected_;
};

TEST_F(FilenameOrderTest, InMemoryAscendingAndDescending) {
  size_t runs = 99;
  EXPECT_EQ(Sorted(false, FilenameOrder::kRunKeys, &runs), expected_);
  EXPECT_EQ(runs, 0u);
  std::vector<std::pair<std::string, int64_t>> reversed(expected_.rbegin(), expected_.rend());
  EXPECT_EQ(Sorted(true, FilenameOrder::kRunKeys, &runs), reversed);
}

TEST_F(FilenameOrderTest, SpilledRunsMergeToTheSameOrder) {
  std::vector<std::pair<std::string, int64_t>> reversed(expected_.rbegin(), expected_.rend());
  for (size_t run_keys : {size_t{1}, size_t{7}, size_t{256}, size_t{2999}}) {
    size_t runs = 0;
    EXPECT_EQ(Sorted(false, run_keys, &runs), expected_) << "runs of " << run_keys;
    EXPECT_EQ(runs, (3000 + run_keys - 1) / run_keys) << "runs of " << run_keys;
    EXPECT_EQ(Sorted(true, run_keys, &runs), reversed) << "runs of " << run_keys;
  }
}

TEST_F(FilenameOrderTest, AnEmptyStoreHasNoRows) {
  TempDir other;
  std::unique_ptr<Store> empty;
  ASSERT_TRUE(Store::Open(other.path(), Options(), &empty).ok());
  FilenameOrder order;
  ASSERT_TRUE(order.Start(*empty->GetSnapshot(), other.path(), false, 4).ok());
  EXPECT_FALSE(order.Valid());
}

}  // namespace
}  // namespace zcmedia::vtab
