// RecordArena: the generated library written once to a file and mapped, so
// that the timed loops of the ingest benchmark feed the store and SQLite the
// same records without generating them inside the timer (the method of
// perf-anchors.md: "records sit in an arena built before the timer starts").
//
// The arena is a file-backed shared mapping, not heap: it is not counted in
// the anonymous memory the benchmark reports for the store. Its pages are
// populated when it is opened, so the timed loop takes no page faults on it.
//
// Format (private to the benchmark, rebuilt every run): per record a
// RecordHeader followed by the bytes of its text columns in header order.
#ifndef ZCMEDIA_BENCH_RECORD_ARENA_H_
#define ZCMEDIA_BENCH_RECORD_ARENA_H_

#include <cstdint>
#include <string>

#include "zcmedia/media_file.h"

namespace zcmedia::bench {

class RecordArena {
 public:
  // Generates `records` records from `seed` into the file `path` (replaced).
  // Throws BenchError on I/O failure.
  static void Build(const std::string& path, uint64_t seed, uint64_t records);

  // Maps the file built by Build(). Throws BenchError when it is unreadable
  // or malformed.
  explicit RecordArena(const std::string& path);
  ~RecordArena();
  RecordArena(const RecordArena&) = delete;
  RecordArena& operator=(const RecordArena&) = delete;

  // Fills *out with views into the mapping (valid while the arena lives) and
  // advances; false after the last record.
  bool Next(MediaFileFields* out);
  uint64_t bytes() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  uint64_t offset_ = 0;
};

}  // namespace zcmedia::bench

#endif  // ZCMEDIA_BENCH_RECORD_ARENA_H_
