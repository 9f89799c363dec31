// zcmedia bench ingest: bulk-store N generated records in the store and in the
// legacy SQLite database, the way perf-anchors.md measured its baselines:
// runs interleaved store/SQLite, sync before each, medians [min–max].
//
// Each measurement runs in a forked child: every run starts from a fresh
// process (no heap, allocator or mapping state left by an earlier run), and
// the parent can watch the child's anonymous memory from outside at 1 ms.
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "commands.h"
#include "generator.h"
#include "record_arena.h"
#include "sqlite_legacy.h"
#include "store_writer.h"
#include "zcmedia/store.h"

namespace zcmedia::bench {

namespace {

using Values = std::map<std::string, double>;

// What a timed loop reads its records from: by default the arena the parent
// wrote before the runs (mapped and populated before the timer starts, as
// perf-anchors.md measures); with --stream the generator, inside the timer.
class RecordFeed {
 public:
  RecordFeed(const IngestBenchOptions& options, const std::string& arena_path) {
    if (options.stream)
      generator_.emplace(options.seed, options.records);
    else
      arena_.emplace(arena_path);
  }
  bool Next(MediaFileFields* fields) {
    if (arena_) return arena_->Next(fields);
    if (!generator_->Next(&record_)) return false;
    *fields = record_.fields();
    return true;
  }

 private:
  std::optional<RecordArena> arena_;
  std::optional<LibraryGenerator> generator_;
  GeneratedRecord record_;
};

// With --reader: looks up records already stored, by id and then by the
// path found, from a new snapshot every 1,000 records, until stopped. Ids
// are drawn log-uniformly (Zipf, s = 1: the oldest records are asked for
// most), so the lookup cache (paths) fills and stays in use while the load
// commits and invalidates.
class StoreReader {
 public:
  StoreReader(Store* store, uint64_t seed) : thread_([this, store, seed] { Run(store, seed); }) {}
  // Stops and joins; throws BenchError if a lookup failed.
  uint64_t Stop() {
    stop_.store(true);
    thread_.join();
    if (!error_.empty()) throw BenchError("reader thread: " + error_);
    return lookups_;
  }

 private:
  void Run(Store* store, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    MediaFileView view;
    while (!stop_.load()) {
      std::shared_ptr<const Snapshot> snapshot = store->GetSnapshot();
      const int64_t last = snapshot->next_id() - 1;
      if (last < 1) {
        std::this_thread::yield();
        continue;
      }
      for (int k = 0; k < 1000; ++k) {
        const auto id = static_cast<int64_t>(std::exp(unit(rng) * std::log(double(last) + 1)));
        Status s = snapshot->Get(std::clamp<int64_t>(id, 1, last), &view);
        if (s.ok()) s = snapshot->FindByPath(view.path(), &view);
        if (!s.ok()) {
          error_ = s.ToString();
          return;
        }
        ++lookups_;
      }
    }
  }

