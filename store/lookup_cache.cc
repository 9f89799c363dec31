#include "lookup_cache.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <vector>

namespace zcmedia {

namespace {

constexpr uint32_t kNil = std::numeric_limits<uint32_t>::max();

// Spreads sequential ids over shards and buckets (MurmurHash3's finalizer);
// the key space is folded in so an id and an equal path hash differ.
uint64_t Mix(LookupCache::KeySpace space, uint64_t key) {
  uint64_t x = key ^ (space == LookupCache::KeySpace::kPath ? 0x9E3779B97F4A7C15ull : 0);
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  x ^= x >> 33;
  return x;
}

}  // namespace

// One cached answer. Indices instead of pointers: 4 bytes a link, and the
// chunks they point into never move.
struct LookupCache::Node {
  uint64_t key;
  uint64_t location;
  uint64_t valid_from;  // the oldest snapshot sequence it answers for
  uint32_t newer;       // LRU list, towards the most recently used; free list link
  uint32_t older;
  uint32_t chain_next;  // next node in the same bucket
  KeySpace space;
};

namespace {
constexpr size_t kNodeBytes = 40;
constexpr size_t kChunkBytes = LookupCache::kChunkNodes * kNodeBytes;

// Buckets for `nodes` nodes: the largest power of two not above it (chains
// of one or two nodes when full).
size_t BucketsFor(size_t nodes) { return nodes == 0 ? 0 : std::bit_floor(nodes); }

// Heap bytes of a table with room for `max_chunks` chunks, `chunks` of them
// allocated (the chunk pointer array and the buckets come with the first).
size_t TableBytes(size_t max_chunks, size_t chunks) {
  if (chunks == 0) return 0;
  return max_chunks * sizeof(void*) + BucketsFor(max_chunks * LookupCache::kChunkNodes) * sizeof(uint32_t) +
         chunks * kChunkBytes;
}

// The most chunks whose full table fits in `shard_capacity` bytes.
size_t MaxChunks(size_t shard_capacity) {
  size_t chunks = shard_capacity / (kChunkBytes + sizeof(void*));
  while (chunks > 0 && TableBytes(chunks, chunks) > shard_capacity) --chunks;
  return chunks;
}
}  // namespace

// The LRU map of one shard (its caller holds the shard's mutex).
class LookupCache::Table {
  static_assert(sizeof(Node) == kNodeBytes, "the byte accounting counts 40 bytes a node");

 public:
  Table() = default;
  explicit Table(size_t shard_capacity) : max_chunks_(MaxChunks(shard_capacity)) {}

  size_t max_chunks() const { return max_chunks_; }
  size_t entries() const { return entries_; }
  size_t bytes() const { return TableBytes(max_chunks_, chunks_.size()); }
  Node& at(uint32_t i) const { return chunks_[i / kChunkNodes][i % kChunkNodes]; }

  uint32_t Find(KeySpace space, uint64_t key, uint64_t mixed) const {
    if (entries_ == 0) return kNil;
    for (uint32_t i = buckets_[mixed & bucket_mask_]; i != kNil; i = at(i).chain_next)
      if (at(i).key == key && at(i).space == space) return i;
    return kNil;
  }

  void MakeNewest(uint32_t i) {
    if (i == newest_) return;
    Unlist(i);
    List(i);
  }

  // A node for a new key, linked in as the newest, or kNil when this table
  // may hold nothing. Takes a free node, then a never used one, then a new
  // chunk while the capacity allows; else the oldest entry's node (*evicted).
  uint32_t Add(KeySpace space, uint64_t key, uint64_t mixed, bool* evicted) {
    *evicted = false;
    if (max_chunks_ == 0) return kNil;
    if (!buckets_) {
      chunks_.reserve(max_chunks_);  // exactly: a vector reserves what it is asked for
      bucket_mask_ = BucketsFor(max_chunks_ * kChunkNodes) - 1;
      buckets_ = std::make_unique<uint32_t[]>(bucket_mask_ + 1);
      std::fill_n(buckets_.get(), bucket_mask_ + 1, kNil);
    }
    uint32_t i;
    if (free_ != kNil) {
      i = free_;
      free_ = at(i).older;
    } else if (next_unused_ < chunks_.size() * kChunkNodes) {
      i = next_unused_++;
    } else if (chunks_.size() < max_chunks_) {
      chunks_.push_back(std::make_unique<Node[]>(kChunkNodes));
      i = next_unused_++;
    } else {
      i = oldest_;
      Remove(i);
      *evicted = true;
    }
    Node& n = at(i);
    n.key = key;
    n.space = space;
    n.chain_next = buckets_[mixed & bucket_mask_];
    buckets_[mixed & bucket_mask_] = i;
    List(i);
    ++entries_;
    return i;
  }

