// CheckStore: a sound store passes both checks; damage to each file kind is
// found by the fast check with its file and offset; inconsistencies that
// checksums cannot see (an index entry under a wrong key, totals that
// disagree with the records) are found by the deep check; RepairIndexes
// fixes what the report calls repairable.
#include "zcmedia/check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "format.h"
#include "index_run.h"
#include "meta.h"
#include "test_util.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using test::OwnedRecord;
using test::TempDir;

Options TestOptions() {
  Options o;
  o.use_environment = false;
  o.memory_budget = size_t{1} << 20;  // checkpoints: runs in files and in memory
  o.lock_timeout = std::chrono::milliseconds(0);
  return o;
}

// A store with puts, updates, removes, playlists and several index
// checkpoints (so that every index has run files).
void BuildStore(const std::string& dir) {
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir, TestOptions(), &store).ok());
  std::vector<int64_t> all;
  const std::string names[] = {"one", "two", "three", "four", "five", "six"};
  for (int b = 0; b < 6; ++b) {
    WriteBatch batch;
    for (int i = 0; i < 1500; ++i) batch.Put(OwnedRecord::Sample(b * 1500 + i).fields());
    if (!all.empty()) {  // a playlist of earlier records
      batch.PutPlaylist({b, names[b], std::nullopt, 1, 1});
      for (size_t i = 0; i < all.size(); i += 13) batch.PutPlaylistEntry({0, b, all[i], int64_t(i), 1});
    }
    std::vector<int64_t> ids;
    ASSERT_TRUE(store->Write(batch, &ids).ok());
    all.insert(all.end(), ids.begin(), ids.begin() + 1500);  // the media files (playlist ids follow)
  }
  WriteBatch changes;
  for (size_t i = 0; i < all.size(); i += 17) changes.Update(all[i], OwnedRecord::Sample(100000 + int(i)).fields());
  for (size_t i = 5; i < all.size(); i += 23) changes.Remove(all[i]);
  Status changed = store->Write(changes);
  ASSERT_TRUE(changed.ok()) << changed.ToString();
}

std::vector<std::string> FilesStartingWith(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5a));
}

CheckReport Check(const std::string& dir, bool deep) {
  CheckReport report;
  Status s = CheckStore(dir, deep, &report, TestOptions());
  EXPECT_TRUE(s.ok()) << s.ToString();
  return report;
}

bool Mentions(const CheckReport& r, const std::string& file) {
  for (const CheckProblem& p : r.problems)
    if (p.file == file) return true;
  return false;
}

class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BuildStore(dir_.path());
    ASSERT_FALSE(HasFatalFailure());
  }
  TempDir dir_;
};

TEST_F(CheckTest, SoundStorePassesBothChecks) {
  const CheckReport fast = Check(dir_.path(), false);
  EXPECT_TRUE(fast.ok()) << fast.ToString();
  EXPECT_GT(fast.batches, 6u);
  EXPECT_GT(fast.index_runs, 0u);
  const CheckReport deep = Check(dir_.path(), true);
  EXPECT_TRUE(deep.ok()) << deep.ToString();
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir_.path(), TestOptions(), &store).ok());
  EXPECT_EQ(deep.live_records, store->GetSnapshot()->record_count());
  EXPECT_GT(deep.index_entries, 4 * deep.live_records);  // id, path, dir and categories
  // The check reads the committed state while a writer keeps the store open.
  const CheckReport concurrent = Check(dir_.path(), true);
  EXPECT_TRUE(concurrent.ok()) << concurrent.ToString();
}

TEST_F(CheckTest, DamagedSegmentIsReportedWithFileAndOffset) {
  const std::string segment = FilesStartingWith(dir_.path(), "seg-").front();
  FlipByte(segment, 5000);
  const CheckReport r = Check(dir_.path(), false);
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(Mentions(r, segment)) << r.ToString();
  EXPECT_GT(r.problems.front().offset, 0u);
  EXPECT_LE(r.problems.front().offset, 5000u) << "the damaged batch starts at or before the flipped byte";
  EXPECT_FALSE(r.repairable());
  EXPECT_NE(r.ToString().find("restore the store from a backup"), std::string::npos);
}

class DamagedIndexTest : public CheckTest, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(DamagedIndexTest, DamagedIndexRunIsRepairable) {
  const std::string prefix = std::string("idx-") + format::RunKindName(GetParam()) + "-";
  const std::vector<std::string> runs = FilesStartingWith(dir_.path(), prefix);
  ASSERT_FALSE(runs.empty()) << "no " << prefix << " run file";
  const std::string run = runs.front();
  FlipByte(run, 100);
  CheckReport r = Check(dir_.path(), false);
  ASSERT_TRUE(Mentions(r, run)) << r.ToString();
  EXPECT_TRUE(r.repairable()) << r.ToString();
  ASSERT_TRUE(RepairIndexes(dir_.path(), TestOptions()).ok());
  r = Check(dir_.path(), true);
  EXPECT_TRUE(r.ok()) << r.ToString();
}

