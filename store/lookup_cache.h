// LookupCache: a bounded, sharded LRU map from a point-lookup key (a record
// id, or the 64-bit hash of a path) to the location of the record the
// indexes answered with, so that a repeated lookup skips the index probes.
//
// It is never the only copy of anything. Every entry was read from an
// index; a hit is still read from the segment and verified like any record
// (and must carry the asked id or path, else the index decides); dropping
// any or all entries at any time changes no answer, only its speed. Nothing
// of it is persistent. Negative answers (NotFound) are not cached.
//
// Consistency with snapshots, the contract that makes a hit safe:
//  * The writer calls InvalidateBatch with the index entries of commit Y
//    (every id it writes or removes, every path hash it claims or frees)
//    BEFORE it publishes the snapshot of sequence Y. That erases those keys
//    and raises the `invalidated_through` watermark of their shards to Y.
//  * A reader at snapshot S offers what its index lookup found (Insert); the
//    entry is taken only if its shard's watermark is <= S (checked under the
//    shard lock), and remembers valid_from = S.
//  * A reader at snapshot S uses an entry only if valid_from <= S.
// So an entry K -> L (valid_from V) that a reader at S >= V finds is what the
// index of S says: a commit in (V, S] that changed K erased it, either after
// the insert or before it (then the watermark refused the insert), and in
// both cases before S was published, so before this reader looked.
// Snapshots older than V do not use it. (Today a location written after a
// snapshot also lies past that snapshot's committed length, so reading it
// would fail its bounds check and fall back to the index; the rule does not
// lean on that, so it stays sound if records are ever moved.)
// Whatever relocates records or drops segments (a future segment
// compaction) calls InvalidateAll before it publishes. Index checkpoints and
// index compactions move no record and need nothing; index rebuilds happen
// at open, before anything is cached. A store opened read-only, which learns
// of the writer's commits only by reloading META, calls InvalidateAll before
// it publishes a newer snapshot.
//
// Memory: per shard, a bucket array and fixed-size nodes in chunks of
// kChunkNodes, allocated as entries arrive and never past the shard's share
// of the capacity: a full shard reuses its least recently used node.
// Stats().bytes is exactly what was asked of operator new (malloc's own
// 8-16 B per block aside; the shard headers, 192 B each and allocated once,
// are not counted). Clearing keeps the allocations; SetCapacity rebuilds each shard
// at its new size (holding the old and the new table of one shard at a time).
//
// Thread-safe: one mutex per shard. InvalidateBatch holds every shard's
// mutex for one pass over the batch's keys; nothing else holds two at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>

#include "format.h"

namespace zcmedia {

struct LookupCacheStats {
  uint64_t hits = 0;       // lookups answered with a usable entry
  uint64_t misses = 0;     // lookups without one (absent, or newer than the snapshot)
  uint64_t inserts = 0;    // entries added (not counting refreshed ones)
  uint64_t evictions = 0;  // entries dropped for room (LRU, or a smaller capacity)
  uint64_t entries = 0;    // entries held now
  uint64_t bytes = 0;      // heap bytes held now (nodes, buckets, chunk tables)
  uint64_t capacity = 0;   // the bound on bytes
};

class LookupCache {
 public:
  // Distinct key spaces: id 5 and a path whose hash is 5 are different keys.
  enum class KeySpace : uint32_t { kId = 0, kPath = 1 };

  static constexpr size_t kDefaultShards = 16;
  static constexpr uint32_t kChunkNodes = 64;

  // `capacity_bytes` 0 disables the cache (nothing allocated, nothing
  // counted). `shards` (>= 1) splits capacity and locking evenly; a shard
  // whose share cannot hold one chunk and its table holds nothing.
  explicit LookupCache(size_t capacity_bytes, size_t shards = kDefaultShards);
  ~LookupCache();
  LookupCache(const LookupCache&) = delete;
  LookupCache& operator=(const LookupCache&) = delete;

  // False when the capacity is 0: callers then skip the cache altogether.
  bool enabled() const { return capacity_.load(std::memory_order_relaxed) != 0; }

  // The location cached for `key`, if there is one a reader at snapshot
  // `sequence` may use (it becomes the most recently used). Counts a hit or
  // a miss.
  bool Lookup(KeySpace space, uint64_t key, uint64_t sequence, uint64_t* location);
  // Offers what the index of snapshot `sequence` answered for `key`. Taken
  // unless a commit newer than `sequence` invalidated the key's shard; may
  // evict the shard's least recently used entry.
  void Insert(KeySpace space, uint64_t key, uint64_t location, uint64_t sequence);

  // Writer, before publishing snapshot `sequence`: erases the keys of the
  // commit's id index entries and path index entries and raises the
  // watermark of their shards (see the top of this file).
  void InvalidateBatch(std::span<const format::RunEntry> id_entries,
                       std::span<const format::RunEntry> path_entries, uint64_t sequence);
  // Erases every entry and raises every shard's watermark to `sequence`.
  void InvalidateAll(uint64_t sequence);

  // Rebuilds every shard for the new capacity, keeping the most recently
  // used entries that fit (the rest count as evictions). 0 disables.
  void SetCapacity(size_t capacity_bytes);

  LookupCacheStats Stats() const;

  // Heap bytes of one shard's table holding `nodes` nodes (rounded up to
  // whole chunks) when its share of the capacity is `shard_capacity`, for
  // tests of the accounting; 0 when nothing would be allocated.
  static size_t ShardBytes(size_t shard_capacity, size_t nodes);
  // The most entries a shard with that share of the capacity holds.
  static size_t ShardMaxEntries(size_t shard_capacity);

 private:
  struct Node;
  class Table;
  struct Shard;

  Shard& ShardOf(uint64_t mixed) const;

  std::atomic<size_t> capacity_;
  const size_t shard_count_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace zcmedia
