// Entry points of the `zcmedia demo` and `zcmedia bench ...` commands. Each
// prints its report to stdout and returns the process exit code; failures
// throw BenchError (bench_util.h) with a message for the user.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace zcmedia::bench {

// Default generator seed: any run with the same seed and N stores the same
// records.
constexpr uint64_t kDefaultSeed = 20240601;

struct IngestBenchOptions {
  uint64_t records = 100'000;
  int runs = 3;
  bool json = false;               // last line: one JSON object
  std::string dir = "/tmp";        // temp stores and databases go below it
  size_t memory_budget = 0;        // Options::memory_budget; 0 keeps the default
  uint64_t seed = kDefaultSeed;
  bool keep = false;               // leave the last run's files in place
  bool stream = false;             // generate inside the timed loops instead of reading an arena
  bool store_only = false;         // skip SQLite (quick scale checks; no ratio)
  bool reader = false;             // a thread looking records up during the store's load (memory with the lookup cache in use)
  std::string baseline;            // JSON of a saved run: flag figures >10% worse
};
int RunIngestBench(const IngestBenchOptions& options);

struct LookupBenchOptions {
  uint64_t records = 100'000;
  uint64_t lookups = 100'000;      // point lookups per run (each of path and id)
  uint64_t directories = 10'000;   // directory listings per run
  int runs = 3;
  bool json = false;
  std::string dir = "/tmp";
  size_t memory_budget = 0;
  uint64_t seed = kDefaultSeed;
  std::string baseline;            // JSON of a saved run: flag figures >10% worse
  bool compact = true;             // CompactIndexes after the load (one run per index)
  // Evict both databases from the page cache after the load, then one
  // untimed pass of every query class: a server some time after a restart.
  // False: query the page cache as the load left it (pages written by the
  // load itself, which the kernel never backs with huge pages).
  bool restart = true;
};
int RunLookupBench(const LookupBenchOptions& options);

// One run at scale N, every figure beside SQLite's for the same data: load,
// size on disk, cold and warm open, lookups, listings, peak memory.
struct ScaleBenchOptions {
  uint64_t records = 10'000'000;
  uint64_t lookups = 100'000;      // point lookups (each of path and id)
  uint64_t directories = 10'000;   // directory listings
  bool json = false;
  std::string dir = "/tmp";        // the store and database go below it
  size_t memory_budget = 0;        // Options::memory_budget; 0 keeps the default
  uint64_t seed = kDefaultSeed;
  bool keep = false;               // leave the store and the database in place
  std::string baseline;            // JSON of a saved run: flag figures >10% worse
};
int RunScaleBench(const ScaleBenchOptions& options);

// The store alone, loaded and queried under each memory-budget profile
// (6 MiB, 64 MiB, 256 MiB, 1 GiB): what memory buys.
struct ProfilesBenchOptions {
  uint64_t records = 1'000'000;
  int runs = 3;                    // per budget; medians reported
  uint64_t lookups = 100'000;
  uint64_t directories = 10'000;
  bool json = false;
  std::string dir = "/tmp";
  uint64_t seed = kDefaultSeed;
  std::string baseline;
};
int RunProfilesBench(const ProfilesBenchOptions& options);

struct CompactBenchOptions {
  uint64_t records = 1'000'000;    // live records (2x are stored, every other one removed)
  int runs = 3;
  bool json = false;
  std::string dir = "/tmp";
  size_t memory_budget = 0;
  uint64_t seed = kDefaultSeed;
};
int RunCompactBench(const CompactBenchOptions& options);

// One transaction of N one-row Transaction::Write calls and a Commit,
// beside Store::Write of the same records in recommended-size batches.
struct TxnBenchOptions {
  uint64_t records = 1'000'000;
  int runs = 3;
  bool json = false;
  std::string dir = "/tmp";
  size_t memory_budget = 0;
  uint64_t seed = kDefaultSeed;
};
int RunTxnBench(const TxnBenchOptions& options);
// The legacy server's SQL, same statements and parameters, on the legacy
// table and on zcmedia virtual tables over a store with the same records.
struct SqlBenchOptions {
  uint64_t records = 100'000;
  int runs = 5;
  bool json = false;
  std::string dir = "/tmp";
  uint64_t seed = kDefaultSeed;
  bool plans = false;              // EXPLAIN QUERY PLAN of every class (default: the ones missing a target)
  std::vector<std::string> skip;   // class keys left out (a class with a known bug, to measure the rest)
  std::string baseline;            // JSON of a saved run: flag figures >10% worse
  bool restart = true;             // as LookupBenchOptions::restart
};
int RunSqlBench(const SqlBenchOptions& options);

// The migrator (zcmedia::migrate::Migrate) on a generated legacy shape-D
// database, with and without verification, beside SQLite's VACUUM INTO of
// the same file and a read of every column of every row (the floor).
struct MigrateBenchOptions {
  uint64_t rows = 1'000'000;       // media_files rows generated (before the ~1% id-gap deletes)
  int runs = 3;
  bool json = false;
  std::string dir = "/tmp";        // the legacy file and the per-run outputs go below it
  uint64_t seed = kDefaultSeed;
  std::string baseline;            // JSON of a saved run: flag figures >10% worse
};
int RunMigrateBench(const MigrateBenchOptions& options);

// The scanner on a generated tree of N small tagged MP3 files: first scan
// and rescan, beside the legacy server's serial scan into its SQLite schema.
struct ScanBenchOptions {
  uint64_t files = 10'000;         // MP3 files in the generated tree (plus covers and videos)
  int runs = 3;
  int threads = 0;                 // zcmedia's tag readers; 0: one per core (the scanner's default)
  bool json = false;
  std::string dir = "/tmp";        // the tree and the per-run libraries go below it
  uint64_t seed = kDefaultSeed;
  std::string baseline;            // JSON of a saved run: flag figures >10% worse
  bool keep = false;               // leave the generated tree in place (to profile `zcmedia scan` on it)
};
int RunScanBench(const ScanBenchOptions& options);

struct GenerateBenchOptions {
  uint64_t records = 1'000'000;
  bool json = false;
  bool check_unique = true;        // hash every path to prove there are no duplicates
  uint64_t seed = kDefaultSeed;
};
int RunGenerateBench(const GenerateBenchOptions& options);

struct DemoOptions {
  uint64_t records = 100'000;
  std::string dir = "zcmedia-demo";
  uint64_t seed = kDefaultSeed;
};
int RunDemo(const DemoOptions& options);

}  // namespace zcmedia::bench
