// Index runs: the k-way merge (newest entry per identity wins, tombstones
// dropped only when asked) against a reference map, for every fan-in the
// store uses and more; and lookups through the key directory against a
// binary search, on memory runs and run files.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "index_run.h"
#include "test_util.h"

namespace zcmedia {
namespace {

using format::kTombstone;

std::vector<RunEntry> RandomRun(std::mt19937_64& rng, uint32_t kind, size_t n, uint64_t key_space) {
  std::map<std::pair<uint64_t, uint64_t>, RunEntry> by_identity;
  for (size_t i = 0; i < n; ++i) {
    RunEntry e{rng() % key_space + 1, (rng() % 50 + 1) | ((rng() % 4 == 0) ? kTombstone : 0)};
    by_identity[{e.key, EntryIdentity(kind, e)}] = e;
  }
  std::vector<RunEntry> out;
  for (auto& [id, e] : by_identity) out.push_back(e);
  return out;
}

TEST(IndexRunTest, MergeKeepsNewestPerIdentityForEveryFanIn) {
  std::mt19937_64 rng(7);
  for (uint32_t kind : {format::kIdIndex, format::kPathIndex}) {
    for (size_t k : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 17, 40}) {  // loser tree: powers of two and padding
      for (bool drop : {false, true}) {
        std::vector<RunPtr> runs;  // newest first
        for (size_t i = 0; i < k; ++i)
          runs.push_back(std::make_shared<zcmedia::Run>(kind, RandomRun(rng, kind, 1 + rng() % 300, 200)));
        // Reference: apply oldest to newest into a map.
        std::map<std::pair<uint64_t, uint64_t>, RunEntry> want;
        for (size_t i = k; i-- > 0;)
          for (const RunEntry& e : *runs[i]) want[{e.key, EntryIdentity(kind, e)}] = e;
        std::vector<RunEntry> expected;
        for (auto& [id, e] : want)
          if (!(drop && (e.value & kTombstone))) expected.push_back(e);
        std::vector<RunEntry> got;
        MergeRuns(kind, runs, drop, [&](const RunEntry& e) { got.push_back(e); });
        ASSERT_EQ(got.size(), expected.size()) << "kind " << kind << " k " << k << " drop " << drop;
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_EQ(got[i].key, expected[i].key) << "k " << k << " at " << i;
          ASSERT_EQ(got[i].value, expected[i].value) << "k " << k << " at " << i;
        }
      }
    }
  }
}

TEST(IndexRunTest, LowerBoundMatchesBinarySearchInMemoryAndOnDisk) {
  std::mt19937_64 rng(11);
  test::TempDir dir;
  uint32_t number = 1;
  for (uint64_t key_space : {uint64_t{100}, uint64_t{1} << 20, ~uint64_t{0}}) {
    for (size_t n : {size_t{1}, size_t{2}, size_t{7}, size_t{1000}, size_t{20000}}) {
      auto memory = std::make_shared<zcmedia::Run>(format::kPathIndex, RandomRun(rng, format::kPathIndex, n, key_space));
      RunPtr file;
      RunPtr inputs[] = {memory};
      ASSERT_TRUE(WriteMergedRunFile(Env::Default(), dir.path(), format::kPathIndex, number++, inputs,
                                     /*drop_tombstones=*/false, 4096, &file)
                      .ok());
      ASSERT_EQ(file->size(), memory->size());
      for (int probe = 0; probe < 2000; ++probe) {
        // Existing keys, their neighbours, and the extremes.
        uint64_t key = probe % 3 == 0 ? memory->begin()[rng() % memory->size()].key
                                      : (probe % 3 == 1 ? rng() % (key_space == ~uint64_t{0} ? key_space : key_space + 2)
                                                        : (probe % 2 ? 0 : ~uint64_t{0}));
        for (const RunPtr& run : {RunPtr(memory), file}) {
          const RunEntry* want = std::lower_bound(run->begin(), run->end(), key,
                                                  [](const RunEntry& e, uint64_t k) { return e.key < k; });
          ASSERT_EQ(run->LowerBound(key) - run->begin(), want - run->begin()) << "key " << key << " n " << n;
          if (want != run->end() && want->key == key) {
            ASSERT_TRUE(run->MayContain(key));  // no false negatives
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace zcmedia
