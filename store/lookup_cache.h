// LookupCache: a bounded, sharded, 4-way set-associative LRU map from the
// 64-bit hash of a path to the location of the record the path index
// answered with, so that a repeated lookup by path skips the index probes
// (a Bloom filter and a key-directory slot and bucket per run).
//
// It is never the only copy of anything. Every entry was read from an
// index; a hit is still read from the segment and verified like any record
// (and must carry the asked path, else the index decides); dropping any or
// all entries at any time changes no answer, only its speed. Nothing of it
// is persistent. Negative answers (NotFound) are not cached.
//
// Consistency with snapshots, the contract that makes a hit safe:
//  * The writer calls InvalidateKeys with the path index entries of commit
//    Y (every path hash it claims or frees) BEFORE it publishes the
//    snapshot of sequence Y. That erases those keys and raises the
//    `invalidated_through` watermark of their shards to Y.
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
// Memory: 4-way sets, one 64-byte cache line each, holding four 16-byte
// entries (the location, a 32-bit tag of the key, the snapshot sequence it
// is valid from, its rank in the set's LRU order): a lookup reads one line.
// Each shard has an equal slice of the sets. They are allocated in one block
// when the first entry arrives (a store nobody reads from holds none; one
// block, rather than one per shard, keeps the cache from spreading small
// blocks over the heap while a load allocates around it), and Stats().bytes
// counts exactly that block (sets x 64 bytes; the shard headers, 128 B each
// and allocated once, are not counted). A full set replaces its least
// recently used entry: LRU within each set, which on the bench's Zipf keys
// hits within a percent of one LRU list over the whole capacity (simulated:
// 80.2% against 80.8%). SetCapacity re-places the entries in a new block
// (holding the old and the new one meanwhile).
//
// Keys are not stored, only a 32-bit tag: the low half of the key's mix,
// which also picks its set (so a shard can be rebuilt at another size). Two
// keys of one set with the same tag are taken for each other: with 2^15
// sets a shard (a 1 GiB budget) a set's tags share 15 bits, so about one
// miss in 33,000 finds a twin (fewer with smaller budgets). That is
// harmless: the record at the location then fails the caller's path check
// and the index answers; erasing a key may erase its twin.
//
// Thread-safe: one mutex per shard. InvalidateKeys holds every shard's
// mutex for one pass over the batch's keys, SetCapacity while it re-places
// the entries; lookups and inserts take one.
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
  uint64_t bytes = 0;      // heap bytes held now (the shards' set arrays)
  uint64_t capacity = 0;   // the bound on bytes
};

class LookupCache {
 public:
  static constexpr size_t kDefaultShards = 16;
  static constexpr size_t kWays = 4;        // entries per set
  static constexpr size_t kSetBytes = 64;   // one cache line
  static constexpr size_t kEntryBytes = kSetBytes / kWays;

  // `capacity_bytes` 0 disables the cache (nothing allocated, nothing
  // counted). `shards` (a power of two) split capacity and locking evenly; a
  // shard whose share is under 64 bytes holds nothing.
  explicit LookupCache(size_t capacity_bytes, size_t shards = kDefaultShards);
  ~LookupCache();
  LookupCache(const LookupCache&) = delete;
  LookupCache& operator=(const LookupCache&) = delete;

  // False when the capacity is 0: callers then skip the cache altogether.
  bool enabled() const { return capacity_.load(std::memory_order_relaxed) != 0; }

  // The location cached for `key`, if there is one a reader at snapshot
  // `sequence` may use (it becomes the most recently used of its set).
  // Counts a hit or a miss.
  bool Lookup(uint64_t key, uint64_t sequence, uint64_t* location);
  // Offers what the index of snapshot `sequence` answered for `key`. Taken
  // unless a commit newer than `sequence` invalidated the key's shard; may
  // evict the least recently used entry of the key's set.
  void Insert(uint64_t key, uint64_t location, uint64_t sequence);

  // Writer, before publishing snapshot `sequence`: erases the keys of the
  // commit's path index entries and raises the watermark of their shards
  // (see the top of this file).
  void InvalidateKeys(std::span<const format::RunEntry> entries, uint64_t sequence);
  // Erases every entry and raises every shard's watermark to `sequence`.
  void InvalidateAll(uint64_t sequence);

  // Re-places the entries in sets for the new capacity, keeping in each new
  // set the most recently used of those that map to it (between entries of
  // different old sets the order is arbitrary); the rest count as
  // evictions. 0 disables and frees the sets.
  void SetCapacity(size_t capacity_bytes);

  LookupCacheStats Stats() const;

  // The most entries a cache of `capacity_bytes` in `shards` shards holds.
  static size_t MaxEntries(size_t capacity_bytes, size_t shards = kDefaultShards);

 private:
  struct Set;
  class Table;
  struct Shard;

  Shard& ShardOf(uint64_t mixed) const;
  // Points the shard (whose mutex the caller holds) at its slice of the
  // sets, allocating them all if this is the first entry of the cache.
  // False when the capacity leaves a shard no set.
  bool AttachSets(Shard& shard);
  void LockAllShards();  // in shard order: the only order two are taken in
  void UnlockAllShards();

  std::atomic<size_t> capacity_;
  const size_t shard_count_;
  const uint32_t shard_bits_;  // log2(shard_count_)
  std::unique_ptr<Shard[]> shards_;
  // Every shard's sets in one block (shard s has sets [s * sets_per_shard_,
  // (s + 1) * sets_per_shard_)): one allocation, made at the first insert,
  // replaced by SetCapacity with all shards locked. Shards keep pointers
  // into it. Taken after a shard's mutex, never before.
  mutable std::mutex sets_mu_;
  std::unique_ptr<Set[]> sets_;  // GUARDED_BY sets_mu_ and all shard mutexes
  size_t sets_per_shard_;       // likewise
};

}  // namespace zcmedia
