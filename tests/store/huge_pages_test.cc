// Huge pages (zcmedia/env.h, HugePagesWanted): which mappings the POSIX Env
// asks the kernel to back with 2 MiB folios, under ZCMEDIA_HUGE_PAGES. The
// advice shows in the mapping's VmFlags ("hg") in /proc/self/smaps; whether
// the kernel then uses huge folios depends on the file system and on how
// the pages came in, so that part is measured (bench lookup), not tested.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "test_util.h"
#include "zcmedia/env.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using test::TempDir;

// Sets ZCMEDIA_HUGE_PAGES for one test and restores it afterwards.
class ScopedHugePagesSetting {
 public:
  explicit ScopedHugePagesSetting(const char* value) {
    if (const char* old = std::getenv(kName)) old_ = old;
    ::setenv(kName, value, 1);
  }
  ~ScopedHugePagesSetting() {
    if (old_) ::setenv(kName, old_->c_str(), 1);
    else ::unsetenv(kName);
  }

 private:
  static constexpr const char* kName = "ZCMEDIA_HUGE_PAGES";
  std::optional<std::string> old_;
};

bool KernelHasTransparentHugePages() {
  struct stat st {};
  return ::stat("/sys/kernel/mm/transparent_hugepage", &st) == 0;
}

// The /proc/self/smaps entry of the mapping that holds `address`: its
// header line (range, ..., file name) and its VmFlags line; both "" if no
// mapping holds it.
struct SmapsEntry {
  std::string header;
  std::string flags;
};
SmapsEntry MappingHolding(const void* address) {
  const auto at = reinterpret_cast<uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  SmapsEntry entry;
  bool in_mapping = false;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long start = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &start, &end) == 2 && line.find(':') > line.find(' ')) {
      in_mapping = at >= start && at < end;
      if (in_mapping) entry.header = line;
      continue;
    }
    if (in_mapping && line.rfind("VmFlags:", 0) == 0) entry.flags = line;
  }
  return entry;
}

std::string VmFlagsOf(const void* address) { return MappingHolding(address).flags; }

bool AdvisedHuge(const void* address) {
  std::istringstream flags(VmFlagsOf(address));
  for (std::string flag; flags >> flag;)
    if (flag == "hg") return true;
  return false;
}

// Maps a fresh file of `bytes` through the default Env.
struct MappedFile {
  std::unique_ptr<File> file;
  std::unique_ptr<Mapping> mapping;
  Status status;
};
MappedFile MapNewFile(const std::string& path, size_t bytes) {
  MappedFile m;
  m.status = Env::Default()->OpenFile(path, Env::OpenMode::kCreate, &m.file);
  if (m.status.ok()) m.status = m.file->Truncate(bytes);
  if (m.status.ok()) m.status = Env::Default()->Map(m.file.get(), bytes, &m.mapping);
  return m;
}

TEST(HugePagesTest, OnAdvisesMappingsOfTwoMebibytesAndMore) {
  if (!KernelHasTransparentHugePages()) GTEST_SKIP() << "kernel without transparent huge pages";
  TempDir dir;
  ScopedHugePagesSetting on("on");
  MappedFile big = MapNewFile(dir.path() + "/big", size_t{4} << 20);
  ASSERT_TRUE(big.status.ok()) << big.status.ToString();
  EXPECT_TRUE(AdvisedHuge(big.mapping->data())) << VmFlagsOf(big.mapping->data());
  // Smaller mappings (the meta pages) could hold no huge page: left alone.
  MappedFile small = MapNewFile(dir.path() + "/small", size_t{1} << 20);
  ASSERT_TRUE(small.status.ok()) << small.status.ToString();
  EXPECT_FALSE(VmFlagsOf(small.mapping->data()).empty());
  EXPECT_FALSE(AdvisedHuge(small.mapping->data())) << VmFlagsOf(small.mapping->data());
}