  std::atomic<bool> stop_{false};
  uint64_t lookups_ = 0;  // read after join
  std::string error_;
  std::thread thread_;  // last: starts once the rest is constructed
};

// Child: open a fresh store, stream N records into it in recommended-size
// batches (durable commit each), compact the indexes. Timed from Open to the
// end of CompactIndexes; closing is timed separately.
void StoreIngestChild(const IngestBenchOptions& options, const std::string& arena_path,
                      const std::string& dir, Values& out) {
  // The load is pipelined over two threads (store_writer.h). glibc gives each
  // thread that allocates its own malloc arena, which would count a second
  // heap against the budget; memory-bounded deployments set
  // MALLOC_ARENA_MAX=1 (docs/performance.md), and so does this child.
  mallopt(M_ARENA_MAX, 1);
  Options store_options;
  if (options.memory_budget) store_options.memory_budget = options.memory_budget;
  RecordFeed feed(options, arena_path);
  MediaFileFields fields;

  out["baseline_anon_kib"] = double(ReadProcStatusKiB(0, "RssAnon"));
  Stopwatch clock;
  std::unique_ptr<Store> store;
  CheckOk(Store::Open(dir, store_options, &store), "Store::Open('" + dir + "')");
  const double open_s = clock.Seconds();
  {
    std::optional<StoreReader> reader;
    if (options.reader) reader.emplace(store.get(), options.seed);
    BatchedStoreWriter writer(store.get(), {}, getenv("ZC_NOPIPE") == nullptr);
    while (feed.Next(&fields)) writer.Put(fields);
    writer.Flush();
    out["batch_records"] = double(writer.batch_records());
    out["batches"] = double(writer.batches_written());
    out["reader_lookups"] = reader ? double(reader->Stop()) : 0;
    const StoreStats stats = store->GetStats();
    out["cache_hits"] = double(stats.cache_hits);
    out["cache_misses"] = double(stats.cache_misses);
    out["cache_bytes"] = double(stats.cache_bytes);
  }
  const double written_s = clock.Seconds();
  CheckOk(store->CompactIndexes(), "Store::CompactIndexes");
  const double total_s = clock.Seconds();

  StoreInfo info = store->Info();
  if (info.record_count != options.records) {
    throw BenchError("store reports " + std::to_string(info.record_count) + " records after " +
                     std::to_string(options.records) + " puts");
  }
  out["end_anon_kib"] = double(ReadProcStatusKiB(0, "RssAnon"));
  Stopwatch close_clock;
  store.reset();
  out["close_s"] = close_clock.Seconds();
  // Opening the loaded store again, as a server restarting on it would
  // (page cache warm; no index rebuild: META names the run files).
  {
    Stopwatch reopen_clock;
    CheckOk(Store::Open(dir, store_options, &store), "Store::Open('" + dir + "') after the load");
    store->GetSnapshot();
    out["reopen_ms"] = reopen_clock.Seconds() * 1000;
    store.reset();
  }

  out["open_s"] = open_s;
  out["write_s"] = written_s - open_s;
  out["compact_s"] = total_s - written_s;
  out["total_s"] = total_s;
  out["info_disk_bytes"] = double(info.disk_bytes);
  out["info_segment_bytes"] = double(info.segment_bytes);
  out["info_index_bytes"] = double(info.index_bytes);
  out["info_index_runs"] = double(info.index_runs);
  out["hwm_kib"] = double(ReadProcStatusKiB(0, "VmHWM"));
}

// Child: the legacy load, one transaction, same records. Timed from open
// (PRAGMAs and DDL included, as the store's time includes Open) to the end of
// COMMIT, which runs the WAL checkpoint.
void SqliteIngestChild(const IngestBenchOptions& options, const std::string& arena_path,
                       const std::string& dir, Values& out) {
  RecordFeed feed(options, arena_path);
  MediaFileFields fields;
  const std::string path = dir + "/media.db";

  out["baseline_anon_kib"] = double(ReadProcStatusKiB(0, "RssAnon"));
  Stopwatch clock;
  std::unique_ptr<LegacyDb> db = LegacyDb::Create(path);
  const double open_s = clock.Seconds();
  db->Begin();
  while (feed.Next(&fields)) db->Insert(fields);
  const double inserted_s = clock.Seconds();
  db->Commit();
  const double total_s = clock.Seconds();

  DiskUsage before_close = MeasureDirectory(dir);
  Stopwatch close_clock;
  db.reset();
  out["close_s"] = close_clock.Seconds();

  out["open_s"] = open_s;
  out["insert_s"] = inserted_s - open_s;
  out["commit_s"] = total_s - inserted_s;
  out["total_s"] = total_s;
  out["bytes_before_close"] = double(before_close.apparent_bytes);
  out["hwm_kib"] = double(ReadProcStatusKiB(0, "VmHWM"));
}

struct StoreRun {
  double records_per_s, ingest_records_per_s, total_s, compact_s, close_s, bytes_per_record, allocated_per_record;
  double peak_anon_kib, raw_peak_anon_kib, baseline_anon_kib, hwm_kib;
  double batch_records, index_runs, reopen_ms;
  double reader_lookups, cache_hit_rate, cache_kib;
  int64_t samples;
};

struct SqliteRun {
  double records_per_s, total_s, commit_s, close_s, bytes_per_record, open_bytes_per_record;
  double peak_anon_kib, hwm_kib;
};

void FailIfChildFailed(const ChildReport& report, const char* what) {
  if (!report.error.empty()) throw BenchError(std::string(what) + " run failed: " + report.error);
}

StoreRun MeasureStore(const IngestBenchOptions& options, const std::string& arena_path, bool keep) {
  TempDir dir(options.dir, "zcmedia-ingest-store-");
  SyncFilesystems();
  ChildReport report = RunInChild(
      [&](Values& out) { StoreIngestChild(options, arena_path, dir.path(), out); });
  FailIfChildFailed(report, "store ingest");
  DiskUsage usage = MeasureDirectory(dir.path());
  if (keep) {
    dir.Keep();
    std::printf("  (kept the store in %s)\n", dir.path().c_str());
  }

  StoreRun run;
  const double n = double(options.records);
  run.total_s = report.at("total_s");
  run.records_per_s = n / run.total_s;
  run.compact_s = report.at("compact_s");
  // Every commit is durable, indexes included, before compaction: this is
  // the rate at which a library becomes stored; compaction only speeds reads.
  run.ingest_records_per_s = n / (run.total_s - run.compact_s);
  run.close_s = report.at("close_s");
  run.bytes_per_record = double(usage.apparent_bytes) / n;
  run.allocated_per_record = double(usage.allocated_bytes) / n;
  run.baseline_anon_kib = report.at("baseline_anon_kib");
  run.raw_peak_anon_kib = double(report.peak_anon_kib);
  run.peak_anon_kib = run.raw_peak_anon_kib - run.baseline_anon_kib;
  run.hwm_kib = report.at("hwm_kib");
  run.batch_records = report.at("batch_records");
  run.index_runs = report.at("info_index_runs");
  run.reopen_ms = report.at("reopen_ms");
  run.reader_lookups = report.at("reader_lookups");
  const double asked = report.at("cache_hits") + report.at("cache_misses");
  run.cache_hit_rate = asked > 0 ? report.at("cache_hits") / asked : 0;
  run.cache_kib = report.at("cache_bytes") / 1024;
  run.samples = report.samples;
  return run;
}

SqliteRun MeasureSqlite(const IngestBenchOptions& options, const std::string& arena_path, bool keep) {
  TempDir dir(options.dir, "zcmedia-ingest-sqlite-");
  SyncFilesystems();
  ChildReport report = RunInChild(
      [&](Values& out) { SqliteIngestChild(options, arena_path, dir.path(), out); });
  FailIfChildFailed(report, "SQLite ingest");
  // After close: the database file, plus a -wal if one was left behind.
  DiskUsage usage = MeasureDirectory(dir.path());
  if (keep) {
    dir.Keep();
    std::printf("  (kept the SQLite database in %s)\n", dir.path().c_str());
  }

  SqliteRun run;
  const double n = double(options.records);
  run.total_s = report.at("total_s");
  run.records_per_s = n / run.total_s;
  run.commit_s = report.at("commit_s");
  run.close_s = report.at("close_s");
  run.bytes_per_record = double(usage.apparent_bytes) / n;
  run.open_bytes_per_record = report.at("bytes_before_close") / n;
  run.peak_anon_kib = double(report.peak_anon_kib) - report.at("baseline_anon_kib");
  run.hwm_kib = report.at("hwm_kib");
  return run;
}

template <typename Run>
Summary SummarizeField(const std::vector<Run>& runs, double Run::*field) {
  std::vector<double> values;
  for (const Run& run : runs) values.push_back(run.*field);
  return Summarize(values);
}

std::string Fixed(double value, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::string Kib(double value) { return FormatThousands(uint64_t(std::max(0.0, value))) + " KiB"; }

}  // namespace

int RunIngestBench(const IngestBenchOptions& options) {
  if (options.records == 0) throw BenchError("--records must be at least 1");
  if (options.runs < 1) throw BenchError("--runs must be at least 1");

  // Generation alone, so that readers of --stream figures can subtract it.
  double generation_per_s = 0;
  {
    LibraryGenerator generator(options.seed, options.records);
    GeneratedRecord record;
    uint64_t touched = 0;
    Stopwatch clock;
    while (generator.Next(&record)) touched += record.path.size();
    generation_per_s = double(options.records) / clock.Seconds();
    DoNotOptimize(touched);
  }

  std::printf("bench ingest: %s records (seed %llu), %d run%s, store and SQLite interleaved, "
              "sync before each run\n",
              FormatThousands(options.records).c_str(),
              static_cast<unsigned long long>(options.seed), options.runs,
              options.runs == 1 ? "" : "s");
  // Both sides read the same records from one arena file written here,
  // outside every timer (or, with --stream, generate them inside it).
  TempDir arena_dir(options.dir, "zcmedia-ingest-arena-");
  const std::string arena_path = arena_dir.path() + "/records.arena";
  if (options.stream) {
    std::printf("  records are generated inside both timed loops (--stream; generation alone: "
                "%s rec/s, %.2f µs/rec)\n",
                FormatSi(generation_per_s).c_str(), 1e6 / generation_per_s);
  } else {
    Stopwatch arena_clock;
    RecordArena::Build(arena_path, options.seed, options.records);
    std::printf("  records come from an arena file written before the runs (%.1f s, untimed) and "
                "mapped before each timer starts; --stream generates them inside the timers\n",
                arena_clock.Seconds());
  }
  std::fflush(stdout);

  std::vector<StoreRun> store_runs;
  std::vector<SqliteRun> sqlite_runs;
  std::vector<double> ratios;
  for (int run = 0; run < options.runs; ++run) {
    const bool last = run + 1 == options.runs;
    const bool keep = options.keep && last;
    // Alternate which side goes first, so neither always inherits the
    // other's write-back.
    for (int side = 0; side < 2; ++side) {
      const bool store_turn = (side == 0) == (run % 2 == 0);
      if (!store_turn && options.store_only) continue;
      if (store_turn) {
        StoreRun r = MeasureStore(options, arena_path, keep);
        store_runs.push_back(r);
        std::printf("  run %d/%d store : %8s rec/s  %.3f s (compaction %.3f s), %.0f B/rec, "
                    "peak anon +%s (raw %s)\n",
                    run + 1, options.runs, FormatSi(r.records_per_s).c_str(), r.total_s,
                    r.compact_s, r.bytes_per_record, Kib(r.peak_anon_kib).c_str(),
                    Kib(r.raw_peak_anon_kib).c_str());
        if (options.reader)
          std::printf("               reader: %s records looked up during the load, lookup cache %s (hit rate %.1f%%)\n",
                      FormatThousands(uint64_t(r.reader_lookups)).c_str(), Kib(r.cache_kib).c_str(),
                      100 * r.cache_hit_rate);
      } else {
        SqliteRun r = MeasureSqlite(options, arena_path, keep);
        sqlite_runs.push_back(r);
        std::printf("  run %d/%d sqlite: %8s rec/s  %.3f s (commit %.3f s), %.0f B/rec, "
                    "peak anon +%s\n",
                    run + 1, options.runs, FormatSi(r.records_per_s).c_str(), r.total_s,
                    r.commit_s, r.bytes_per_record, Kib(r.peak_anon_kib).c_str());
      }
      std::fflush(stdout);
    }
    if (!options.store_only) ratios.push_back(store_runs.back().records_per_s / sqlite_runs.back().records_per_s);
  }

  const Summary store_rate = SummarizeField(store_runs, &StoreRun::records_per_s);
  const Summary store_ingest_rate = SummarizeField(store_runs, &StoreRun::ingest_records_per_s);
  const Summary store_total = SummarizeField(store_runs, &StoreRun::total_s);
  const Summary store_compact = SummarizeField(store_runs, &StoreRun::compact_s);
  const Summary store_close = SummarizeField(store_runs, &StoreRun::close_s);
  const Summary store_bytes = SummarizeField(store_runs, &StoreRun::bytes_per_record);
  const Summary store_allocated = SummarizeField(store_runs, &StoreRun::allocated_per_record);
  const Summary store_peak = SummarizeField(store_runs, &StoreRun::peak_anon_kib);
  const Summary store_raw_peak = SummarizeField(store_runs, &StoreRun::raw_peak_anon_kib);
  const Summary store_baseline = SummarizeField(store_runs, &StoreRun::baseline_anon_kib);
  const Summary store_hwm = SummarizeField(store_runs, &StoreRun::hwm_kib);
  const Summary store_reopen = SummarizeField(store_runs, &StoreRun::reopen_ms);
  const Summary store_reader_lookups = SummarizeField(store_runs, &StoreRun::reader_lookups);
  const Summary store_cache_hit_rate = SummarizeField(store_runs, &StoreRun::cache_hit_rate);
  const Summary store_cache_kib = SummarizeField(store_runs, &StoreRun::cache_kib);
  // (With --store-only there are no SQLite runs: its figures stay unset.)
  Summary sqlite_rate, sqlite_total, sqlite_commit, sqlite_bytes, sqlite_open_bytes, sqlite_peak, ratio_runs;
  double ratio = 0;
  if (!options.store_only) {
    sqlite_rate = SummarizeField(sqlite_runs, &SqliteRun::records_per_s);
    sqlite_total = SummarizeField(sqlite_runs, &SqliteRun::total_s);
    sqlite_commit = SummarizeField(sqlite_runs, &SqliteRun::commit_s);
    sqlite_bytes = SummarizeField(sqlite_runs, &SqliteRun::bytes_per_record);
    sqlite_open_bytes = SummarizeField(sqlite_runs, &SqliteRun::open_bytes_per_record);
    sqlite_peak = SummarizeField(sqlite_runs, &SqliteRun::peak_anon_kib);
    ratio_runs = Summarize(ratios);
    ratio = store_rate.median / sqlite_rate.median;
  }
  const double compact_share = store_compact.median / store_total.median;

  auto seconds = [](double v) { return Fixed(v, "%.3f s"); };
  auto bytes = [](double v) { return Fixed(v, "%.0f"); };
  auto kib = [](double v) { return FormatThousands(uint64_t(std::max(0.0, v))); };
  const StoreRun& any_store = store_runs.front();

  std::printf("\nmedian [min–max] (runs)\n");
  const size_t budget = options.memory_budget ? options.memory_budget : Options().memory_budget;
  std::printf("store: Store::Open .. CompactIndexes(), memory budget %s KiB, batches of %s records "
              "(recommended_batch_records), durable commit per batch\n",
              FormatThousands(budget / 1024).c_str(),
              FormatThousands(uint64_t(any_store.batch_records)).c_str());
  std::printf("  records/s             %s\n", FormatSummary(store_rate).c_str());
  std::printf("  records/s to durable  %s (open..last Write, before CompactIndexes)\n",
              FormatSummary(store_ingest_rate).c_str());
  std::printf("  open..end             %s\n", FormatSummary(store_total, seconds).c_str());
  std::printf("  of which compaction   %s (%.0f%% of the median time)\n",
              FormatSummary(store_compact, seconds).c_str(), 100 * compact_share);
  std::printf("  close (untimed)       %s\n", FormatSummary(store_close, seconds).c_str());
  std::printf("  reopen (untimed)      %s (Store::Open of the loaded store, page cache warm)\n",
              FormatSummary(store_reopen, [](double v) { return Fixed(v, "%.1f ms"); }).c_str());
  std::printf("  bytes/record on disk  %s (allocated: %s)\n", FormatSummary(store_bytes, bytes).c_str(),
              FormatSummary(store_allocated, bytes).c_str());
  std::printf("  peak anon KiB         +%s over the baseline before Store::Open (sampled every 1 ms)\n",
              FormatSummary(store_peak, kib).c_str());
  std::printf("                        raw peak %s, baseline %s, VmHWM (incl. file-backed) %s\n",
              FormatSummary(store_raw_peak, kib).c_str(), FormatSummary(store_baseline, kib).c_str(),
              FormatSummary(store_hwm, kib).c_str());
  if (options.reader)
    std::printf("  with a reader thread  %s records looked up (by id, then path) during the load (rates not comparable with runs "
                "without it), lookup cache %s KiB, hit rate %s\n",
                FormatSummary(store_reader_lookups, kib).c_str(), FormatSummary(store_cache_kib, kib).c_str(),
                FormatSummary(store_cache_hit_rate, [](double v) { return Fixed(100 * v, "%.1f%%"); }).c_str());
  if (options.store_only) {
    std::printf("sqlite: not run (--store-only)\n");
  } else {
    std::printf("sqlite: legacy shape D (13 media_files indexes + UNIQUE(path)), WAL + NORMAL, 2 MB cache, "
                "one transaction; open..COMMIT\n");
    std::printf("  records/s             %s\n", FormatSummary(sqlite_rate).c_str());
    std::printf("  open..COMMIT          %s\n", FormatSummary(sqlite_total, seconds).c_str());
    std::printf("  of which COMMIT       %s\n", FormatSummary(sqlite_commit, seconds).c_str());
    std::printf("  bytes/record on disk  %s (db + wal after close; %s before close, while the "
                "WAL is still there)\n",
                FormatSummary(sqlite_bytes, bytes).c_str(), FormatSummary(sqlite_open_bytes, bytes).c_str());
    std::printf("  peak anon KiB         +%s\n", FormatSummary(sqlite_peak, kib).c_str());
    std::printf("store/sqlite records/s: %.1fx (per run %s)\n", ratio,
                FormatSummary(ratio_runs, [](double v) { return Fixed(v, "%.1fx"); }).c_str());
  }

  {
    JsonLine json;
    json.Add("bench", "ingest")
        .Add("records", options.records)
        .Add("runs", options.runs)
        .Add("seed", options.seed)
        .Add("store_records_per_s", store_rate.median)
        .Add("open_ms", store_reopen.median)
        .Add("store_records_per_s_min", store_rate.min)
        .Add("store_records_per_s_max", store_rate.max)
        .Add("store_ingest_records_per_s", store_ingest_rate.median)
        .Add("store_bytes_per_record", store_bytes.median)
        .Add("store_allocated_bytes_per_record", store_allocated.median)
        .Add("store_peak_anon_kib", store_peak.median)
        .Add("store_peak_anon_kib_max", store_peak.max)
        .Add("store_raw_peak_anon_kib", store_raw_peak.median)
        .Add("store_baseline_anon_kib", store_baseline.median)
        .Add("store_hwm_kib", store_hwm.median)
        .Add("store_total_s", store_total.median)
        .Add("store_compact_s", store_compact.median)
        .Add("store_compact_share", compact_share)
        .Add("store_close_s", store_close.median)
        .Add("store_batch_records", any_store.batch_records)
        .Add("store_memory_budget", uint64_t(budget))
        .Add("generation_records_per_s", generation_per_s)
        .Add("records_source", options.stream ? "stream" : "arena")
        .Add("generation_in_timed_loop", options.stream)
        .Add("memory_samples_per_run", any_store.samples)
        .Add("store_only", options.store_only)
        .Add("reader", options.reader);
    if (options.reader)
      json.Add("store_reader_lookups", store_reader_lookups.median)
          .Add("store_cache_hit_rate", store_cache_hit_rate.median)
          .Add("store_cache_kib", store_cache_kib.median);
    if (!options.store_only) {
      json.Add("sqlite_records_per_s", sqlite_rate.median)
          .Add("sqlite_records_per_s_min", sqlite_rate.min)
          .Add("sqlite_records_per_s_max", sqlite_rate.max)
          .Add("ratio", ratio)
          .Add("ratio_min", ratio_runs.min)
          .Add("ratio_max", ratio_runs.max)
          .Add("sqlite_bytes_per_record", sqlite_bytes.median)
          .Add("sqlite_bytes_per_record_before_close", sqlite_open_bytes.median)
          .Add("sqlite_peak_anon_kib", sqlite_peak.median)
          .Add("sqlite_total_s", sqlite_total.median)
          .Add("sqlite_commit_s", sqlite_commit.median);
    }
    if (!options.baseline.empty() && CompareWithBaseline(options.baseline, json) > 0) {
      if (options.json) std::printf("%s\n", json.ToString().c_str());
      return kRegressionExitCode;
    }
    if (options.json) std::printf("%s\n", json.ToString().c_str());
  }
  return 0;
}

}  // namespace zcmedia::bench
