#include "lookup_cache.h"

#include <algorithm>
#include <bit>

namespace zcmedia {

namespace {

// Spreads keys over shards and sets whatever their bits (MurmurHash3's
// finalizer): path hashes are even already, but nothing relies on it.
uint64_t Mix(uint64_t key) {
  uint64_t x = key;
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  x ^= x >> 33;
  return x;
}

// The tag kept for a key: the low half of its mix. Its set in a table of
// any size follows from it, so a shard can be rebuilt at another size.
uint32_t TagOf(uint64_t mixed) { return static_cast<uint32_t>(mixed); }
size_t SetIndex(uint32_t tag, size_t set_count) { return static_cast<size_t>((uint64_t{tag} * set_count) >> 32); }

// A location in 60 bits: segment numbers are below 2^23, and records lie at
// 8-aligned offsets below 2^40. Others (a damaged index) are not cached.
constexpr uint64_t kOffsetBits = 37;
bool Packable(uint64_t location) { return location % 8 == 0 && location >> 63 == 0; }
uint64_t Pack(uint64_t location) {
  return (uint64_t{format::LocationSegment(location)} << kOffsetBits) | format::LocationOffset(location) >> 3;
}
uint64_t Unpack(uint64_t packed) {
  return format::MakeLocation(static_cast<uint32_t>(packed >> kOffsetBits),
                              (packed & ((uint64_t{1} << kOffsetBits) - 1)) << 3);
}

// One entry, 16 bytes. `word`: bit 63 in use, bits 61-62 its rank in the
// set (0 the most recently used), bits 0-59 the packed location.
struct Entry {
  uint64_t word;
  uint32_t tag;
  uint32_t valid_low;  // low half of the sequence it is valid from (the shard keeps the high half)

  static constexpr uint64_t kUsed = uint64_t{1} << 63;
  static constexpr int kRankShift = 61;
  static constexpr uint64_t kRankMask = uint64_t{3} << kRankShift;
  static constexpr uint64_t kLocationMask = (uint64_t{1} << 60) - 1;

  bool used() const { return word & kUsed; }
  uint32_t rank() const { return static_cast<uint32_t>((word & kRankMask) >> kRankShift); }
  void set_rank(uint32_t r) { word = (word & ~kRankMask) | (uint64_t{r} << kRankShift); }
  bool Is(uint32_t t) const { return used() && tag == t; }
  uint64_t location() const { return Unpack(word & kLocationMask); }
  void set_location(uint64_t location) { word = (word & ~kLocationMask) | Pack(location); }
};
static_assert(sizeof(Entry) == LookupCache::kEntryBytes);

}  // namespace

struct alignas(LookupCache::kSetBytes) LookupCache::Set {
  Entry entries[kWays];
};
static_assert(LookupCache::kWays == 4, "ranks are two bits");

// One shard's slice of the cache's sets (its caller holds the shard's
// mutex). Null until the cache allocates its sets.
class LookupCache::Table {
 public:
  Table() = default;
  Table(Set* sets, size_t set_count) : sets_(sets), set_count_(set_count) {}

  size_t entries() const { return entries_; }
  Set* SetOf(uint32_t tag) const { return sets_ ? &sets_[SetIndex(tag, set_count_)] : nullptr; }

  static int Find(const Set& set, uint32_t tag) {
    for (int i = 0; i < static_cast<int>(kWays); ++i)
      if (set.entries[i].Is(tag)) return i;
    return -1;
  }

  // Entries more recent than entry i age by one; i becomes the newest.
  static void MakeNewest(Set& set, int i) {
    const uint32_t rank = set.entries[i].rank();
    for (Entry& e : set.entries)
      if (e.used() && e.rank() < rank) e.set_rank(e.rank() + 1);
    set.entries[i].set_rank(0);
  }

