// zcmedia bench scale: one run at scale N (default 10M) giving every figure
// the store is judged by beside SQLite's for the same records: load time and
// rate, size on disk, opening cold and warm, lookups by path and id,
// directory and category listings, and peak anonymous memory.
//
// Every phase of each side runs in a forked child whose RssAnon the parent
// samples every 1 ms (bench_util.h RunInChild): the load (ingest_runs.h, the
// code of bench ingest), the open, the queries (query_passes.h, the passes of
// bench lookup). The parent holds no per-record state either: the lookup
// keys are a bounded sample taken by generating the seeded stream again.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "commands.h"
#include "ingest_runs.h"
#include "query_passes.h"
#include "sqlite_legacy.h"
#include "zcmedia/store.h"

namespace zcmedia::bench {

namespace {

using Values = std::map<std::string, double>;

// Opening a loaded database in a fresh process, its files cold.
struct OpenRun {
  double cold_ms = 0;               // the open alone
  double cold_first_record_ms = 0;  // the open and then the record with id 1
  double warm_ms = 0;               // a second open in the same process, right after
  double peak_anon_kib = 0;
};

// `open` returns a handle to a loaded database; `first_record` reads a record
// through it. Both are timed from the start of the first open.
template <typename OpenFn, typename FirstRecordFn>
OpenRun MeasureOpen(const std::string& side, OpenFn open, FirstRecordFn first_record) {
  ChildReport report = RunInChild([&](Values& out) {
    out["baseline_anon_kib"] = double(ReadProcStatusKiB(0, "RssAnon"));
    Stopwatch clock;
    auto handle = open();
    out["cold_ms"] = clock.Seconds() * 1000;
    first_record(*handle);
    out["cold_first_record_ms"] = clock.Seconds() * 1000;
    handle.reset();
    // Warm: what the first open read is in the page cache now.
    clock.Restart();
    handle = open();
    out["warm_ms"] = clock.Seconds() * 1000;
  });
  FailIfChildFailed(report, side + " open");
  OpenRun run;
  run.cold_ms = report.at("cold_ms");
  run.cold_first_record_ms = report.at("cold_first_record_ms");
  run.warm_ms = report.at("warm_ms");
  run.peak_anon_kib = double(report.peak_anon_kib) - report.at("baseline_anon_kib");
  return run;
}

// Store::Open and the first snapshot: what bench ingest's open_ms times.
OpenRun MeasureStoreOpen(const std::string& store_dir, size_t memory_budget) {
  return MeasureOpen(
      "store",
      [&] {
        std::unique_ptr<Store> store;
        CheckOk(Store::Open(store_dir, StoreOptionsWithBudget(memory_budget), &store),
                "Store::Open('" + store_dir + "')");
        store->GetSnapshot();
        return store;
      },
      [](Store& store) {
        MediaFileView view;
        CheckOk(store.GetSnapshot()->Get(1, &view), "Snapshot::Get(1)");
        DoNotOptimize(TouchColumns(view.Fields()));
      });
}

// sqlite3_open_v2 is lazy: the open is counted up to the schema read, which
// the first statement on a connection does.
OpenRun MeasureSqliteOpen(const std::string& db_path) {
  return MeasureOpen(
      "SQLite",
      [&] {
        std::unique_ptr<LegacyDb> db = LegacyDb::OpenReadOnly(db_path);
        db->Exec("SELECT count(*) FROM sqlite_master");
        return db;
      },
      [](LegacyDb& db) {
        MediaFileFields fields;
        if (!db.FindById(1, &fields)) throw BenchError("SQLite has no row with id 1");
        DoNotOptimize(TouchColumns(fields));
      });
}

// Makes `dir` cold and says how cold it got.
Eviction EvictAndReport(const std::string& dir, const char* side) {
  const Eviction eviction = EvictFromPageCache(dir);
  const double resident_share =
      eviction.bytes ? double(eviction.resident_bytes_after) / double(eviction.bytes) : 0.0;
  std::printf("  cold %-6s: fsync and posix_fadvise(POSIX_FADV_DONTNEED) on its %s file%s (%s bytes); "
              "%.1f%% still cached after (mincore); then opened in a fresh process\n",
              side, FormatThousands(eviction.files).c_str(), eviction.files == 1 ? "" : "s",
              FormatThousands(eviction.bytes).c_str(), 100 * resident_share);
  return eviction;
}

// One line of the report table; `ratio` is store / SQLite (none when SQLite
// has no such figure).
void PrintRow(const std::string& figure, const std::string& store, const std::string& sqlite = "",
              double ratio = 0) {
  std::printf("%-34s %-14s %-14s %s\n", figure.c_str(), store.c_str(), sqlite.c_str(),
              sqlite.empty() ? "" : FormatFixed(ratio, ratio >= 10 ? "%.0fx" : "%.2gx").c_str());
}

}  // namespace

int RunScaleBench(const ScaleBenchOptions& options) {
  if (options.records == 0) throw BenchError("--records must be at least 1");
  if (options.lookups == 0 || options.directories == 0)
    throw BenchError("--lookups and --directories must be at least 1");
  CheckOk(ValidateOptions(StoreOptionsWithBudget(options.memory_budget)), "--budget");
  const size_t budget = StoreOptionsWithBudget(options.memory_budget).memory_budget;

  TempDir work(options.dir, "zcmedia-scale-");
  if (options.keep) work.Keep();
  const std::string store_dir = work.path() + "/store";
  const std::string sqlite_dir = work.path() + "/sqlite";
  if (!std::filesystem::create_directory(sqlite_dir))
    throw BenchError("cannot create '" + sqlite_dir + "'");
  const std::string db_path = sqlite_dir + "/media.db";

  std::printf("bench scale: %s records (seed %llu), store memory budget %s; one run; each phase of "
              "each side in a forked child whose RssAnon is sampled every 1 ms\n",
              FormatThousands(options.records).c_str(), static_cast<unsigned long long>(options.seed),
              FormatByteSize(budget).c_str());
  std::fflush(stdout);

  // Load: both sides read one arena, removed (with its page cache) before
  // the queries.
  StoreIngestRun store_load;
  SqliteIngestRun sqlite_load;
  {
    const LoadArena arena(options.dir, options.seed, options.records, /*stream=*/false);
    const LoadSpec spec{options.records, options.seed, options.memory_budget, false, arena.path()};
    std::printf("  records come from an arena file written before the loads (%.1f s, untimed)\n",
                arena.build_seconds());
    std::fflush(stdout);
    store_load = MeasureStoreIngest(spec, store_dir);
    std::printf("  load   store : %s rec/s, %.2f s (compaction %.2f s)\n", FormatSi(store_load.records_per_s).c_str(),
                store_load.total_s, store_load.compact_s);
    std::fflush(stdout);
    sqlite_load = MeasureSqliteIngest(spec, sqlite_dir);
    std::printf("  load   sqlite: %s rec/s, %.2f s (COMMIT %.2f s)\n", FormatSi(sqlite_load.records_per_s).c_str(),
                sqlite_load.total_s, sqlite_load.commit_s);
    std::fflush(stdout);
  }
  const DiskUsage store_disk = MeasureDirectory(store_dir);
  const DiskUsage sqlite_disk = MeasureDirectory(sqlite_dir);

  // Open: cold (the files evicted), then warm.
  const Eviction store_eviction = EvictAndReport(store_dir, "store");
  const OpenRun store_open = MeasureStoreOpen(store_dir, options.memory_budget);
  const Eviction sqlite_eviction = EvictAndReport(sqlite_dir, "sqlite");
  const OpenRun sqlite_open = MeasureSqliteOpen(db_path);
  std::printf("  (inodes and directory entries stay cached: 'cold' is the files' data)\n");

  // Queries on a warm page cache, as bench lookup runs them.
  Stopwatch sample_clock;
  const KeySample sample =
      SampleGeneratedLibrary(options.records, options.lookups, options.directories, options.seed);
  const Workload workload = MakeWorkload(sample, options.lookups, options.directories, options.seed);
  std::printf("  queries: %s keys and %s directories sampled by generating the records again "
              "(%.1f s, untimed), cycled to %s lookups and %s listings; page cache warmed\n",
              FormatThousands(sample.records().size()).c_str(), FormatThousands(sample.directories().size()).c_str(),
              sample_clock.Seconds(), FormatThousands(options.lookups).c_str(),
              FormatThousands(options.directories).c_str());
  std::fflush(stdout);
  const std::vector<QueryPass> passes = PassesWithoutArtists();
  WarmPageCache(store_dir);
  const QueryRun store_queries = MeasureStoreQueries(store_dir, options.memory_budget, workload, passes);
  WarmPageCache(sqlite_dir);
  const QueryRun sqlite_queries = MeasureSqliteQueries(db_path, workload, passes);

  const double n = double(options.records);
  const double store_peak =
      std::max({store_load.peak_anon_kib, store_open.peak_anon_kib, store_queries.peak_anon_kib});
  const double sqlite_peak =
      std::max({sqlite_load.peak_anon_kib, sqlite_open.peak_anon_kib, sqlite_queries.peak_anon_kib});
  const bool within_budget = store_peak * 1024 <= double(budget);

  std::printf("\n%-34s %-14s %-14s %s\n", "figure", "store", "SQLite", "store/SQLite");
  PrintRow("load, records/s", FormatSi(store_load.records_per_s), FormatSi(sqlite_load.records_per_s),
           store_load.records_per_s / sqlite_load.records_per_s);
  PrintRow("load, seconds", FormatFixed(store_load.total_s, "%.2f s"), FormatFixed(sqlite_load.total_s, "%.2f s"),
           store_load.total_s / sqlite_load.total_s);
  PrintRow("  records/s to durable", FormatSi(store_load.ingest_records_per_s));
  PrintRow("on disk, bytes", FormatThousands(store_disk.apparent_bytes), FormatThousands(sqlite_disk.apparent_bytes),
           double(store_disk.apparent_bytes) / double(sqlite_disk.apparent_bytes));
  PrintRow("on disk, bytes/record", FormatFixed(double(store_disk.apparent_bytes) / n, "%.0f"),
           FormatFixed(double(sqlite_disk.apparent_bytes) / n, "%.0f"),
           double(store_disk.apparent_bytes) / double(sqlite_disk.apparent_bytes));
  PrintRow("open, cold", FormatFixed(store_open.cold_ms, "%.2f ms"), FormatFixed(sqlite_open.cold_ms, "%.2f ms"),
           store_open.cold_ms / sqlite_open.cold_ms);
  PrintRow("open + first record, cold", FormatFixed(store_open.cold_first_record_ms, "%.2f ms"),
           FormatFixed(sqlite_open.cold_first_record_ms, "%.2f ms"),
           store_open.cold_first_record_ms / sqlite_open.cold_first_record_ms);
  PrintRow("open, warm", FormatFixed(store_open.warm_ms, "%.2f ms"), FormatFixed(sqlite_open.warm_ms, "%.2f ms"),
           store_open.warm_ms / sqlite_open.warm_ms);
  bool results_match = true;
  for (const QueryPass& kind : passes) {
    const Pass& s = store_queries.passes.at(kind.json_key);
    const Pass& q = sqlite_queries.passes.at(kind.json_key);
    PrintRow(std::string(kind.name) + ", per second", FormatSi(s.per_s), FormatSi(q.per_s),
             s.per_s / q.per_s);
    if (s.checksum != q.checksum || s.rows != q.rows) {
      results_match = false;
      std::printf("  %s: store and SQLite returned different rows (%llu vs %llu rows)\n", kind.name,
                  static_cast<unsigned long long>(s.rows), static_cast<unsigned long long>(q.rows));
    }
  }
  PrintRow("peak anon over baseline, KiB", FormatThousands(uint64_t(std::max(0.0, store_peak))),
           FormatThousands(uint64_t(std::max(0.0, sqlite_peak))), store_peak / sqlite_peak);
  std::printf("  of which load / open / queries  %s / %s / %s (store), %s / %s / %s (SQLite)\n",
              FormatKib(store_load.peak_anon_kib).c_str(), FormatKib(store_open.peak_anon_kib).c_str(),
              FormatKib(store_queries.peak_anon_kib).c_str(), FormatKib(sqlite_load.peak_anon_kib).c_str(),
              FormatKib(sqlite_open.peak_anon_kib).c_str(), FormatKib(sqlite_queries.peak_anon_kib).c_str());
  std::printf("store peak %s of a %s budget: %s\n", FormatKib(store_peak).c_str(), FormatByteSize(budget).c_str(),
              within_budget ? "within it" : "OVER IT");
  if (!results_match) std::printf("error: the store and SQLite disagree on some results (see above)\n");
  if (options.keep) std::printf("kept the store and the database in %s\n", work.path().c_str());

  JsonLine json;
  json.Add("bench", "scale")
      .Add("records", options.records)
      .Add("seed", options.seed)
      .Add("lookups", options.lookups)
      .Add("directories", options.directories)
      .Add("store_memory_budget", uint64_t(budget))
      .Add("store_records_per_s", store_load.records_per_s)
      .Add("store_ingest_records_per_s", store_load.ingest_records_per_s)
      .Add("store_total_s", store_load.total_s)
      .Add("store_compact_s", store_load.compact_s)
      .Add("store_batch_records", store_load.batch_records)
      .Add("sqlite_records_per_s", sqlite_load.records_per_s)
      .Add("sqlite_total_s", sqlite_load.total_s)
      .Add("ingest_ratio", store_load.records_per_s / sqlite_load.records_per_s)
      .Add("store_disk_bytes", store_disk.apparent_bytes)
      .Add("store_allocated_bytes", store_disk.allocated_bytes)
      .Add("store_bytes_per_record", double(store_disk.apparent_bytes) / n)
      .Add("sqlite_disk_bytes", sqlite_disk.apparent_bytes)
      .Add("sqlite_bytes_per_record", double(sqlite_disk.apparent_bytes) / n)
      .Add("open_ms", store_open.cold_ms)
      .Add("first_record_cold_ms", store_open.cold_first_record_ms)
      .Add("open_warm_ms", store_open.warm_ms)
      .Add("sqlite_open_ms", sqlite_open.cold_ms)
      .Add("sqlite_first_record_cold_ms", sqlite_open.cold_first_record_ms)
      .Add("sqlite_open_warm_ms", sqlite_open.warm_ms)
      .Add("cold_method", "fsync + posix_fadvise(POSIX_FADV_DONTNEED) per file, fresh process")
      .Add("cold_store_resident_bytes", store_eviction.resident_bytes_after)
      .Add("cold_sqlite_resident_bytes", sqlite_eviction.resident_bytes_after);
  for (const QueryPass& kind : passes) {
    const double store_rate = store_queries.passes.at(kind.json_key).per_s;
    const double sqlite_rate = sqlite_queries.passes.at(kind.json_key).per_s;
    json.Add(std::string("store_") + kind.json_key + "_per_s", store_rate)
        .Add(std::string("sqlite_") + kind.json_key + "_per_s", sqlite_rate)
        .Add(std::string(kind.json_key) + "_ratio", store_rate / sqlite_rate);
  }
  json.Add("store_peak_anon_kib", store_peak)
      .Add("store_ingest_peak_anon_kib", store_load.peak_anon_kib)
      .Add("store_open_peak_anon_kib", store_open.peak_anon_kib)
      .Add("store_query_peak_anon_kib", store_queries.peak_anon_kib)
      .Add("store_within_budget", within_budget)
      .Add("sqlite_peak_anon_kib", sqlite_peak)
      .Add("sqlite_ingest_peak_anon_kib", sqlite_load.peak_anon_kib)
      .Add("sqlite_query_peak_anon_kib", sqlite_queries.peak_anon_kib)
      .Add("results_match", results_match);
  const bool regressed = !options.baseline.empty() && CompareWithBaseline(options.baseline, json) > 0;
  if (options.json) std::printf("%s\n", json.ToString().c_str());
  if (!results_match) return 1;
  return regressed ? kRegressionExitCode : 0;
}

}  // namespace zcmedia::bench
