// StoreCounters: the atomics behind StoreStats. The writer's counters are
// updated under the write lock (relaxed atomics, read by GetStats from any
// thread); lookups are counted by reader threads into cache-line shards so
// that readers do not contend on one line.
#pragma once

#include <atomic>
#include <cstdint>

#include "zcmedia/stats.h"
#include "zcmedia/status.h"

namespace zcmedia {

struct StoreCounters {
  std::atomic<uint64_t> records_stored{0};
  std::atomic<uint64_t> records_updated{0};
  std::atomic<uint64_t> records_removed{0};
  std::atomic<uint64_t> bytes_appended{0};
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> checkpoints{0};
  std::atomic<uint64_t> index_merges{0};
  std::atomic<uint64_t> errors[kStatusCodeCount] = {};

  void CountLookups(uint64_t n);
  uint64_t Lookups() const;
  // Counts `s` if it is an error (NotFound is an answer, not an error).
  const Status& CountError(const Status& s);

 private:
  static constexpr int kShards = 16;
  struct alignas(64) Shard {
    std::atomic<uint64_t> lookups{0};
  };
  Shard shards_[kShards];
};

// RssAnon of this process in bytes (0 where /proc is not available).
uint64_t ProcessAnonBytes();

}  // namespace zcmedia