INSTANTIATE_TEST_SUITE_P(EveryIndex, DamagedIndexTest,
                         ::testing::Range(uint32_t{0}, uint32_t{format::kRunKinds}),
                         [](const auto& info) { return std::string(format::RunKindName(info.param)); });

TEST_F(CheckTest, DamagedMetaIsReported) {
  const std::string meta = dir_.path() + "/META";
  FlipByte(meta, 100);
  FlipByte(meta, format::kMetaPageSize + 100);
  const CheckReport r = Check(dir_.path(), true);
  ASSERT_TRUE(Mentions(r, meta)) << r.ToString();
  EXPECT_FALSE(r.repairable());
}

TEST_F(CheckTest, MissingStoreIsNotFound) {
  CheckReport r;
  EXPECT_TRUE(CheckStore(dir_.path() + "/none", true, &r, TestOptions()).IsNotFound());
}

// An index run rewritten with valid checksums but one entry under a wrong
// key: only the deep check can tell.
TEST_F(CheckTest, DeepCheckFindsAnIndexEntryUnderTheWrongKey) {
  {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(dir_.path(), TestOptions(), &store).ok());
    ASSERT_TRUE(store->CompactIndexes().ok());  // one run file per index
  }
  const std::string run_path = FilesStartingWith(dir_.path(), "idx-path-").front();
  uint32_t kind = 0, number = 0;
  ASSERT_TRUE(format::ParseRunFileName(std::filesystem::path(run_path).filename().string(), &kind, &number));
  RunPtr run;
  ASSERT_TRUE(OpenRunFile(Env::Default(), dir_.path(), kind, number, &run).ok());
  std::vector<RunEntry> entries(run->begin(), run->end());
  entries[entries.size() / 2].key ^= 1;  // points at a record whose path hashes elsewhere
  std::sort(entries.begin(), entries.end(),
            [kind](const RunEntry& a, const RunEntry& b) { return EntryLess(kind, a, b); });
  const RunPtr forged = std::make_shared<zcmedia::Run>(kind, std::move(entries));
  run.reset();
  std::filesystem::remove(run_path);
  RunPtr written;
  ASSERT_TRUE(WriteMergedRunFile(Env::Default(), dir_.path(), kind, number, std::span<const RunPtr>(&forged, 1),
                                 /*drop_tombstones=*/false, 1 << 16, &written)
                  .ok());
  written.reset();
  EXPECT_TRUE(Check(dir_.path(), false).ok()) << "checksums are valid: the fast check cannot see it";
  const CheckReport deep = Check(dir_.path(), true);
  ASSERT_FALSE(deep.ok());
  EXPECT_TRUE(Mentions(deep, dir_.path() + "/path index")) << deep.ToString();
  EXPECT_TRUE(deep.repairable());
  ASSERT_TRUE(RepairIndexes(dir_.path(), TestOptions()).ok());
  EXPECT_TRUE(Check(dir_.path(), true).ok());
}

// META rewritten (valid checksum) with a wrong total: the deep check
// recomputes the totals from the records.
TEST_F(CheckTest, DeepCheckFindsTotalsThatDisagreeWithTheRecords) {
  const std::string meta_path = dir_.path() + "/META";
  {
    std::unique_ptr<File> file;
    ASSERT_TRUE(Env::Default()->OpenFile(meta_path, Env::OpenMode::kReadWrite, &file).ok());
    format::MetaPage page;
    ASSERT_TRUE(ReadNewestMetaPage(file.get(), &page).ok());
    page.family_files[0] += 1;
    page.sequence += 1;
    ASSERT_TRUE(WriteMetaPage(file.get(), &page).ok());
  }
  EXPECT_TRUE(Check(dir_.path(), false).ok());
  const CheckReport deep = Check(dir_.path(), true);
  ASSERT_TRUE(Mentions(deep, meta_path)) << deep.ToString();
  EXPECT_NE(deep.ToString().find("files of mime family 0"), std::string::npos) << deep.ToString();
  ASSERT_TRUE(RepairIndexes(dir_.path(), TestOptions()).ok());
  EXPECT_TRUE(Check(dir_.path(), true).ok()) << "RepairIndexes recomputes the totals";
}

}  // namespace
}  // namespace zcmedia
