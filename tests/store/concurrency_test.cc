// Threads of one process: one writer committing batches while reader
// threads take snapshots and check that each is a consistent committed
// state (whole batches only, counts matching what can be read, a snapshot
// never changing while held). Also run under ThreadSanitizer (README).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "test_util.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using test::OwnedRecord;
using test::TempDir;

constexpr int kBatchSize = 50;

// Batch b holds records whose path encodes (b, i); every record of batch b
// carries size == b, so a snapshot can check that batches are whole.
OwnedRecord BatchRecord(int batch, int i) {
  OwnedRecord r = OwnedRecord::Sample(batch * kBatchSize + i);
  r.path = "/threads/b" + std::to_string(batch) + "/f" + std::to_string(i) + ".flac";
  r.parent_path = "/threads/b" + std::to_string(batch);
  r.filename = "f" + std::to_string(i) + ".flac";
  r.canonical_path = r.path;
  r.canonical_parent_path = r.parent_path;
  r.size = batch;
  return r;
}

TEST(ConcurrencyTest, ReaderThreadsSeeWholeBatchesWhileTheWriterCommits) {
  TempDir dir;
  Options options;
  options.memory_budget = 1 << 20;  // checkpoints and run merges during the test
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), options, &store).ok());

  constexpr int kBatches = 120;
  std::atomic<bool> done{false};
  std::atomic<int> snapshots_checked{0};
  std::atomic<int> failures{0};

  auto reader = [&](int seed) {
    uint64_t last_seen = 0;
    while (!done.load() || snapshots_checked.load() < 50) {
      auto snap = store->GetSnapshot();
      const uint64_t count = snap->record_count();
      if (count % kBatchSize != 0 || count < last_seen) ++failures;
      last_seen = count;
      // Every committed batch is there whole: a directory listing per batch
      // and an iteration agree with the count.
      const int batches = static_cast<int>(count / kBatchSize);
      std::vector<MediaFileView> listing;
      const int probe = batches > 0 ? (seed * 7919 + snapshots_checked.load()) % batches : 0;
      if (batches > 0) {
        if (!snap->ListDirectory("/threads/b" + std::to_string(probe), &listing).ok() ||
            listing.size() != static_cast<size_t>(kBatchSize))
          ++failures;
        for (const MediaFileView& v : listing)
          if (v.size() != probe) ++failures;
      }
      uint64_t iterated = 0;
      auto it = snap->NewIterator();
      for (it->SeekToFirst(); it->Valid(); it->Next()) ++iterated;
      if (!it->status().ok() || iterated != count) ++failures;
      // The same snapshot, read again, still says the same.
      if (snap->record_count() != count) ++failures;
      ++snapshots_checked;
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) readers.emplace_back(reader, r);

  for (int b = 0; b < kBatches; ++b) {
    std::vector<OwnedRecord> recs;
    for (int i = 0; i < kBatchSize; ++i) recs.push_back(BatchRecord(b, i));
    WriteBatch batch;
    for (const auto& r : recs) batch.Put(r.fields());
    ASSERT_TRUE(store->Write(batch).ok());
    if (b % 40 == 39) {
      ASSERT_TRUE(store->CompactIndexes().ok());
    }
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(snapshots_checked.load(), 50);
  EXPECT_EQ(store->GetSnapshot()->record_count(), uint64_t{kBatches} * kBatchSize);
}

}  // namespace
}  // namespace zcmedia