  // A slot for a new key, the newest of its set: a free one, else the
  // least recently used entry's (*evicted).
  int Add(Set& set, uint32_t tag, uint64_t location, uint32_t valid_low, bool* evicted) {
    int slot = -1;
    for (int i = 0; i < static_cast<int>(kWays) && slot < 0; ++i)
      if (!set.entries[i].used()) slot = i;
    *evicted = slot < 0;
    if (slot < 0) {
      slot = 0;  // (the ranks of a full set are 0..3: one is found)
      for (int i = 0; i < static_cast<int>(kWays); ++i)
        if (set.entries[i].rank() == kWays - 1) slot = i;
    } else {
      ++entries_;
    }
    for (Entry& e : set.entries)
      if (e.used()) e.set_rank(std::min<uint32_t>(e.rank() + 1, kWays - 1));
    Entry& e = set.entries[slot];
    e.word = Entry::kUsed;
    e.set_location(location);
    e.tag = tag;
    e.valid_low = valid_low;
    return slot;
  }

  void Erase(Set& set, int i) {
    const uint32_t rank = set.entries[i].rank();
    for (Entry& e : set.entries)
      if (e.used() && e.rank() > rank) e.set_rank(e.rank() - 1);
    set.entries[i] = Entry{};
    --entries_;
  }

  void Clear() {
    if (sets_) std::fill_n(sets_, set_count_, Set{});
    entries_ = 0;
  }

  // Adds the entries of `from` to this (empty) slice, oldest first in each
  // set, so that where they no longer all fit the newest stay.
  void TakeEntries(const Table& from) {
    if (!from.sets_ || !sets_) return;
    for (size_t s = 0; s < from.set_count_; ++s) {
      const Set& old = from.sets_[s];
      for (uint32_t rank = kWays; rank-- > 0;)
        for (const Entry& e : old.entries) {
          if (!e.used() || e.rank() != rank) continue;
          bool evicted = false;
          Add(*SetOf(e.tag), e.tag, e.location(), e.valid_low, &evicted);
        }
    }
  }

 private:
  Set* sets_ = nullptr;  // owned by the LookupCache
  size_t set_count_ = 0;
  size_t entries_ = 0;
};

struct alignas(64) LookupCache::Shard {
  mutable std::mutex mu;
  Table table;                       // GUARDED_BY mu (and everything below)
  uint64_t invalidated_through = 0;  // newest commit sequence that erased keys here
  uint32_t sequence_high = 0;        // high half of every entry's valid_from
  uint64_t hits = 0, misses = 0, inserts = 0, evictions = 0;
  bool touched = false;              // scratch of InvalidateKeys

