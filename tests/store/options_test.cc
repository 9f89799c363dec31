// Options: parsers, validation, environment overrides, the memory profile
// derived from the budget, and the writer-lock timeout.
#include "zcmedia/options.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "store_impl.h"
#include "test_util.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using std::chrono::milliseconds;
using test::TempDir;

TEST(ParseByteSizeTest, AcceptsBinarySuffixesInAnyCase) {
  struct Case {
    const char* text;
    uint64_t bytes;
  } cases[] = {{"6M", 6ull << 20},      {"64MiB", 64ull << 20}, {"1g", 1ull << 30},  {"1048576", 1048576},
               {" 2 KB ", 2048},        {"0", 0},               {"3t", 3ull << 40},  {"512b", 512},
               {"7GiB", 7ull << 30},    {"16kib", 16384}};
  for (const Case& c : cases) {
    uint64_t bytes = 1;
    Status s = ParseByteSize(c.text, "size", &bytes);
    ASSERT_TRUE(s.ok()) << c.text << ": " << s.ToString();
    EXPECT_EQ(bytes, c.bytes) << c.text;
  }
}

TEST(ParseByteSizeTest, RejectsWhatIsNotAWholeSize) {
  for (const char* text : {"", "M", "-1", "1.5G", "6X", "6 M B", "99999999999999999999", "20000000T", "0x10"}) {
    uint64_t bytes = 42;
    Status s = ParseByteSize(text, "ZCMEDIA_MEMORY_BUDGET", &bytes);
    EXPECT_TRUE(s.IsInvalidArgument()) << "'" << text << "' was accepted as " << bytes;
    EXPECT_EQ(bytes, 42u) << "output written on error for '" << text << "'";
    EXPECT_NE(s.message().find("ZCMEDIA_MEMORY_BUDGET='" + std::string(text) + "'"), std::string::npos)
        << s.message();
  }
}

TEST(ParseDurationTest, MillisecondsSecondsAndMinutes) {
  milliseconds d{1};
  ASSERT_TRUE(ParseDuration("250ms", "t", &d).ok());
  EXPECT_EQ(d, milliseconds(250));
  ASSERT_TRUE(ParseDuration("5s", "t", &d).ok());
  EXPECT_EQ(d, milliseconds(5000));
  ASSERT_TRUE(ParseDuration("2m", "t", &d).ok());
  EXPECT_EQ(d, milliseconds(120000));
  ASSERT_TRUE(ParseDuration("10", "t", &d).ok());
  EXPECT_EQ(d, milliseconds(10));
  ASSERT_TRUE(ParseDuration("0", "t", &d).ok());
  EXPECT_EQ(d, milliseconds(0));
  for (const char* bad : {"5h", "-1", "abc", "1.5s", "1441m", ""}) {
    d = milliseconds(7);
    Status s = ParseDuration(bad, "ZCMEDIA_LOCK_TIMEOUT", &d);
    EXPECT_TRUE(s.IsInvalidArgument()) << "'" << bad << "' accepted";
    EXPECT_EQ(d, milliseconds(7));
  }
}

TEST(ParseSwitchTest, OnOffWords) {
  bool v = false;
  for (const char* on : {"on", "ON", "true", "Yes", "1"}) {
    v = false;
    ASSERT_TRUE(ParseSwitch(on, "s", &v).ok()) << on;
    EXPECT_TRUE(v) << on;
  }
  for (const char* off : {"off", "False", "no", "0"}) {
    v = true;
    ASSERT_TRUE(ParseSwitch(off, "s", &v).ok()) << off;
    EXPECT_FALSE(v) << off;
  }
  Status s = ParseSwitch("maybe", "ZCMEDIA_SYNC", &v);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("ZCMEDIA_SYNC='maybe'"), std::string::npos) << s.message();
}

TEST(FormatByteSizeTest, ReadableUnits) {
  EXPECT_EQ(FormatByteSize(512), "512 B");
  EXPECT_EQ(FormatByteSize(1536), "1.5 KiB");
  EXPECT_EQ(FormatByteSize(6ull << 20), "6 MiB");
  EXPECT_EQ(FormatByteSize(1ull << 30), "1 GiB");
}

TEST(ValidateOptionsTest, DefaultsAreValidAndEachRangeIsEnforced) {
  EXPECT_TRUE(ValidateOptions(Options{}).ok());
  Options o;
  o.memory_budget = 1000;
  Status s = ValidateOptions(o);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("memory_budget"), std::string::npos) << s.message();
  o = Options{};
  o.segment_max_bytes = (64ull << 30) + 1;
  s = ValidateOptions(o);
  EXPECT_NE(s.message().find("segment_max_bytes"), std::string::npos) << s.message();
  o = Options{};
  o.lock_timeout = milliseconds(-1);
  s = ValidateOptions(o);
  EXPECT_NE(s.message().find("lock_timeout"), std::string::npos) << s.message();
  o = Options{};
  o.lock_timeout = std::chrono::hours(25);
  EXPECT_TRUE(ValidateOptions(o).IsInvalidArgument());
}

