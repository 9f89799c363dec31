// The queries the benchmarks time, each as a pass over a workload of sampled
// keys, on a store and on the legacy SQLite database: point lookups by path
// and by id, directory listings, music category listings, tracks of an
// artist. Every column of every result row is read (TouchColumns), and each
// pass returns a checksum, so that the two sides' results can be compared.
//
// `bench lookup` runs the passes in one process, store and SQLite
// alternating; `bench scale` and `bench profiles` run them in forked children
// (MeasureStoreQueries, MeasureSqliteQueries) so that each side's memory is
// sampled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench_util.h"
#include "generator.h"

namespace zcmedia {
class Store;
}

namespace zcmedia::bench {

class LegacyDb;

// A record whose path and ids the point lookups ask for.
struct SampledRecord {
  uint64_t ordinal = 0;   // position in the generated stream
  std::string path;
  int64_t store_id = 0;
  int64_t sqlite_id = 0;
};

// The keys of a run, sampled uniformly over a stream of unknown length in
// O(lookups + directories) memory (reservoir sampling), whatever N is. The
// same seed and stream give the same sample, however it is fed.
class KeySample {
 public:
  KeySample(uint64_t records, uint64_t lookups, uint64_t directories, uint64_t seed);
  // Offers the record at `ordinal` of the stream. Returns its slot when the
  // record was sampled for the point lookups (path and ordinal filled in;
  // the ids are the caller's to fill), nullptr otherwise.
  SampledRecord* Offer(uint64_t ordinal, const GeneratedRecord& record);

  std::vector<SampledRecord>& records() { return keys_.items(); }
  const std::vector<SampledRecord>& records() const { return keys_.items(); }
  const std::vector<std::string>& directories() const { return directories_.items(); }

 private:
  Reservoir<SampledRecord> keys_;
  // The parents of uniformly sampled records: big folders are listed more
  // often, as in the reference runs.
  Reservoir<std::string> directories_;
};

// The sample of a generated library of `records` records from `seed`, taken
// by generating the stream again (the library must have been loaded, store
// and SQLite alike, from that stream and in that order). A fresh store and a
// fresh SQLite table both number the records 1, 2, ... in load order, so a
// record's ids are its ordinal + 1; the query passes check that (a pass by id
// returns what the pass by path returned).
KeySample SampleGeneratedLibrary(uint64_t records, uint64_t lookups, uint64_t directories,
                                 uint64_t seed);

// What one run asks: `lookups` keys from the sample, cycled when the sample
// is smaller, shuffled; `directories` directories likewise. Holds views into
// the sample, which must outlive it.
struct Workload {
  // The keys point into key_bytes, laid out in the order the passes use
  // them: a server gets its key from the request it just read, so fetching
  // the key must not cost a cache miss (views into the sampled records,
  // visited in shuffled order, cost one per lookup: 25% of a store lookup).
  std::unique_ptr<char[]> key_bytes;
  std::vector<std::string_view> paths;
  std::vector<int64_t> store_ids;   // same records as `paths`, same order
  std::vector<int64_t> sqlite_ids;
  std::vector<std::string_view> directories;
  std::vector<std::string> artists;  // for track lists (bench lookup samples them)
};
Workload MakeWorkload(const KeySample& sample, uint64_t lookups, uint64_t directories, uint64_t seed);

// The outcome of one pass.
struct Pass {
  double per_s = 0;       // queries per second
  uint64_t checksum = 0;  // of every row returned (equal rows give equal sums on both sides)
  uint64_t rows = 0;
};

struct QueryPass {
  const char* name;      // "point lookup by path"
  const char* json_key;  // "path_lookups": JSON keys are store_<key>_per_s, sqlite_<key>_per_s, <key>_ratio
  Pass (*store)(Store&, const Workload&);
  Pass (*sqlite)(LegacyDb&, const Workload&);
  bool needs_artists;    // reads Workload::artists
};

// Every query pass, in report order: path, id, directory, category, artist tracks.
std::span<const QueryPass> AllQueryPasses();
// The passes a workload sampled from the generated stream can run (all but
// the tracks of an artist, whose artists bench lookup samples from the store).
std::vector<QueryPass> PassesWithoutArtists();

// One child's run of several passes.
struct QueryRun {
  std::map<std::string, Pass> passes;  // by QueryPass::json_key
  double peak_anon_kib = 0;            // RssAnon peak over the child's baseline before opening
};

// Opens the store in `store_dir` (with that memory budget; 0 keeps the
// default) in a forked child and runs each pass once on it, the child's
// anonymous memory sampled from outside. Checksums come back truncated to 52
// bits (what a double carries exactly). Throws BenchError if the child fails,
// or if the point lookups by id did not return what those by path did.
QueryRun MeasureStoreQueries(const std::string& store_dir, size_t memory_budget, const Workload& workload,
                             std::span<const QueryPass> passes);
// The same on the legacy database `db_path`, opened read-only.
QueryRun MeasureSqliteQueries(const std::string& db_path, const Workload& workload,
                              std::span<const QueryPass> passes);

}  // namespace zcmedia::bench