  uint64_t ValidFrom(const Entry& e) const { return uint64_t{sequence_high} << 32 | e.valid_low; }
};

LookupCache::LookupCache(size_t capacity_bytes, size_t shards)
    : capacity_(capacity_bytes),
      shard_count_(std::bit_ceil(std::max<size_t>(shards, 1))),
      shard_bits_(static_cast<uint32_t>(std::countr_zero(shard_count_))),
      shards_(std::make_unique<Shard[]>(shard_count_)),
      sets_per_shard_(capacity_bytes / shard_count_ / kSetBytes) {
  static_assert(sizeof(Shard) <= 128, "lookup_cache.h gives the shard header's size");
}

LookupCache::~LookupCache() = default;

LookupCache::Shard& LookupCache::ShardOf(uint64_t mixed) const {
  return shards_[shard_bits_ == 0 ? 0 : mixed >> (64 - shard_bits_)];
}

bool LookupCache::AttachSets(Shard& shard) {
  std::lock_guard<std::mutex> g(sets_mu_);
  if (!sets_ && sets_per_shard_ > 0) sets_.reset(new Set[shard_count_ * sets_per_shard_]());
  if (!sets_) return false;
  shard.table = Table(sets_.get() + (&shard - shards_.get()) * sets_per_shard_, sets_per_shard_);
  return true;
}

bool LookupCache::Lookup(uint64_t key, uint64_t sequence, uint64_t* location) {
  if (!enabled()) return false;  // not counted: there is no cache to miss
  const uint64_t mixed = Mix(key);
  const uint32_t tag = TagOf(mixed);
  Shard& shard = ShardOf(mixed);
  std::lock_guard<std::mutex> g(shard.mu);
  Set* set = shard.table.SetOf(tag);
  const int i = set ? Table::Find(*set, tag) : -1;
  if (i < 0 || shard.ValidFrom(set->entries[i]) > sequence) {
    ++shard.misses;
    return false;
  }
  Table::MakeNewest(*set, i);
  ++shard.hits;
  *location = set->entries[i].location();
  return true;
}

void LookupCache::Insert(uint64_t key, uint64_t location, uint64_t sequence) {
  if (!enabled() || !Packable(location)) return;
  const uint64_t mixed = Mix(key);
  const uint32_t tag = TagOf(mixed);
  Shard& shard = ShardOf(mixed);
  std::lock_guard<std::mutex> g(shard.mu);
  if (shard.invalidated_through > sequence) return;  // a newer commit may have changed the key
  // Entries keep the low half of their sequence: after 2^32 commits the
  // shard starts over rather than confuse old entries with new ones.
  const auto high = static_cast<uint32_t>(sequence >> 32);
  if (shard.table.entries() == 0) {
    shard.sequence_high = high;
  } else if (high > shard.sequence_high) {
    shard.table.Clear();
    shard.sequence_high = high;
  } else if (high < shard.sequence_high) {
    return;
  }
  if (shard.table.SetOf(tag) == nullptr && !AttachSets(shard)) return;
  Set& set = *shard.table.SetOf(tag);
  const auto low = static_cast<uint32_t>(sequence);
  int i = Table::Find(set, tag);
  if (i >= 0) {
    Entry& e = set.entries[i];
    // Both offers were right for their snapshots; the same location was
    // right for every snapshot from the older one on.
    e.valid_low = e.location() == location ? std::min(e.valid_low, low) : low;
    e.set_location(location);
    Table::MakeNewest(set, i);
    return;
  }
  bool evicted = false;
  shard.table.Add(set, tag, location, low, &evicted);
  ++shard.inserts;
  shard.evictions += evicted ? 1 : 0;
}

void LookupCache::LockAllShards() {
  for (size_t s = 0; s < shard_count_; ++s) shards_[s].mu.lock();
}

void LookupCache::UnlockAllShards() {
  for (size_t s = 0; s < shard_count_; ++s) shards_[s].mu.unlock();
}

void LookupCache::InvalidateKeys(std::span<const format::RunEntry> entries, uint64_t sequence) {
  // All shards at once (in order, as SetCapacity): one pass over the keys,
  // however they spread.
  LockAllShards();
  for (size_t s = 0; s < shard_count_; ++s) shards_[s].touched = false;
  for (const format::RunEntry& e : entries) {
    const uint64_t mixed = Mix(e.key);
    const uint32_t tag = TagOf(mixed);
    Shard& shard = ShardOf(mixed);
    shard.touched = true;
    if (shard.table.entries() == 0) continue;
    Set& set = *shard.table.SetOf(tag);
    const int i = Table::Find(set, tag);
    if (i >= 0) shard.table.Erase(set, i);
  }
  for (size_t s = 0; s < shard_count_; ++s)
    if (shards_[s].touched) shards_[s].invalidated_through = std::max(shards_[s].invalidated_through, sequence);
  UnlockAllShards();
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
  LockAllShards();
  const size_t per_shard = capacity_bytes / shard_count_ / kSetBytes;
  if (per_shard != sets_per_shard_) {
    // New sets only where there is something to keep (else at the next
    // insert, as at first).
    std::unique_ptr<Set[]> resized;
    for (size_t s = 0; s < shard_count_ && !resized && per_shard > 0; ++s)
      if (shards_[s].table.entries() > 0) resized.reset(new Set[shard_count_ * per_shard]());
    for (size_t s = 0; s < shard_count_; ++s) {
      Shard& shard = shards_[s];
      Table table(resized ? resized.get() + s * per_shard : nullptr, per_shard);
      table.TakeEntries(shard.table);
      shard.evictions += shard.table.entries() - table.entries();
      shard.table = table;
    }
    std::lock_guard<std::mutex> g(sets_mu_);
    sets_ = std::move(resized);
    sets_per_shard_ = per_shard;
  }
  UnlockAllShards();
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
  }
  {
    std::lock_guard<std::mutex> g(sets_mu_);
    st.bytes = sets_ ? shard_count_ * sets_per_shard_ * kSetBytes : 0;
  }
  st.capacity = capacity_.load(std::memory_order_relaxed);
  return st;
}

size_t LookupCache::MaxEntries(size_t capacity_bytes, size_t shards) {
  const size_t count = std::bit_ceil(std::max<size_t>(shards, 1));
  return capacity_bytes / count / kSetBytes * count * kWays;
}

}  // namespace zcmedia