// Each test starts and ends with no ZCMEDIA_* variable set.
class EnvironmentTest : public ::testing::Test {
 protected:
  static constexpr const char* kVariables[] = {"ZCMEDIA_MEMORY_BUDGET", "ZCMEDIA_LOCK_TIMEOUT", "ZCMEDIA_SYNC",
                                               "ZCMEDIA_SEGMENT_MAX_BYTES"};
  void SetUp() override { UnsetAll(); }
  void TearDown() override { UnsetAll(); }
  static void UnsetAll() {
    for (const char* v : kVariables) ::unsetenv(v);
  }
};

TEST_F(EnvironmentTest, EachVariableOverridesItsField) {
  ::setenv("ZCMEDIA_MEMORY_BUDGET", "64M", 1);
  ::setenv("ZCMEDIA_LOCK_TIMEOUT", "250ms", 1);
  ::setenv("ZCMEDIA_SYNC", "off", 1);
  ::setenv("ZCMEDIA_SEGMENT_MAX_BYTES", "2MiB", 1);
  Options o;
  ASSERT_TRUE(ApplyEnvironment(&o).ok());
  EXPECT_EQ(o.memory_budget, size_t{64} << 20);
  EXPECT_EQ(o.lock_timeout, milliseconds(250));
  EXPECT_FALSE(o.sync);
  EXPECT_EQ(o.segment_max_bytes, uint64_t{2} << 20);
}

TEST_F(EnvironmentTest, UnsetOrEmptyVariablesLeaveFieldsAlone) {
  ::setenv("ZCMEDIA_MEMORY_BUDGET", "", 1);
  Options o;
  o.memory_budget = size_t{3} << 20;
  ASSERT_TRUE(ApplyEnvironment(&o).ok());
  EXPECT_EQ(o.memory_budget, size_t{3} << 20);
  EXPECT_EQ(o.lock_timeout, Options{}.lock_timeout);
  EXPECT_TRUE(o.sync);
}

TEST_F(EnvironmentTest, MalformedOrOutOfRangeValueIsRefusedAndChangesNothing) {
  ::setenv("ZCMEDIA_LOCK_TIMEOUT", "1s", 1);
  ::setenv("ZCMEDIA_MEMORY_BUDGET", "lots", 1);
  Options o;
  Status s = ApplyEnvironment(&o);
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("ZCMEDIA_MEMORY_BUDGET='lots'"), std::string::npos) << s.message();
  EXPECT_EQ(o.lock_timeout, Options{}.lock_timeout) << "a partial override was applied";

  ::setenv("ZCMEDIA_MEMORY_BUDGET", "512K", 1);
  s = ApplyEnvironment(&o);
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("memory_budget 512 KiB"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("environment"), std::string::npos) << s.message();
  EXPECT_EQ(o.memory_budget, Options{}.memory_budget);
}

TEST_F(EnvironmentTest, OpenRefusesABadVariableBeforeTouchingTheDisk) {
  TempDir dir;
  const std::string path = dir.path() + "/store";
  ::setenv("ZCMEDIA_SYNC", "sometimes", 1);
  std::unique_ptr<Store> store;
  Status s = Store::Open(path, Options{}, &store);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("ZCMEDIA_SYNC"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));

  Options ignore;
  ignore.use_environment = false;
  ASSERT_TRUE(Store::Open(path, ignore, &store).ok());
}

TEST_F(EnvironmentTest, OpenSizesTheStoreFromTheEnvironmentBudget) {
  TempDir dir;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path() + "/default", Options{}, &store).ok());
  const size_t default_batch = store->recommended_batch_records();
  store.reset();
  ::setenv("ZCMEDIA_MEMORY_BUDGET", "64M", 1);
  ASSERT_TRUE(Store::Open(dir.path() + "/big", Options{}, &store).ok());
  EXPECT_EQ(store->recommended_batch_records(), MemoryProfile::ForBudget(size_t{64} << 20).batch_records);
  EXPECT_GT(store->recommended_batch_records(), default_batch);
}