  void Erase(uint32_t i) {
    Remove(i);
    at(i).older = free_;
    free_ = i;
  }

  // Forgets every entry; the allocations stay for the next ones.
  void Clear() {
    if (!buckets_) return;
    std::fill_n(buckets_.get(), bucket_mask_ + 1, kNil);
    next_unused_ = 0;
    free_ = newest_ = oldest_ = kNil;
    entries_ = 0;
  }

  // Copies the `count` most recently used entries of `from` into this
  // (empty) table, keeping their order.
  void TakeNewest(const Table& from, size_t count) {
    uint32_t i = from.newest_;
    for (size_t k = 1; k < count; ++k) i = from.at(i).older;
    for (; count > 0; --count, i = from.at(i).newer) {
      const Node& n = from.at(i);
      bool evicted = false;
      const uint32_t j = Add(n.space, n.key, Mix(n.space, n.key), &evicted);
      at(j).location = n.location;
      at(j).valid_from = n.valid_from;
    }
  }

 private:
  // Out of its bucket's chain and the LRU list.
  void Remove(uint32_t i) {
    Node& n = at(i);
    uint32_t* link = &buckets_[Mix(n.space, n.key) & bucket_mask_];
    while (*link != i) link = &at(*link).chain_next;
    *link = n.chain_next;
    Unlist(i);
    --entries_;
  }
  void Unlist(uint32_t i) {
    Node& n = at(i);
    (n.newer == kNil ? newest_ : at(n.newer).older) = n.older;
    (n.older == kNil ? oldest_ : at(n.older).newer) = n.newer;
  }
  void List(uint32_t i) {
    Node& n = at(i);
    n.newer = kNil;
    n.older = newest_;
    (newest_ == kNil ? oldest_ : at(newest_).newer) = i;
    newest_ = i;
  }

