// `zcmedia bench compact`: compaction of a store whose records are half
// dead, beside SQLite's VACUUM of the legacy table in the same state.
//
// Both sides get 2N generated records and then lose every other one (the
// store: Remove, a durable batch at a time; SQLite: DELETE in one
// transaction), so N records are live and about half the bytes dead. The
// timed part is Store::Compact against VACUUM; the figure is live records
// per second. Each side runs in its own child process (peak RssAnon watched
// from outside); the sides alternate which goes first.
#include <malloc.h>

#include <cstdio>

#include "bench_util.h"
#include "commands.h"
#include "generator.h"
#include "sqlite_legacy.h"
#include "store_writer.h"
#include "zcmedia/store.h"

namespace zcmedia::bench {
namespace {

using Values = std::map<std::string, double>;

void StoreCompactChild(const CompactBenchOptions& options, const std::string& dir, Values& out) {
  mallopt(M_ARENA_MAX, 1);  // as the ingest bench: one heap counted against the budget
  Options store_options;
  if (options.memory_budget) store_options.memory_budget = options.memory_budget;
  std::unique_ptr<Store> store;
  CheckOk(Store::Open(dir, store_options, &store), "Store::Open('" + dir + "')");
  {
    BatchedStoreWriter writer(store.get());
    LibraryGenerator generator(options.seed, 2 * options.records);
    GeneratedRecord record;
    while (generator.Next(&record)) writer.Put(record.fields());
    writer.Flush();
  }
  {  // ids are 1..2N in Put order: remove the even ones
    WriteBatch batch;
    for (uint64_t id = 2; id <= 2 * options.records; id += 2) {
      batch.Remove(static_cast<int64_t>(id));
      if (batch.size() == store->recommended_batch_records()) CheckOk(store->Write(batch), "Store::Write (removes)");
    }
    CheckOk(store->Write(batch), "Store::Write (removes)");
  }
  const uint64_t dead = store->GetSnapshot()->dead_bytes();
  out["before_anon_kib"] = double(ReadProcStatusKiB(0, "RssAnon"));
  Stopwatch clock;
  CompactionResult result;
  CheckOk(store->Compact(&result), "Store::Compact");
  out["compact_s"] = clock.Seconds();
  if (result.records != options.records)
    throw BenchError("compaction rewrote " + std::to_string(result.records) + " records, expected " +
                     std::to_string(options.records));
  out["dead_bytes"] = double(dead);
  out["bytes_before"] = double(result.bytes_before);
  out["bytes_after"] = double(result.bytes_after);
  out["end_anon_kib"] = double(ReadProcStatusKiB(0, "RssAnon"));
}

void SqliteVacuumChild(const CompactBenchOptions& options, const std::string& path, Values& out) {
  auto db = LegacyDb::Create(path);
  db->Begin();
  LibraryGenerator generator(options.seed, 2 * options.records);
  GeneratedRecord record;
  while (generator.Next(&record)) db->Insert(record.fields());
  db->Commit();
  db->Exec("DELETE FROM media_files WHERE id % 2 = 0");
  Stopwatch clock;
  db->Exec("VACUUM");
  out["compact_s"] = clock.Seconds();
}

struct Side {
  std::vector<double> rates;         // live records per second
  std::vector<double> peak_anon_kib;
  Values last;
};

}  // namespace

int RunCompactBench(const CompactBenchOptions& options) {
  if (options.records == 0) throw BenchError("--records must be at least 1");
  if (options.runs < 1) throw BenchError("--runs must be at least 1");
  std::printf("bench compact: %s live records after removing every other one of %s (seed %llu), %d run%s\n",
              FormatThousands(options.records).c_str(), FormatThousands(2 * options.records).c_str(),
              static_cast<unsigned long long>(options.seed), options.runs, options.runs == 1 ? "" : "s");
  std::fflush(stdout);
  Side store_side, sqlite_side;
  for (int run = 0; run < options.runs; ++run) {
    for (int turn = 0; turn < 2; ++turn) {
      const bool store_turn = (turn == 0) == (run % 2 == 0);
      TempDir dir(options.dir, "zcmedia-compact-");
      SyncFilesystems();
      ChildReport report = RunInChild([&](Values& out) {
        if (store_turn)
          StoreCompactChild(options, dir.path() + "/store", out);
        else
          SqliteVacuumChild(options, dir.path() + "/legacy.db", out);
      });
      if (!report.error.empty())
        throw BenchError(std::string(store_turn ? "store" : "SQLite") + " run failed: " + report.error);
      Side& side = store_turn ? store_side : sqlite_side;
      const double rate = double(options.records) / report.at("compact_s");
      side.rates.push_back(rate);
      side.peak_anon_kib.push_back(double(report.peak_anon_kib));
      side.last = report.values;
      if (store_turn) {
        std::printf("  run %d/%d store : Compact %8s live rec/s  %.3f s, segments %s -> %s\n", run + 1,
                    options.runs, FormatSi(rate).c_str(), report.at("compact_s"),
                    FormatThousands(uint64_t(report.at("bytes_before"))).c_str(),
                    FormatThousands(uint64_t(report.at("bytes_after"))).c_str());
      } else {
        std::printf("  run %d/%d SQLite: VACUUM  %8s live rec/s  %.3f s\n", run + 1, options.runs,
                    FormatSi(rate).c_str(), report.at("compact_s"));
      }
      std::fflush(stdout);
    }
  }
  const Summary store_rate = Summarize(store_side.rates), sqlite_rate = Summarize(sqlite_side.rates);
  const Summary store_peak = Summarize(store_side.peak_anon_kib);
  const double ratio = store_rate.median / sqlite_rate.median;
  std::printf("store  Compact: %s live rec/s (target 1,000,000), peak anon %s KiB (whole child: load and compaction)\n",
              FormatSummary(store_rate).c_str(), FormatThousands(uint64_t(store_peak.median)).c_str());
  std::printf("SQLite VACUUM : %s live rec/s\n", FormatSummary(sqlite_rate).c_str());
  std::printf("ratio: %.1fx\n", ratio);
  if (options.json) {
    JsonLine json;
    json.Add("bench", "compact")
        .Add("records", double(options.records))
        .Add("runs", double(options.runs))
        .Add("store_live_records_per_s", store_rate.median)
        .Add("sqlite_live_records_per_s", sqlite_rate.median)
        .Add("ratio", ratio)
        .Add("store_peak_anon_kib", store_peak.median)
        .Add("store_bytes_before", store_side.last.at("bytes_before"))
        .Add("store_bytes_after", store_side.last.at("bytes_after"));
    std::printf("%s\n", json.ToString().c_str());
  }
  return 0;
}

}  // namespace zcmedia::bench