// The profile table in docs/configuration.md.
TEST(MemoryProfileTest, DocumentedProfiles) {
  struct Row {
    size_t budget, batch_records, memtable_bytes, run_write_buffer, cache_bytes;
  } rows[] = {
      {size_t{6} << 20, 5825, (size_t{6} << 20) / 12, size_t{128} << 10, size_t{192} << 10},
      {size_t{64} << 20, 62137, (size_t{64} << 20) / 12, (size_t{64} << 20) / 48, size_t{2} << 20},
      {size_t{256} << 20, 248551, (size_t{256} << 20) / 12, size_t{4} << 20, size_t{8} << 20},
      {size_t{1} << 30, 994205, (size_t{1} << 30) / 12, size_t{4} << 20, size_t{32} << 20},
  };
  for (const Row& r : rows) {
    const MemoryProfile p = MemoryProfile::ForBudget(r.budget);
    EXPECT_EQ(p.batch_records, r.batch_records) << FormatByteSize(r.budget);
    EXPECT_EQ(p.memtable_bytes, r.memtable_bytes) << FormatByteSize(r.budget);
    EXPECT_EQ(p.run_write_buffer, r.run_write_buffer) << FormatByteSize(r.budget);
    EXPECT_EQ(p.cache_bytes, r.cache_bytes) << FormatByteSize(r.budget);
  }
}

Options NoEnvironment(milliseconds lock_timeout) {
  Options o;
  o.use_environment = false;
  o.lock_timeout = lock_timeout;
  return o;
}

TEST(SetOptionTest, SyncAndMemoryBudgetChangeWhileOpen) {
  TempDir dir;
  const Options o = NoEnvironment(milliseconds(0));
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), o, &store).ok());
  const size_t default_batch = store->recommended_batch_records();
  ASSERT_TRUE(store->SetOption("memory_budget", "64M").ok());
  EXPECT_EQ(store->recommended_batch_records(), MemoryProfile::ForBudget(size_t{64} << 20).batch_records);
  EXPECT_GT(store->recommended_batch_records(), default_batch);
  EXPECT_EQ(store->GetStats().memory_budget, size_t{64} << 20);
  ASSERT_TRUE(store->SetOption("sync", "off").ok());
  // Writes go on, and a big batch under the new profile commits.
  WriteBatch b;
  for (size_t i = 0; i < 20000; ++i) {
    MediaFileFields f;
    const std::string path = "/m/" + std::to_string(i) + ".mp3";
    f.path = path;
    FillDerivedColumns(f);
    b.Put(f);
  }
  ASSERT_TRUE(store->Write(b).ok());
  ASSERT_TRUE(store->SetOption("sync", "on").ok());
  ASSERT_TRUE(store->SetOption("memory_budget", "6M").ok());
  EXPECT_EQ(store->recommended_batch_records(), default_batch);
  store.reset();
  ASSERT_TRUE(Store::Open(dir.path(), o, &store).ok());
  EXPECT_EQ(store->GetSnapshot()->record_count(), 20000u);
}

TEST(SetOptionTest, RefusesBadValuesAndSettingsFixedAtOpen) {
  TempDir dir;
  const Options o = NoEnvironment(milliseconds(0));
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), o, &store).ok());
  Status s = store->SetOption("memory_budget", "512K");
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("memory_budget"), std::string::npos) << s.message();
  EXPECT_EQ(store->recommended_batch_records(), MemoryProfile::ForBudget(o.memory_budget).batch_records);
  EXPECT_TRUE(store->SetOption("sync", "sometimes").IsInvalidArgument());
  s = store->SetOption("segment_max_bytes", "2G");
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("sync, memory_budget and lookup_cache can"), std::string::npos) << s.message();
}

TEST(LockTimeoutTest, SecondWriterGivesUpAfterTheTimeoutNamingTheHolder) {
  TempDir dir;
  std::unique_ptr<Store> first, second;
  ASSERT_TRUE(Store::Open(dir.path(), NoEnvironment(milliseconds(0)), &first).ok());
  const auto start = std::chrono::steady_clock::now();
  Status s = Store::Open(dir.path(), NoEnvironment(milliseconds(200)), &second);
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find("locked by process " + std::to_string(::getpid())), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("waiting 200 ms"), std::string::npos) << s.message();
  EXPECT_GE(waited, milliseconds(200));
  EXPECT_EQ(second, nullptr);
}

TEST(LockTimeoutTest, WriterWaitingForTheLockGetsItWhenTheHolderCloses) {
  TempDir dir;
  std::unique_ptr<Store> first;
  ASSERT_TRUE(Store::Open(dir.path(), NoEnvironment(milliseconds(0)), &first).ok());
  {
    WriteBatch b;
    MediaFileFields f;
    f.path = "/music/a.mp3";
    FillDerivedColumns(f);
    b.Put(f);
    ASSERT_TRUE(first->Write(b, nullptr).ok());
  }
  Status waiter_status;
  std::unique_ptr<Store> second;
  std::thread waiter([&] { waiter_status = Store::Open(dir.path(), NoEnvironment(milliseconds(60'000)), &second); });
  std::this_thread::sleep_for(milliseconds(150));
  first.reset();  // releases the lock while the other is backing off
  waiter.join();
  ASSERT_TRUE(waiter_status.ok()) << waiter_status.ToString();
  MediaFileView v;
  EXPECT_TRUE(second->GetSnapshot()->FindByPath("/music/a.mp3", &v).ok());
}

}  // namespace
}  // namespace zcmedia
