// Index runs: the k-way merge (newest entry per identity wins, tombstones
// dropped only when asked) against a reference map, for every fan-in the
// store uses and more; and lookups through the key directory against a
// binary search, on memory runs and run files.
#include <gtest/gtest.h>

#include <filesystem>
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

// SortByKeyAndValue orders like std::sort on (key, value) for small and
// large inputs, uniform and narrow key spans (category keys share their
// top bits), many equal keys (a directory's files), and keys at both ends
// of the 64-bit range.
TEST(IndexRunTest, SortByKeyAndValueMatchesStdSort) {
  std::mt19937_64 rng(7);
  const auto less = [](const RunEntry& a, const RunEntry& b) {
    return a.key != b.key ? a.key < b.key : a.value < b.value;
  };
  for (size_t n : {size_t{0}, size_t{1}, size_t{100}, size_t{1023}, size_t{1024}, size_t{5000}, size_t{70000}}) {
    for (int shape = 0; shape < 4; ++shape) {
      std::vector<RunEntry> entries(n);
      for (size_t i = 0; i < n; ++i) {
        uint64_t key = rng();
        if (shape == 1) key = (uint64_t{5} << 61) | (key >> 40);  // narrow span
        if (shape == 2) key = rng() % 37;                         // many equal keys
        if (shape == 3) key = (i % 2) ? ~uint64_t{0} - (key % 3) : key % 3;  // both ends
        entries[i] = {key, rng() % 1000};
      }
      std::vector<RunEntry> want = entries;
      std::sort(want.begin(), want.end(), less);
      SortByKeyAndValue(entries.data(), entries.data() + entries.size());
      ASSERT_EQ(entries.size(), want.size());
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(entries[i].key, want[i].key) << "n " << n << " shape " << shape << " at " << i;
        ASSERT_EQ(entries[i].value, want[i].value) << "n " << n << " shape " << shape << " at " << i;
      }
    }
  }
}

// RunFileWriter: entries streamed in run order make a run file that reads
// them back (with or without the Bloom filter); an entry out of order is
// refused by name and the unfinished file goes with the writer.
TEST(IndexRunTest, RunFileWriterStreamsInOrderAndRefusesDisorder) {
  test::TempDir dir;
  for (bool with_filter : {true, false}) {
    std::unique_ptr<RunFileWriter> writer;
    const uint32_t number = with_filter ? 1 : 2;
    ASSERT_TRUE(RunFileWriter::Create(Env::Default(), dir.path(), format::kPathIndex, number, 4096, &writer,
                                      with_filter)
                    .ok());
    for (uint64_t k = 1; k <= 3000; ++k) ASSERT_TRUE(writer->Add({k * 7919, k}).ok());
    RunPtr run;
    ASSERT_TRUE(writer->Finish(/*sync=*/false, &run).ok());
    ASSERT_EQ(run->size(), 3000u);
    for (uint64_t k = 1; k <= 3000; k += 97) {
      EXPECT_TRUE(run->MayContain(k * 7919));
      const RunEntry* e = run->LowerBound(k * 7919);
      ASSERT_NE(e, run->end());
      EXPECT_EQ(e->value, k);
    }
    RunPtr reopened;
    ASSERT_TRUE(OpenRunFile(Env::Default(), dir.path(), format::kPathIndex, number, &reopened).ok());
    EXPECT_EQ(reopened->size(), 3000u);
  }
  const std::string tmp = dir.path() + "/" + format::RunFileName(format::kPathIndex, 3) + ".tmp";
  {
    std::unique_ptr<RunFileWriter> writer;
    ASSERT_TRUE(RunFileWriter::Create(Env::Default(), dir.path(), format::kPathIndex, 3, 4096, &writer).ok());
    ASSERT_TRUE(writer->Add({100, 1}).ok());
    ASSERT_TRUE(writer->Add({100, 2}).ok());  // equal keys: in order
    const Status s = writer->Add({99, 3});
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_NE(s.message().find("out of run order"), std::string::npos) << s.ToString();
    RunPtr run;
    EXPECT_FALSE(writer->Finish(false, &run).ok());
    EXPECT_TRUE(std::filesystem::exists(tmp));
  }
  EXPECT_FALSE(std::filesystem::exists(tmp));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/" + format::RunFileName(format::kPathIndex, 3)));
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
