// Helpers shared by the benchmarks and the demo: timing, run summaries,
// process memory, forked measurement children, temp directories and JSON.
//
// Benchmark code reports failure by throwing BenchError; the shell turns it
// into a message and a non-zero exit. Nothing here is used by the store.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zcmedia/media_file.h"
#include "zcmedia/options.h"
#include "zcmedia/status.h"

namespace zcmedia::bench {

class BenchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws BenchError("<what>: <status>") unless `status` is OK.
void CheckOk(const Status& status, std::string_view what);

// Default store Options with Options::memory_budget set to `memory_budget`
// (a --budget flag); 0 keeps the default budget.
Options StoreOptionsWithBudget(size_t memory_budget);

// Wall-clock time on the monotonic clock.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  void Restart() { start_ = std::chrono::steady_clock::now(); }
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Median, min and max of the per-run values of one figure.
struct Summary {
  double median = 0;
  double min = 0;
  double max = 0;
  size_t runs = 0;
};
Summary Summarize(std::vector<double> values);

// "950", "34.6k", "1.06M": three significant digits.
std::string FormatSi(double value);
// "1,234,567".
std::string FormatThousands(uint64_t value);
// `value` through printf's `format` ("%.1f ms").
std::string FormatFixed(double value, const char* format);
// "5,304 KiB" (negative values, a sampling artefact, print as 0).
std::string FormatKib(double kib);
// `text` padded with spaces to `columns` characters (UTF-8 aware, so that
// tables with "–" and "µ" line up).
std::string PadRight(std::string text, size_t columns);
// "<median> [<min>–<max>] (<runs>)" with `format` applied to each number.
std::string FormatSummary(const Summary& s,
                          const std::function<std::string(double)>& format = FormatSi);

// A field of /proc/<pid>/status in KiB ("RssAnon", "VmHWM", ...), or -1 when
// the process or the field is gone. pid 0 means this process.
int64_t ReadProcStatusKiB(pid_t pid, std::string_view field);

// What a forked measurement child sent back: named numbers, or an error.
struct ChildReport {
  std::map<std::string, double> values;
  std::string error;           // empty on success
  int64_t peak_anon_kib = -1;  // highest RssAnon the parent saw
  int64_t samples = 0;         // how many times the parent looked

