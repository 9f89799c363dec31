// StoreStats: what a store has done since it was opened and what it holds,
// in one consistent snapshot (Store::GetStats), with exports for JSON and for
// the Prometheus text format.
#pragma once

#include <cstdint>
#include <string>

#include "zcmedia/media_file.h"
#include "zcmedia/status.h"

namespace zcmedia {

constexpr int kStatusCodeCount = 8;  // Status::Code values

struct StoreStats {
  // -- Activity of this Store object since Open (counters never go down).
  uint64_t records_stored = 0;   // Puts committed
  uint64_t records_updated = 0;  // Updates committed
  uint64_t records_removed = 0;  // Removes committed
  uint64_t bytes_appended = 0;   // segment bytes committed (batch headers included)
  uint64_t batches = 0;          // Write calls that committed a batch
  uint64_t commits = 0;          // meta pages committed (batches, checkpoints, compactions)
  uint64_t checkpoints = 0;      // index checkpoints installed (in-memory runs written out)
  uint64_t index_merges = 0;     // background merges of index run files installed
  uint64_t lookups = 0;          // records and listings asked of snapshots (a bulk call counts its keys)
  // Failed calls by Status::Code (index = the code's value; [0] stays 0):
  // Write, CompactIndexes and snapshot reads that met corruption or I/O
  // errors. NotFound answers are not errors.
  uint64_t errors[kStatusCodeCount] = {};
  // Records committed per second between the previous GetStats call (or
  // Open) and this one, and that interval's length.
  double records_per_second = 0;
  double interval_seconds = 0;

  // -- State (the latest committed snapshot; totals maintained by writes).
  uint64_t sequence = 0;
  uint64_t record_count = 0;
  uint64_t playlists = 0;         // live playlists
  uint64_t playlist_entries = 0;  // live entries over all playlists
  uint64_t files[kMimeFamilies] = {};  // live records per mime family
  int64_t bytes[kMimeFamilies] = {};   // sum of their size column
  uint64_t dead_bytes = 0;                // reclaimable by compaction
  uint64_t segment_bytes = 0;
  uint64_t index_bytes = 0;
  uint64_t index_runs = 0;
  uint64_t memtable_records = 0;  // committed, not yet in index run files
  // Anonymous memory of the whole process (RssAnon, Linux; 0 elsewhere):
  // the store's heap is bounded by Options::memory_budget, and this is what
  // a monitor compares with it.
  uint64_t process_anon_bytes = 0;
  uint64_t memory_budget = 0;

  // -- The lookup cache (locations of recently found records, for
  // Snapshot::FindByPath and FindManyByPath; never consulted by writes).
  // Counters since Open; entries and bytes now.
  uint64_t cache_hits = 0;       // lookups by path answered from the cache (the record still read and checked)
  uint64_t cache_misses = 0;     // lookups the indexes answered (nothing cached, or cached too recently for the snapshot)
  uint64_t cache_inserts = 0;    // locations added
  uint64_t cache_evictions = 0;  // locations dropped for room (least recently used first)
  uint64_t cache_entries = 0;
  uint64_t cache_bytes = 0;      // heap the cache holds, counted exactly; at most cache_capacity
  uint64_t cache_capacity = 0;   // from memory_budget (docs/configuration.md); 0: cache off
};

// One JSON object, keys as the field names (errors as an object keyed by
// status name, files and bytes by family name).
std::string StatsToJson(const StoreStats& stats);
// Prometheus text exposition format (version 0.0.4): zcmedia_* metrics with
// HELP and TYPE lines; counters end in _total; `family` and `code` labels.
std::string StatsToPrometheus(const StoreStats& stats);

}  // namespace zcmedia