  size_t max_chunks_ = 0;
  // Capacity max_chunks_ from the first insert on, so it never reallocates.
  // (Not a new[] array of unique_ptrs: that would carry a hidden length.)
  std::vector<std::unique_ptr<Node[]>> chunks_;
  std::unique_ptr<uint32_t[]> buckets_;                // bucket_mask_ + 1 heads
  uint64_t bucket_mask_ = 0;
  uint32_t next_unused_ = 0;  // nodes below it were handed out since the last Clear
  uint32_t free_ = kNil;
  uint32_t newest_ = kNil, oldest_ = kNil;
  size_t entries_ = 0;
};

struct alignas(64) LookupCache::Shard {
  mutable std::mutex mu;
  Table table;                      // GUARDED_BY mu (and everything below)
  uint64_t invalidated_through = 0; // newest commit sequence that erased keys here
  uint64_t hits = 0, misses = 0, inserts = 0, evictions = 0;
  bool touched = false;             // scratch of InvalidateBatch
};

LookupCache::LookupCache(size_t capacity_bytes, size_t shards)
    : capacity_(capacity_bytes), shard_count_(std::max<size_t>(shards, 1)),
      shards_(std::make_unique<Shard[]>(shard_count_)) {
  static_assert(sizeof(Shard) <= 192, "lookup_cache.h gives the shard header's size");
  for (size_t s = 0; s < shard_count_; ++s) shards_[s].table = Table(capacity_bytes / shard_count_);
}

LookupCache::~LookupCache() = default;

LookupCache::Shard& LookupCache::ShardOf(uint64_t mixed) const { return shards_[(mixed >> 32) % shard_count_]; }

bool LookupCache::Lookup(KeySpace space, uint64_t key, uint64_t sequence, uint64_t* location) {
  if (!enabled()) return false;  // not counted: there is no cache to miss
  const uint64_t mixed = Mix(space, key);
  Shard& shard = ShardOf(mixed);
  std::lock_guard<std::mutex> g(shard.mu);
  const uint32_t i = shard.table.Find(space, key, mixed);
  if (i == kNil || shard.table.at(i).valid_from > sequence) {
    ++shard.misses;
    return false;
  }
  shard.table.MakeNewest(i);
  ++shard.hits;
  *location = shard.table.at(i).location;
  return true;
}

void LookupCache::Insert(KeySpace space, uint64_t key, uint64_t location, uint64_t sequence) {
  const uint64_t mixed = Mix(space, key);
  Shard& shard = ShardOf(mixed);
  std::lock_guard<std::mutex> g(shard.mu);
  if (shard.invalidated_through > sequence) return;  // a newer commit may have changed the key
  uint32_t i = shard.table.Find(space, key, mixed);
  if (i != kNil) {
    Node& n = shard.table.at(i);
    // Both offers were right for their snapshots; the same location was
    // right for every snapshot from the older one on.
    n.valid_from = n.location == location ? std::min(n.valid_from, sequence) : sequence;
    n.location = location;
    shard.table.MakeNewest(i);
    return;
  }
  bool evicted = false;
  i = shard.table.Add(space, key, mixed, &evicted);
  if (i == kNil) return;
  shard.table.at(i).location = location;
  shard.table.at(i).valid_from = sequence;
  ++shard.inserts;
  shard.evictions += evicted ? 1 : 0;
}

void LookupCache::InvalidateBatch(std::span<const format::RunEntry> id_entries,
                                  std::span<const format::RunEntry> path_entries, uint64_t sequence) {
  // All shards at once (in order; nothing else holds two): one pass over the
  // keys, however they spread.
  for (size_t s = 0; s < shard_count_; ++s) {
    shards_[s].mu.lock();
    shards_[s].touched = false;
  }
  auto erase = [&](KeySpace space, std::span<const format::RunEntry> entries) {
    for (const format::RunEntry& e : entries) {
      const uint64_t mixed = Mix(space, e.key);
      Shard& shard = ShardOf(mixed);
      shard.touched = true;
      const uint32_t i = shard.table.Find(space, e.key, mixed);
      if (i != kNil) shard.table.Erase(i);
    }
  };
  erase(KeySpace::kId, id_entries);
  erase(KeySpace::kPath, path_entries);
  for (size_t s = 0; s < shard_count_; ++s) {
    Shard& shard = shards_[s];
    if (shard.touched) shard.invalidated_through = std::max(shard.invalidated_through, sequence);
    shard.mu.unlock();
  }
}

void LookupCache::InvalidateAll(uint64_t sequence) {
  for (size_t s = 0; s < shard_count_; ++s) {
    Shard& shard = shards_[s];
    std::lock_guard<std::mutex> g(shard.mu);
    shard.table.Clear();
    shard.invalidated_through = std::max(shard.invalidated_through, sequence);
  }
}

void LookupCache::SetCapacity(size_t capacity_bytes) {
  capacity_.store(capacity_bytes, std::memory_order_relaxed);
  for (size_t s = 0; s < shard_count_; ++s) {
    Shard& shard = shards_[s];
    std::lock_guard<std::mutex> g(shard.mu);
    Table resized(capacity_bytes / shard_count_);
    if (resized.max_chunks() == shard.table.max_chunks()) continue;
    const size_t kept = std::min(shard.table.entries(), resized.max_chunks() * kChunkNodes);
    resized.TakeNewest(shard.table, kept);
    shard.evictions += shard.table.entries() - kept;
    shard.table = std::move(resized);
  }
}

LookupCacheStats LookupCache::Stats() const {
  LookupCacheStats st;
  for (size_t s = 0; s < shard_count_; ++s) {
    const Shard& shard = shards_[s];
    std::lock_guard<std::mutex> g(shard.mu);
    st.hits += shard.hits;
    st.misses += shard.misses;
    st.inserts += shard.inserts;
    st.evictions += shard.evictions;
    st.entries += shard.table.entries();
    st.bytes += shard.table.bytes();
  }
  st.capacity = capacity_.load(std::memory_order_relaxed);
  return st;
}

size_t LookupCache::ShardBytes(size_t shard_capacity, size_t nodes) {
  return TableBytes(MaxChunks(shard_capacity), (nodes + kChunkNodes - 1) / kChunkNodes);
}

size_t LookupCache::ShardMaxEntries(size_t shard_capacity) { return MaxChunks(shard_capacity) * kChunkNodes; }

}  // namespace zcmedia
