#include "store_commands.h"

#include <chrono>

#include <cstdio>

#include "zcmedia/check.h"
#include "zcmedia/stats.h"
#include "zcmedia/store.h"

namespace zcmedia::shell {

namespace {
constexpr int kProblems = 1;
constexpr int kCannotRun = 2;

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "zcmedia: %s: %s\n", what.c_str(), s.ToString().c_str());
  return kCannotRun;
}
}  // namespace

int RunCheck(const std::string& dir, bool deep, bool repair) {
  CheckReport report;
  Status s = CheckStore(dir, deep, &report);
  if (!s.ok()) return Fail("check " + dir, s);
  std::printf("%s", report.ToString().c_str());
  if (report.ok()) return 0;
  if (!repair) return kProblems;
  if (!report.repairable()) {
    std::printf("not repaired: damaged records or META cannot be rebuilt from the store itself\n");
    return kProblems;
  }
  std::printf("repairing: rebuilding the indexes from the segments...\n");
  s = RepairIndexes(dir);
  if (!s.ok()) return Fail("repair " + dir, s);
  s = CheckStore(dir, /*deep=*/true, &report);
  if (!s.ok()) return Fail("check " + dir + " after the repair", s);
  std::printf("after the repair: %s", report.ToString().c_str());
  return report.ok() ? 0 : kProblems;
}

int RunStats(const std::string& dir, StatsFormat format) {
  Options options;
  options.read_only = true;
  options.create_if_missing = false;
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir, options, &store);
  if (!s.ok()) return Fail("open " + dir, s);
  const StoreStats stats = store->GetStats();
  switch (format) {
    case StatsFormat::kJson:
      std::printf("%s\n", StatsToJson(stats).c_str());
      break;
    case StatsFormat::kPrometheus:
      std::printf("%s", StatsToPrometheus(stats).c_str());
      break;
    case StatsFormat::kText: {
      static const char* const kFamilies[] = {"audio", "video", "image", "other"};
      std::printf("%s: %llu records (sequence %llu)\n", dir.c_str(), static_cast<unsigned long long>(stats.record_count),
                  static_cast<unsigned long long>(stats.sequence));
      for (int f = 0; f < kMimeFamilies; ++f)
        std::printf("  %-6s %12llu files %20s\n", kFamilies[f], static_cast<unsigned long long>(stats.files[f]),
                    FormatByteSize(static_cast<uint64_t>(stats.bytes[f])).c_str());
      std::printf("  segments %s, indexes %s in %llu run files, %llu records not yet in run files\n",
                  FormatByteSize(stats.segment_bytes).c_str(), FormatByteSize(stats.index_bytes).c_str(),
                  static_cast<unsigned long long>(stats.index_runs),
                  static_cast<unsigned long long>(stats.memtable_records));
      std::printf("  dead space %s (what a compaction would reclaim)\n", FormatByteSize(stats.dead_bytes).c_str());
      break;
    }
  }
  return 0;
}

int RunCompact(const std::string& dir, bool indexes_only) {
  Options options;
  options.create_if_missing = false;
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir, options, &store);
  if (!s.ok()) return Fail("open " + dir, s);
  if (indexes_only) {
    s = store->CompactIndexes();
    if (!s.ok()) return Fail("compact the indexes of " + dir, s);
    const StoreInfo info = store->Info();
    std::printf("%s: indexes compacted into %llu run files (%s)\n", dir.c_str(),
                static_cast<unsigned long long>(info.index_runs), FormatByteSize(info.index_bytes).c_str());
    return 0;
  }
  const auto start = std::chrono::steady_clock::now();
  CompactionResult result;
  s = store->Compact(&result);
  if (!s.ok()) return Fail("compact " + dir + " (the store is as it was)", s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const StoreInfo info = store->Info();
  std::printf("%s: %llu live records rewritten in %.2f s; segments %s -> %s, %llu index run files (%s)\n",
              dir.c_str(), static_cast<unsigned long long>(result.records), seconds,
              FormatByteSize(result.bytes_before).c_str(), FormatByteSize(result.bytes_after).c_str(),
              static_cast<unsigned long long>(info.index_runs), FormatByteSize(info.index_bytes).c_str());
  return 0;
}

}  // namespace zcmedia::shell