TEST(HugePagesTest, OffNeverAdvises) {
  TempDir dir;
  ScopedHugePagesSetting off("off");
  MappedFile big = MapNewFile(dir.path() + "/big", size_t{4} << 20);
  ASSERT_TRUE(big.status.ok()) << big.status.ToString();
  EXPECT_FALSE(VmFlagsOf(big.mapping->data()).empty());
  EXPECT_FALSE(AdvisedHuge(big.mapping->data())) << VmFlagsOf(big.mapping->data());
}

TEST(HugePagesTest, AutoFollowsTheDevicesReadAhead) {
  if (!KernelHasTransparentHugePages()) GTEST_SKIP() << "kernel without transparent huge pages";
  TempDir dir;
  ScopedHugePagesSetting automatic("auto");
  MappedFile big = MapNewFile(dir.path() + "/big", size_t{4} << 20);
  ASSERT_TRUE(big.status.ok()) << big.status.ToString();
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() + "/big").c_str(), &st), 0);
  unsigned long long read_ahead_kib = 0;
  const std::string bdi = "/sys/class/bdi/" + std::to_string(major(st.st_dev)) + ":" +
                          std::to_string(minor(st.st_dev)) + "/read_ahead_kb";
  if (std::FILE* f = std::fopen(bdi.c_str(), "r")) {
    if (std::fscanf(f, "%llu", &read_ahead_kib) != 1) read_ahead_kib = 0;
    std::fclose(f);
  }
  bool wanted = false;
  ASSERT_TRUE(HugePagesWanted(big.file->fd(), &wanted).ok());
  EXPECT_EQ(wanted, read_ahead_kib >= 4096) << bdi << " = " << read_ahead_kib;
  EXPECT_EQ(AdvisedHuge(big.mapping->data()), wanted) << VmFlagsOf(big.mapping->data());
}

TEST(HugePagesTest, AMalformedSettingFailsTheMappingNamingTheVariable) {
  TempDir dir;
  ScopedHugePagesSetting bad("sometimes");
  MappedFile big = MapNewFile(dir.path() + "/big", size_t{4} << 20);
  ASSERT_FALSE(big.status.ok());
  EXPECT_TRUE(big.status.IsInvalidArgument()) << big.status.ToString();
  EXPECT_NE(big.status.ToString().find("ZCMEDIA_HUGE_PAGES='sometimes'"), std::string::npos)
      << big.status.ToString();
  EXPECT_NE(big.status.ToString().find("auto, on or off"), std::string::npos) << big.status.ToString();

  // A store cannot be opened with it either, and says why.
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir.path() + "/store", Options(), &store);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("ZCMEDIA_HUGE_PAGES"), std::string::npos) << s.ToString();
}

// The store's segments are mapped through the Env at their full reserved
// size, so they get the advice; what is read through them is unchanged.
TEST(HugePagesTest, AStoreReadsBackThroughAdvisedSegments) {
  if (!KernelHasTransparentHugePages()) GTEST_SKIP() << "kernel without transparent huge pages";
  TempDir dir;
  ScopedHugePagesSetting on("on");
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), Options(), &store).ok());
  WriteBatch batch;
  MediaFileFields f;
  f.path = "/music/a/b.flac";
  f.mime_type = "audio/flac";
  f.size = 1234;
  batch.Put(f);
  std::vector<int64_t> ids;
  ASSERT_TRUE(store->Write(batch, &ids).ok());
  MediaFileView view;
  ASSERT_TRUE(store->GetSnapshot()->FindByPath("/music/a/b.flac", &view).ok());
  // The record's bytes lie inside the segment's mapping.
  const SmapsEntry segment = MappingHolding(view.path().data());
  ASSERT_FALSE(segment.header.empty());
  EXPECT_NE(segment.header.find("seg-"), std::string::npos) << segment.header;
  EXPECT_TRUE(AdvisedHuge(view.path().data())) << segment.flags;
  EXPECT_EQ(view.size(), 1234);
}

}  // namespace
}  // namespace zcmedia
