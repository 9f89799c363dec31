// One measured bulk load of the generated library, each side in a forked
// child whose anonymous memory the parent samples (bench_util.h RunInChild):
// the store's (Store::Open .. CompactIndexes, durable batches) and the legacy
// SQLite's (open .. COMMIT). `bench ingest` repeats them; `bench scale` and
// `bench profiles` run them once per budget or size and then query what they
// loaded, so the load is the same code in every report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "bench_util.h"
#include "commands.h"

namespace zcmedia::bench {

// What a measured load stores.
struct LoadSpec {
  uint64_t records = 0;
  uint64_t seed = kDefaultSeed;
  size_t memory_budget = 0;   // Options::memory_budget; 0 keeps the default
  bool stream = false;        // generate inside the timed loop instead of reading `arena_path`
  std::string arena_path;     // a RecordArena file holding `records` records from `seed`
};

// The records every load of one report reads: written once to an arena file
// (record_arena.h) in a temporary directory below `parent`, outside every
// timer, and removed with this object. With `stream` nothing is written and
// the loads generate their records inside the timer.
class LoadArena {
 public:
  LoadArena(const std::string& parent, uint64_t seed, uint64_t records, bool stream);
  const std::string& path() const { return path_; }    // empty with `stream`
  double build_seconds() const { return build_seconds_; }

 private:
  std::optional<TempDir> dir_;
  std::string path_;
  double build_seconds_ = 0;
};

// The store's load, figures of one run. Rates are records per second; memory
// is KiB of RssAnon over the child's baseline just before Store::Open.
struct StoreIngestRun {
  double records_per_s, ingest_records_per_s, total_s, compact_s, close_s, bytes_per_record, allocated_per_record;
  double peak_anon_kib, raw_peak_anon_kib, baseline_anon_kib, hwm_kib;
  double batch_records, index_runs, reopen_ms;
  int64_t samples;
};

// SQLite's load, figures of one run.
struct SqliteIngestRun {
  double records_per_s, total_s, commit_s, close_s, bytes_per_record, open_bytes_per_record;
  double peak_anon_kib, hwm_kib;
};

// Loads spec.records records into a new store in `store_dir` (which must not
// hold one; it stays for the caller to measure, query or remove). Syncs the
// file systems first so that earlier write-back does not land in the timer.
StoreIngestRun MeasureStoreIngest(const LoadSpec& spec, const std::string& store_dir);
// The same for the legacy database `dir`/media.db.
SqliteIngestRun MeasureSqliteIngest(const LoadSpec& spec, const std::string& dir);

}  // namespace zcmedia::bench
