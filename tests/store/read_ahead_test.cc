// Index read-ahead: with a memory budget of 256 MiB or more, Open asks the
// kernel to load the index run files into the page cache; with less it
// leaves them to be read (with the kernel's read-around) as lookups need
// them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "index_run.h"
#include "store_impl.h"
#include "test_util.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using test::TempDir;

bool IsRunFile(const std::filesystem::path& p) { return p.filename().string().rfind("idx-", 0) == 0; }

// Fraction of the run files' pages in the page cache (mincore).
double ResidentShare(const std::string& dir) {
  size_t pages = 0, resident = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!IsRunFile(entry.path())) continue;
    const size_t length = entry.file_size();
    const int fd = ::open(entry.path().c_str(), O_RDONLY);
    void* p = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
    std::vector<unsigned char> in_core((length + 4095) / 4096);
    if (p != MAP_FAILED && ::mincore(p, length, in_core.data()) == 0) {
      pages += in_core.size();
      for (unsigned char c : in_core) resident += c & 1;
    }
    if (p != MAP_FAILED) ::munmap(p, length);
    ::close(fd);
  }
  return pages == 0 ? 0 : double(resident) / double(pages);
}

// Drops the run files' (clean, synced) pages from the page cache.
void EvictRunFiles(const std::string& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!IsRunFile(entry.path())) continue;
    const int fd = ::open(entry.path().c_str(), O_RDONLY);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

TEST(ReadAheadTest, ProfilesPrefetchIndexFilesOnlyWithBigBudgets) {
  EXPECT_EQ(MemoryProfile::ForBudget(size_t{6} << 20).index_prefetch_bytes, 0u);
  EXPECT_EQ(MemoryProfile::ForBudget(size_t{64} << 20).index_prefetch_bytes, 0u);
  EXPECT_EQ(MemoryProfile::ForBudget(size_t{256} << 20).index_prefetch_bytes, uint64_t{1} << 30);
  EXPECT_EQ(MemoryProfile::ForBudget(size_t{1} << 30).index_prefetch_bytes, uint64_t{4} << 30);
}

// A run file larger than what the kernel reads around the header and block
// table when it is opened (8 MiB each way on the project's VM).
TEST(ReadAheadTest, PrefetchLoadsTheWholeRunFile) {
  TempDir dir;
  std::vector<RunEntry> entries(std::size_t{3} << 20);  // 48 MiB of entries
  for (size_t i = 0; i < entries.size(); ++i) entries[i] = {(i + 1) * 0x9E3779B9ull, (i + 1) * 8};
  RunPtr inputs[] = {std::make_shared<zcmedia::Run>(format::kIdIndex, std::move(entries))};
  RunPtr written;
  ASSERT_TRUE(WriteMergedRunFile(Env::Default(), dir.path(), format::kIdIndex, 1, inputs, false, 1 << 20, &written).ok());
  written.reset();
  inputs[0].reset();

  EvictRunFiles(dir.path());
  if (ResidentShare(dir.path()) > 0.2) GTEST_SKIP() << "this file system keeps the pages (tmpfs?)";
  RunPtr run;
  ASSERT_TRUE(OpenRunFile(Env::Default(), dir.path(), format::kIdIndex, 1, &run).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double opened = ResidentShare(dir.path());
  if (opened > 0.9) GTEST_SKIP() << "opening alone read the file (read-ahead larger than the file)";

  EXPECT_EQ(run->PrefetchFile(uint64_t{1} << 40), run->file_bytes());
  double share = 0;
  for (int i = 0; i < 100 && share < 0.95; ++i) {  // the kernel reads in the background
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    share = ResidentShare(dir.path());
  }
  EXPECT_GE(share, 0.95) << "opened: " << opened;
}

// The store asks for it when it opens run files with a big budget.
TEST(ReadAheadTest, OpenWithABigBudgetLoadsTheIndexFiles) {
  TempDir dir;
  {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(dir.path(), test::BudgetOptions(size_t{6} << 20), &store).ok());
    WriteBatch b;
    for (int i = 0; i < 50000; ++i) {
      MediaFileFields f;
      const std::string path = "/music/a" + std::to_string(i % 97) + "/t" + std::to_string(i) + ".flac";
      f.path = path;
      FillDerivedColumns(f);
      b.Put(f);
    }
    ASSERT_TRUE(store->Write(b).ok());
    ASSERT_TRUE(store->CompactIndexes().ok());  // written and synced: clean pages
  }
  EvictRunFiles(dir.path());
  if (ResidentShare(dir.path()) > 0.2) GTEST_SKIP() << "this file system keeps the pages (tmpfs?)";
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), test::BudgetOptions(size_t{256} << 20), &store).ok());
  double share = 0;
  for (int i = 0; i < 100 && share < 0.95; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    share = ResidentShare(dir.path());
  }
  EXPECT_GE(share, 0.95);
}

}  // namespace
}  // namespace zcmedia
