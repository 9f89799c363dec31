#include "ingest_runs.h"

#include <malloc.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

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
  explicit RecordFeed(const LoadSpec& spec) {
    if (spec.stream)
      generator_.emplace(spec.seed, spec.records);
    else
      arena_.emplace(spec.arena_path);
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

// Child: open a fresh store, stream N records into it in recommended-size
// batches (durable commit each), compact the indexes. Timed from Open to the
// end of CompactIndexes; closing is timed separately.
void StoreIngestChild(const LoadSpec& spec, const std::string& dir, Values& out) {
  // The load is pipelined over two threads (store_writer.h). glibc gives each
  // thread that allocates its own malloc arena, which would count a second
  // heap against the budget; memory-bounded deployments set
  // MALLOC_ARENA_MAX=1 (docs/performance.md), and so does this child.
  mallopt(M_ARENA_MAX, 1);
  const Options store_options = StoreOptionsWithBudget(spec.memory_budget);
  RecordFeed feed(spec);
  MediaFileFields fields;

  out["baseline_anon_kib"] = double(ReadProcStatusKiB(0, "RssAnon"));
  Stopwatch clock;
  std::unique_ptr<Store> store;
  CheckOk(Store::Open(dir, store_options, &store), "Store::Open('" + dir + "')");
  const double open_s = clock.Seconds();
  {
    BatchedStoreWriter writer(store.get(), {}, getenv("ZC_NOPIPE") == nullptr);
    while (feed.Next(&fields)) writer.Put(fields);
    writer.Flush();
    out["batch_records"] = double(writer.batch_records());
    out["batches"] = double(writer.batches_written());
  }
  const double written_s = clock.Seconds();
  CheckOk(store->CompactIndexes(), "Store::CompactIndexes");
  const double total_s = clock.Seconds();

  StoreInfo info = store->Info();
  if (info.record_count != spec.records) {
    throw BenchError("store reports " + std::to_string(info.record_count) + " records after " +
                     std::to_string(spec.records) + " puts");
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
void SqliteIngestChild(const LoadSpec& spec, const std::string& dir, Values& out) {
  RecordFeed feed(spec);
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

}  // namespace

LoadArena::LoadArena(const std::string& parent, uint64_t seed, uint64_t records, bool stream) {
  if (stream) return;
  dir_.emplace(parent, "zcmedia-arena-");
  path_ = dir_->path() + "/records.arena";
  Stopwatch clock;
  RecordArena::Build(path_, seed, records);
  build_seconds_ = clock.Seconds();
}

namespace {

// Syncs the file systems, loads `dir` in a forked child running `child`, and
// measures what the load left on disk (*usage).
ChildReport RunLoadChild(const std::string& what, const std::string& dir,
                         const std::function<void(Values&)>& child, DiskUsage* usage) {
  SyncFilesystems();
  ChildReport report = RunInChild(child);
  FailIfChildFailed(report, what);
  *usage = MeasureDirectory(dir);
  return report;
}

}  // namespace

StoreIngestRun MeasureStoreIngest(const LoadSpec& spec, const std::string& store_dir) {
  DiskUsage usage;
  const ChildReport report = RunLoadChild(
      "store ingest", store_dir, [&](Values& out) { StoreIngestChild(spec, store_dir, out); }, &usage);

  StoreIngestRun run;
  const double n = double(spec.records);
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
  run.samples = report.samples;
  return run;
}

SqliteIngestRun MeasureSqliteIngest(const LoadSpec& spec, const std::string& dir) {
  // After close: the database file, plus a -wal if one was left behind.
  DiskUsage usage;
  const ChildReport report = RunLoadChild(
      "SQLite ingest", dir, [&](Values& out) { SqliteIngestChild(spec, dir, out); }, &usage);

  SqliteIngestRun run;
  const double n = double(spec.records);
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

}  // namespace zcmedia::bench
