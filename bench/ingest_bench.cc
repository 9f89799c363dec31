// zcmedia bench ingest: bulk-store N generated records in the store and in the
// legacy SQLite database, the way perf-anchors.md measured its baselines:
// runs interleaved store/SQLite, sync before each, medians [min–max].
//
// Each measurement runs in a forked child (ingest_runs.h): every run starts
// from a fresh process (no heap, allocator or mapping state left by an
// earlier run), and the parent can watch the child's anonymous memory from
// outside at 1 ms.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_util.h"
#include "commands.h"
#include "generator.h"
#include "ingest_runs.h"

namespace zcmedia::bench {

namespace {

// One run of a side (MeasureStoreIngest or MeasureSqliteIngest) in a fresh
// temporary directory, kept (and named) only when asked.
template <typename Run>
Run MeasureInTempDir(Run (*measure)(const LoadSpec&, const std::string&), const LoadSpec& spec,
                     const std::string& parent, const char* side, bool keep) {
  TempDir dir(parent, std::string("zcmedia-ingest-") + side + "-");
  Run run = measure(spec, dir.path());
  if (keep) {
    dir.Keep();
    std::printf("  (kept the %s files in %s)\n", side, dir.path().c_str());
  }
  return run;
}

template <typename Run>
Summary SummarizeField(const std::vector<Run>& runs, double Run::*field) {
  std::vector<double> values;
  for (const Run& run : runs) values.push_back(run.*field);
  return Summarize(values);
}

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
  const LoadArena arena(options.dir, options.seed, options.records, options.stream);
  const LoadSpec spec{options.records, options.seed, options.memory_budget, options.stream, arena.path()};
  if (options.stream) {
    std::printf("  records are generated inside both timed loops (--stream; generation alone: "
                "%s rec/s, %.2f µs/rec)\n",
                FormatSi(generation_per_s).c_str(), 1e6 / generation_per_s);
  } else {
    std::printf("  records come from an arena file written before the runs (%.1f s, untimed) and "
                "mapped before each timer starts; --stream generates them inside the timers\n",
                arena.build_seconds());
  }
  std::fflush(stdout);

  std::vector<StoreIngestRun> store_runs;
  std::vector<SqliteIngestRun> sqlite_runs;
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
        StoreIngestRun r = MeasureInTempDir(MeasureStoreIngest, spec, options.dir, "store", keep);
        store_runs.push_back(r);
        std::printf("  run %d/%d store : %8s rec/s  %.3f s (compaction %.3f s), %.0f B/rec, "
                    "peak anon +%s (raw %s)\n",
                    run + 1, options.runs, FormatSi(r.records_per_s).c_str(), r.total_s,
                    r.compact_s, r.bytes_per_record, FormatKib(r.peak_anon_kib).c_str(),
                    FormatKib(r.raw_peak_anon_kib).c_str());
      } else {
        SqliteIngestRun r = MeasureInTempDir(MeasureSqliteIngest, spec, options.dir, "sqlite", keep);
        sqlite_runs.push_back(r);
        std::printf("  run %d/%d sqlite: %8s rec/s  %.3f s (commit %.3f s), %.0f B/rec, "
                    "peak anon +%s\n",
                    run + 1, options.runs, FormatSi(r.records_per_s).c_str(), r.total_s,
                    r.commit_s, r.bytes_per_record, FormatKib(r.peak_anon_kib).c_str());
      }
      std::fflush(stdout);
    }
    if (!options.store_only) ratios.push_back(store_runs.back().records_per_s / sqlite_runs.back().records_per_s);
  }

  const Summary store_rate = SummarizeField(store_runs, &StoreIngestRun::records_per_s);
  const Summary store_ingest_rate = SummarizeField(store_runs, &StoreIngestRun::ingest_records_per_s);
  const Summary store_total = SummarizeField(store_runs, &StoreIngestRun::total_s);
  const Summary store_compact = SummarizeField(store_runs, &StoreIngestRun::compact_s);
  const Summary store_close = SummarizeField(store_runs, &StoreIngestRun::close_s);
  const Summary store_bytes = SummarizeField(store_runs, &StoreIngestRun::bytes_per_record);
  const Summary store_allocated = SummarizeField(store_runs, &StoreIngestRun::allocated_per_record);
  const Summary store_peak = SummarizeField(store_runs, &StoreIngestRun::peak_anon_kib);
  const Summary store_raw_peak = SummarizeField(store_runs, &StoreIngestRun::raw_peak_anon_kib);
  const Summary store_baseline = SummarizeField(store_runs, &StoreIngestRun::baseline_anon_kib);
  const Summary store_hwm = SummarizeField(store_runs, &StoreIngestRun::hwm_kib);
  const Summary store_reopen = SummarizeField(store_runs, &StoreIngestRun::reopen_ms);
  // (With --store-only there are no SQLite runs: its figures stay unset.)
  Summary sqlite_rate, sqlite_total, sqlite_commit, sqlite_bytes, sqlite_open_bytes, sqlite_peak, ratio_runs;
  double ratio = 0;
  if (!options.store_only) {
    sqlite_rate = SummarizeField(sqlite_runs, &SqliteIngestRun::records_per_s);
    sqlite_total = SummarizeField(sqlite_runs, &SqliteIngestRun::total_s);
    sqlite_commit = SummarizeField(sqlite_runs, &SqliteIngestRun::commit_s);
    sqlite_bytes = SummarizeField(sqlite_runs, &SqliteIngestRun::bytes_per_record);
    sqlite_open_bytes = SummarizeField(sqlite_runs, &SqliteIngestRun::open_bytes_per_record);
    sqlite_peak = SummarizeField(sqlite_runs, &SqliteIngestRun::peak_anon_kib);
    ratio_runs = Summarize(ratios);
    ratio = store_rate.median / sqlite_rate.median;
  }
  const double compact_share = store_compact.median / store_total.median;

  auto seconds = [](double v) { return FormatFixed(v, "%.3f s"); };
  auto bytes = [](double v) { return FormatFixed(v, "%.0f"); };
  auto kib = [](double v) { return FormatThousands(uint64_t(std::max(0.0, v))); };
  const StoreIngestRun& any_store = store_runs.front();

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
              FormatSummary(store_reopen, [](double v) { return FormatFixed(v, "%.1f ms"); }).c_str());
  std::printf("  bytes/record on disk  %s (allocated: %s)\n", FormatSummary(store_bytes, bytes).c_str(),
              FormatSummary(store_allocated, bytes).c_str());
  std::printf("  peak anon KiB         +%s over the baseline before Store::Open (sampled every 1 ms)\n",
              FormatSummary(store_peak, kib).c_str());
  std::printf("                        raw peak %s, baseline %s, VmHWM (incl. file-backed) %s\n",
              FormatSummary(store_raw_peak, kib).c_str(), FormatSummary(store_baseline, kib).c_str(),
              FormatSummary(store_hwm, kib).c_str());
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
                FormatSummary(ratio_runs, [](double v) { return FormatFixed(v, "%.1fx"); }).c_str());
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
        .Add("store_only", options.store_only);
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