  double at(const std::string& key) const;  // throws BenchError if missing
};

// Runs `body` in a forked child so that each measurement starts from a clean
// process (no heap or page-cache state left by an earlier run) and its memory
// can be watched from outside. `body` fills `values`; an exception thrown in
// it becomes ChildReport::error. While the child runs, the parent reads the
// child's RssAnon every `sample_interval` and keeps the peak. The child
// first returns the heap it inherited free (malloc_trim), so that reusing it
// cannot hide memory from the samples.
// Call only while this process has a single thread (fork).
ChildReport RunInChild(const std::function<void(std::map<std::string, double>& values)>& body,
                       std::chrono::microseconds sample_interval = std::chrono::milliseconds(1));

// Throws BenchError("<what> run failed: <the child's error>") if it failed.
void FailIfChildFailed(const ChildReport& report, const std::string& what);

// Flushes dirty pages of every file system, so that one run's write-back does
// not land in the next run's timing.
void SyncFilesystems();

// Creates a fresh, uniquely named directory `parent`/`prefix`XXXXXX.
std::string MakeTempDir(const std::string& parent, const std::string& prefix);
// Removes `path` and everything below it; a missing path is fine.
void RemoveTree(const std::string& path);

// Owns a temporary directory: removes it on destruction (however the scope is
// left) unless Keep() was called.
class TempDir {
 public:
  TempDir(const std::string& parent, const std::string& prefix)
      : path_(MakeTempDir(parent, prefix)) {}
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  void Keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

// Sizes of the regular files below `dir`: apparent bytes (st_size) and
// bytes the file system allocated (st_blocks), which differ for sparse or
// preallocated files.
struct DiskUsage {
  uint64_t apparent_bytes = 0;
  uint64_t allocated_bytes = 0;
  uint64_t files = 0;
};
DiskUsage MeasureDirectory(const std::string& dir);

// Reads every file below `dir` once, so that the following reads are served
// from the page cache (the reference read benchmarks warmed the cache too).
void WarmPageCache(const std::string& dir);

// What EvictFromPageCache did to the regular files below a directory.
struct Eviction {
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t resident_bytes_after = 0;  // still in the page cache afterwards (mincore)
};
// Makes the files below `dir` cold without dropping the whole machine's
// cache (which needs root and would slow everyone else on a shared host):
// fsync each file, since dirty pages cannot be dropped, then
// posix_fadvise(POSIX_FADV_DONTNEED). Pages that a live process maps stay
// cached, so call it while no process has the files open; inodes and
// directory entries stay cached too. Throws BenchError if a file cannot be
// opened or synced.
Eviction EvictFromPageCache(const std::string& dir);
// The read benchmarks' restart (bench lookup, bench sql): EvictFromPageCache
// of every database below `dir`, before any handle maps or caches a page of
// them, with a line saying what was evicted and what stayed.
void EvictAsAfterARestart(const std::string& dir);

// Reads every column of a row and folds it into a number, so that a lookup
// loop pays for reading what it returns. Rows with equal columns give equal
// numbers wherever they come from (a store view, an SQLite row), which lets
// the benchmarks cross-check the two.
uint64_t TouchColumns(const MediaFileFields& f);

// Keeps a value alive against the optimizer, so that loops that only "touch"
// data are not removed.
void DoNotOptimize(uint64_t value);

// `s` as a JSON string literal, quotes included (control characters escaped).
std::string JsonEscape(std::string_view s);

// One JSON object printed on one line, keys in insertion order.
class JsonLine {
 public:
  JsonLine& Add(std::string_view key, double value);
  JsonLine& Add(std::string_view key, int64_t value);
  JsonLine& Add(std::string_view key, uint64_t value);
  JsonLine& Add(std::string_view key, int value) { return Add(key, int64_t{value}); }
  JsonLine& Add(std::string_view key, std::string_view value);
  JsonLine& Add(std::string_view key, const char* value) { return Add(key, std::string_view(value)); }
  JsonLine& Add(std::string_view key, bool value);
  std::string ToString() const;
  // The members added so far: (key, the value as JSON text).
  const std::vector<std::pair<std::string, std::string>>& members() const { return members_; }

 private:
  void AddRaw(std::string_view key, std::string raw_value);
  std::vector<std::pair<std::string, std::string>> members_;
};

// The performance regression check behind `--baseline FILE`: compares this
// run's figures with a saved run's (the JSON line a `--json` run printed:
// the file's last line that starts with '{'). Compared are the store's own
// figures whose direction is known: rates (`*_per_s`) and ratios, higher is
// better; bytes per record, peak anonymous memory, open and load times
// (`*_ms`) and time ratios (`*_time_ratio`), lower is better. SQLite's
// figures (the reference), min/max and counts are not. Prints one line per
// figure and returns how many are more than `tolerance` worse. Throws
// BenchError when the file is missing or malformed, or holds a run of
// another kind or size.
int CompareWithBaseline(const std::string& path, const JsonLine& now, double tolerance = 0.10);
// The exit status of a bench command whose figures regressed.
constexpr int kRegressionExitCode = 3;

// A uniform random sample of at most `capacity` items from a stream of
// unknown length, in O(capacity) memory (Vitter's algorithm R).
template <typename T>
class Reservoir {
 public:
  Reservoir(size_t capacity, uint64_t seed) : capacity_(capacity), rng_(seed) {
    items_.reserve(capacity);
  }

  // Returns the slot the caller should fill with the offered item, or
  // nullptr if the item is not sampled. Lets callers skip building items
  // that would be thrown away.
  T* Offer() {
    ++seen_;
    if (items_.size() < capacity_) return &items_.emplace_back();
    if (capacity_ == 0) return nullptr;
    uint64_t slot = std::uniform_int_distribution<uint64_t>(0, seen_ - 1)(rng_);
    return slot < capacity_ ? &items_[slot] : nullptr;
  }

  uint64_t seen() const { return seen_; }
  std::vector<T>& items() { return items_; }
  const std::vector<T>& items() const { return items_; }

 private:
  size_t capacity_;
  std::mt19937_64 rng_;
  uint64_t seen_ = 0;
  std::vector<T> items_;
};

}  // namespace zcmedia::bench
