// The lookup cache: exact byte accounting, LRU eviction, counters, the
// snapshot rule (a cached location never gives a snapshot another answer
// than its index), concurrent readers with a writer (also run under
// ThreadSanitizer, README), and resizing through SetOption.
#include "lookup_cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <random>
#include <thread>

#include "snapshot.h"
#include "store_impl.h"
#include "test_util.h"
#include "zcmedia/store.h"

// Counts the bytes this thread asks of operator new while a CountAllocations
// is alive (replacing the global operators of the test binary; they only
// forward to malloc and free). Not in sanitizer builds: their own operators
// check new/delete pairing for every test.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ZC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ZC_SANITIZED 1
#endif
#endif
#ifndef ZC_SANITIZED
namespace {
thread_local size_t* g_counted_bytes = nullptr;
void* CountedNew(size_t n) {
  if (g_counted_bytes != nullptr) *g_counted_bytes += n;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
}  // namespace
void* operator new(size_t n) { return CountedNew(n); }
void* operator new[](size_t n) { return CountedNew(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
namespace {
void* CountedAlignedNew(size_t n, std::align_val_t alignment) {
  if (g_counted_bytes != nullptr) *g_counted_bytes += n;
  const auto a = static_cast<size_t>(alignment);
  if (void* p = std::aligned_alloc(a, (n + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
}  // namespace
void* operator new(size_t n, std::align_val_t a) { return CountedAlignedNew(n, a); }
void* operator new[](size_t n, std::align_val_t a) { return CountedAlignedNew(n, a); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }
#endif

namespace zcmedia {
namespace {

#ifndef ZC_SANITIZED
struct CountAllocations {
  explicit CountAllocations(size_t* bytes) { g_counted_bytes = bytes; }
  ~CountAllocations() { g_counted_bytes = nullptr; }
};
#endif

using test::OwnedRecord;
using test::TempDir;

std::vector<format::RunEntry> Keys(std::initializer_list<uint64_t> keys) {
  std::vector<format::RunEntry> entries;
  for (uint64_t k : keys) entries.push_back({k, 0});
  return entries;
}

struct Counts {
  uint64_t entries = 0, inserts = 0, evictions = 0, hits = 0, misses = 0;
};
void ExpectCounts(const LookupCache& cache, const Counts& want) {
  const LookupCacheStats st = cache.Stats();
  EXPECT_EQ(st.entries, want.entries);
  EXPECT_EQ(st.inserts, want.inserts);
  EXPECT_EQ(st.evictions, want.evictions);
  EXPECT_EQ(st.hits, want.hits);
  EXPECT_EQ(st.misses, want.misses);
}

TEST(LookupCacheTest, BytesAreExactlyWhatIsAllocated) {
  // Four shards of 25,000 bytes: 390 sets of 64 bytes each (24,960 bytes),
  // allocated together when the first entry arrives.
  constexpr size_t kCapacity = 100000;
  LookupCache cache(kCapacity, 4);
  EXPECT_EQ(LookupCache::MaxEntries(kCapacity, 4), 4u * 390 * 4);
  EXPECT_EQ(cache.Stats().bytes, 0u);
  uint64_t loc = 0;
  EXPECT_FALSE(cache.Lookup(1, 1, &loc));  // looking allocates nothing
  EXPECT_EQ(cache.Stats().bytes, 0u);
  cache.Insert(1, 8, 1);
  EXPECT_EQ(cache.Stats().bytes, 4 * 24960u);
  for (uint64_t key = 2; key <= 100000; ++key) cache.Insert(key, key * 8, 1);  // far over capacity
  LookupCacheStats st = cache.Stats();
  EXPECT_EQ(st.bytes, 4 * 24960u);
  EXPECT_LE(st.bytes, kCapacity);
  EXPECT_EQ(st.inserts, 100000u);
  EXPECT_EQ(st.misses, 1u);
  EXPECT_EQ(st.entries, LookupCache::MaxEntries(kCapacity, 4));  // 64 keys a set: every set is full
  EXPECT_EQ(st.evictions, st.inserts - st.entries);

  // Invalidation frees entries, not allocations.
  cache.InvalidateKeys(Keys({99999, 100000}), 5);
  EXPECT_EQ(cache.Stats().entries, st.entries - 2);
  cache.InvalidateAll(6);
  st = cache.Stats();
  EXPECT_EQ(st.entries, 0u);
  EXPECT_EQ(st.bytes, 4 * 24960u);
}

TEST(LookupCacheTest, BytesAreWhatWasAskedOfTheAllocator) {
#ifdef ZC_SANITIZED
  GTEST_SKIP() << "sanitizer builds keep their own operator new";
#else
  // Every operator new this thread makes while inserting into a fresh
  // cache adds up to what the cache reports.
  LookupCache cache(256 << 10, 4);
  size_t asked = 0;
  {
    CountAllocations counting(&asked);
    for (uint64_t k = 1; k <= 3000; ++k) cache.Insert(k * 0x9E3779B97F4A7C15ull, k * 8, 1);
  }
  const LookupCacheStats st = cache.Stats();
  EXPECT_EQ(st.entries + st.evictions, 3000u);
  EXPECT_EQ(asked, st.bytes);
  EXPECT_EQ(asked, size_t{256} << 10);
#endif
}

TEST(LookupCacheTest, EvictsTheLeastRecentlyUsedOfASet) {
  LookupCache cache(LookupCache::kSetBytes, 1);  // one set: four entries
  for (uint64_t k = 1; k <= 4; ++k) cache.Insert(k, k * 8, 1);
  uint64_t loc = 0;
  ASSERT_TRUE(cache.Lookup(1, 1, &loc));  // newest first: 1 4 3 2
  EXPECT_EQ(loc, 8u);
  cache.Insert(3, 3 * 8, 1);  // offering a key again also makes it recent: 3 1 4 2
  cache.Insert(5, 5 * 8, 1);  // 5 3 1 4
  cache.Insert(6, 6 * 8, 1);  // 6 5 3 1
  EXPECT_FALSE(cache.Lookup(2, 1, &loc));
  EXPECT_FALSE(cache.Lookup(4, 1, &loc));
  for (uint64_t k : {1, 3, 5, 6}) {
    ASSERT_TRUE(cache.Lookup(k, 1, &loc)) << k;
    EXPECT_EQ(loc, k * 8);
  }
  ExpectCounts(cache, {.entries = 4, .inserts = 6, .evictions = 2, .hits = 5, .misses = 2});
  cache.InvalidateKeys(Keys({5}), 1);  // the lookups left 6 5 3 1; now 6 3 1
  cache.Insert(7, 7 * 8, 1);    // a free slot: nothing evicted
  cache.Insert(8, 8 * 8, 1);    // evicts 1
  EXPECT_FALSE(cache.Lookup(1, 1, &loc));
  for (uint64_t k : {3, 6, 7, 8}) EXPECT_TRUE(cache.Lookup(k, 1, &loc)) << k;
}

TEST(LookupCacheTest, LocationsRoundTrip) {
  LookupCache cache(64 << 10, 1);
  const uint64_t far = format::MakeLocation(format::kMaxSegmentNumber, (uint64_t{1} << 40) - 8);
  cache.Insert(1, far, 1);
  cache.Insert(2, format::MakeLocation(1, 4096), 1);
  cache.Insert(3, format::MakeLocation(1, 4097), 1);  // not a record's: not cached
  uint64_t loc = 0;
  ASSERT_TRUE(cache.Lookup(1, 1, &loc));
  EXPECT_EQ(loc, far);
  ASSERT_TRUE(cache.Lookup(2, 1, &loc));
  EXPECT_EQ(loc, format::MakeLocation(1, 4096));
  EXPECT_FALSE(cache.Lookup(3, 1, &loc));
}

TEST(LookupCacheTest, CapacityZeroDisables) {
  LookupCache cache(0);
  EXPECT_FALSE(cache.enabled());
  cache.Insert(1, 8, 1);
  uint64_t loc = 0;
  EXPECT_FALSE(cache.Lookup(1, 1, &loc));
  ExpectCounts(cache, {});
  EXPECT_EQ(cache.Stats().bytes, 0u);
  EXPECT_EQ(cache.Stats().capacity, 0u);
}

TEST(LookupCacheTest, SnapshotSequenceRule) {
  LookupCache cache(64 << 10, 1);
  uint64_t loc = 0;
  cache.Insert(7, 100 * 8, 10);            // found by a reader at snapshot 10
  EXPECT_FALSE(cache.Lookup(7, 9, &loc));  // an older snapshot may differ
  EXPECT_TRUE(cache.Lookup(7, 10, &loc));
  EXPECT_TRUE(cache.Lookup(7, 50, &loc));
  cache.Insert(7, 100 * 8, 8);  // same location from snapshot 8: valid from 8 on
  EXPECT_TRUE(cache.Lookup(7, 8, &loc));

  cache.InvalidateKeys(Keys({7}), 12);  // commit 12 changes id 7
  EXPECT_FALSE(cache.Lookup(7, 12, &loc));
  cache.Insert(7, 100 * 8, 11);  // a reader still at 11 offers the old location: refused
  EXPECT_FALSE(cache.Lookup(7, 11, &loc));
  EXPECT_FALSE(cache.Lookup(7, 12, &loc));
  cache.Insert(7, 200 * 8, 12);  // a reader at 12 offers the new one
  ASSERT_TRUE(cache.Lookup(7, 12, &loc));
  EXPECT_EQ(loc, 200u * 8);
  EXPECT_FALSE(cache.Lookup(7, 11, &loc));

  cache.InvalidateAll(20);
  cache.Insert(9, 300 * 8, 19);
  EXPECT_FALSE(cache.Lookup(9, 25, &loc));
}

TEST(LookupCacheTest, SequencesBeyondThirtyTwoBits) {
  // Entries keep the low half of their sequence; the shard keeps the high.
  LookupCache cache(64 << 10, 1);
  constexpr uint64_t kHigh = uint64_t{1} << 32;
  uint64_t loc = 0;
  cache.Insert(1, 8, kHigh - 1);
  ASSERT_TRUE(cache.Lookup(1, kHigh + 5, &loc));
  cache.Insert(2, 16, kHigh + 3);  // a new high half: the shard starts over
  EXPECT_FALSE(cache.Lookup(1, kHigh + 5, &loc));
  EXPECT_FALSE(cache.Lookup(2, kHigh + 2, &loc));  // not 3 - 2^32
  EXPECT_FALSE(cache.Lookup(2, 4, &loc));
  ASSERT_TRUE(cache.Lookup(2, kHigh + 3, &loc));
  cache.Insert(3, 24, kHigh - 2);  // an older high half: refused
  EXPECT_FALSE(cache.Lookup(3, kHigh + 9, &loc));
}

TEST(LookupCacheTest, SetCapacityShrinksAndGrows) {
  LookupCache cache(64 << 10, 1);
  for (uint64_t k = 1; k <= 1000; ++k) cache.Insert(k, k * 8, 1);
  const LookupCacheStats full = cache.Stats();
  EXPECT_EQ(full.entries + full.evictions, 1000u);
  cache.SetCapacity(LookupCache::kSetBytes);  // one set
  LookupCacheStats st = cache.Stats();
  EXPECT_EQ(st.entries, 4u);
  EXPECT_EQ(st.evictions, 1000u - 4);
  EXPECT_EQ(st.bytes, LookupCache::kSetBytes);
  EXPECT_EQ(st.capacity, LookupCache::kSetBytes);
  uint64_t loc = 0;
  int kept = 0;
  for (uint64_t k = 1; k <= 1000; ++k) {
    if (!cache.Lookup(k, 1, &loc)) continue;
    EXPECT_EQ(loc, k * 8);
    ++kept;
  }
  EXPECT_EQ(kept, 4);
  cache.SetCapacity(64 << 10);  // growing keeps everything
  EXPECT_EQ(cache.Stats().entries, 4u);
  EXPECT_EQ(cache.Stats().bytes, size_t{64} << 10);
  cache.SetCapacity(0);
  st = cache.Stats();
  EXPECT_FALSE(cache.enabled());
  EXPECT_EQ(st.entries, 0u);
  EXPECT_EQ(st.bytes, 0u);
}

// ---- Through a store ---------------------------------------------------------

Options StoreOptions(size_t budget = Options{}.memory_budget) {
  Options o = test::BudgetOptions(budget);
  o.sync = false;
  return o;
}

const ReadView& ViewOf(const Snapshot& snap) { return static_cast<const SnapshotImpl&>(snap).view(); }

// What the snapshot's path index alone answers, compared with its (cached) API.
void ExpectSameAsIndex(const Snapshot& snap, std::string_view path, const std::string& where) {
  MediaFileView cached, exact;
  const Status c = snap.FindByPath(path, &cached);
  const Status e = ViewOf(snap).FindByPath(path, &exact);
  ASSERT_EQ(c.code(), e.code()) << where << ": FindByPath(" << path << ") " << c.ToString();
  if (e.ok()) {
    ASSERT_EQ(cached.path().data(), exact.path().data()) << where << ": FindByPath(" << path << ")";
  }
}

TEST(LookupCacheStoreTest, SnapshotsNeverSeeAStaleLocation) {
  TempDir dir;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), StoreOptions(), &store).ok());
  std::vector<OwnedRecord> recs;
  for (int i = 0; i < 10; ++i) recs.push_back(OwnedRecord::Sample(i));
  std::vector<int64_t> ids;
  {
    WriteBatch b;
    for (const auto& r : recs) b.Put(r.fields());
    ASSERT_TRUE(store->Write(b, &ids).ok());
  }
  auto before = store->GetSnapshot();
  MediaFileView v;
  for (int round = 0; round < 2; ++round)  // warm: the second round hits
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(before->Get(ids[i], &v).ok());  // (ids are not cached)
      ASSERT_TRUE(before->FindByPath(recs[i].path, &v).ok());
    }
  const StoreStats warm = store->GetStats();
  EXPECT_EQ(warm.cache_hits, 10u);
  EXPECT_EQ(warm.cache_misses, 10u);
  EXPECT_EQ(warm.cache_inserts, 10u);

  // Record 0 moves to a new path, record 1 is removed, record 2 changes in
  // place (same path, new version at a new location).
  OwnedRecord moved = recs[0];
  moved.path = "/media/elsewhere/moved.flac";
  OwnedRecord changed = recs[2];
  changed.size = 424242;
  {
    WriteBatch b;
    b.Update(ids[0], moved.fields());
    b.Remove(ids[1]);
    b.Update(ids[2], changed.fields());
    ASSERT_TRUE(store->Write(b).ok());
  }
  // The writer neither consulted nor filled the cache.
  EXPECT_EQ(store->GetStats().cache_hits, warm.cache_hits);
  EXPECT_EQ(store->GetStats().cache_misses, warm.cache_misses);

  auto after = store->GetSnapshot();
  // The new snapshot first (its lookups fill the cache with new locations),
  // then the old one, then the new one again (from the cache).
  for (const Snapshot* snap : {after.get(), before.get(), after.get(), before.get()}) {
    const bool is_after = snap == after.get();
    ASSERT_TRUE(snap->Get(ids[0], &v).ok());
    EXPECT_EQ(v.path(), is_after ? moved.path : recs[0].path);
    EXPECT_EQ(snap->FindByPath(recs[0].path, &v).ok(), !is_after);
    EXPECT_EQ(snap->FindByPath(moved.path, &v).ok(), is_after);
    EXPECT_EQ(snap->Get(ids[1], &v).ok(), !is_after);
    EXPECT_EQ(snap->FindByPath(recs[1].path, &v).ok(), !is_after);
    ASSERT_TRUE(snap->Get(ids[2], &v).ok());
    EXPECT_EQ(v.size(), is_after ? 424242 : recs[2].size);
    ASSERT_TRUE(snap->FindByPath(recs[2].path, &v).ok());
    EXPECT_EQ(v.size(), is_after ? 424242 : recs[2].size);
    // The bulk forms answer the same.
    std::vector<MediaFileView> got;
    ASSERT_TRUE(snap->GetMany(std::vector<int64_t>{ids[0], ids[1], ids[2]}, &got).ok());
    EXPECT_EQ(got[0].path(), is_after ? moved.path : recs[0].path);
    EXPECT_EQ(got[1].valid(), !is_after);
    EXPECT_EQ(got[2].size(), is_after ? 424242 : recs[2].size);
    const std::vector<std::string_view> paths = {recs[0].path, moved.path, recs[2].path};
    ASSERT_TRUE(snap->FindManyByPath(paths, &got).ok());
    EXPECT_EQ(got[0].valid(), !is_after);
    EXPECT_EQ(got[1].valid(), is_after);
    EXPECT_EQ(got[2].size(), is_after ? 424242 : recs[2].size);
    for (int i = 0; i < 10; ++i) ExpectSameAsIndex(*snap, recs[i].path, is_after ? "after" : "before");
  }
  EXPECT_GT(store->GetStats().cache_hits, warm.cache_hits + 10);

  // A path given back and taken again in later commits.
  {
    WriteBatch b;
    b.Update(ids[0], recs[0].fields());  // back to its first path
    ASSERT_TRUE(store->Write(b).ok());
  }
  auto third = store->GetSnapshot();
  ASSERT_TRUE(third->FindByPath(recs[0].path, &v).ok());
  EXPECT_EQ(v.id(), ids[0]);
  EXPECT_TRUE(third->FindByPath(moved.path, &v).IsNotFound());
  EXPECT_TRUE(after->FindByPath(recs[0].path, &v).IsNotFound());
  ASSERT_TRUE(after->FindByPath(moved.path, &v).ok());
}

TEST(LookupCacheStoreTest, ReadOnlyStoreForgetsWhatTheWriterChanged) {
  TempDir dir;
  std::unique_ptr<Store> writer, reader;
  ASSERT_TRUE(Store::Open(dir.path(), StoreOptions(), &writer).ok());
  OwnedRecord r = OwnedRecord::Sample(1);
  std::vector<int64_t> ids;
  {
    WriteBatch b;
    b.Put(r.fields());
    ASSERT_TRUE(writer->Write(b, &ids).ok());
  }
  Options ro = StoreOptions();
  ro.read_only = true;
  ASSERT_TRUE(Store::Open(dir.path(), ro, &reader).ok());
  auto old_snap = reader->GetSnapshot();
  MediaFileView v;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(old_snap->FindByPath(r.path, &v).ok());
  EXPECT_EQ(reader->GetStats().cache_hits, 2u);
  OwnedRecord moved = r;
  moved.path = "/moved/by/the/writer.flac";
  {
    WriteBatch b;
    b.Update(ids[0], moved.fields());
    ASSERT_TRUE(writer->Write(b).ok());
  }
  auto new_snap = reader->GetSnapshot();
  ASSERT_GT(new_snap->sequence(), old_snap->sequence());
  EXPECT_TRUE(new_snap->FindByPath(r.path, &v).IsNotFound());
  ASSERT_TRUE(new_snap->FindByPath(moved.path, &v).ok());
  ASSERT_TRUE(old_snap->FindByPath(r.path, &v).ok());
  ASSERT_TRUE(new_snap->Get(ids[0], &v).ok());
  EXPECT_EQ(v.path(), moved.path);
}

// One writer keeps moving, changing, removing and re-adding a small set of
// records; readers look them up through the cache and check every answer
// against the same snapshot's indexes.
TEST(LookupCacheStoreTest, ConcurrentReadersAgreeWithTheIndexes) {
  TempDir dir;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), StoreOptions(size_t{1} << 20), &store).ok());
  constexpr int kRecords = 40;
  std::vector<OwnedRecord> recs;
  std::vector<int64_t> ids;
  {
    WriteBatch b;
    for (int i = 0; i < kRecords; ++i) recs.push_back(OwnedRecord::Sample(i));
    for (const auto& r : recs) b.Put(r.fields());
    ASSERT_TRUE(store->Write(b, &ids).ok());
  }
  // Paths a record may have: its own and two alternates.
  auto path_of = [&](int i, int variant) {
    return variant == 0 ? recs[i].path : "/alt" + std::to_string(variant) + "/" + std::to_string(i) + ".flac";
  };

  std::atomic<bool> done{false};
  std::atomic<uint64_t> checked{0};
  auto reader = [&](unsigned seed) {
    std::mt19937 rng(seed);
    while (!done.load()) {
      auto snap = store->GetSnapshot();
      for (int k = 0; k < 200; ++k) {
        const int i = static_cast<int>(rng() % kRecords);
        const std::string path = path_of(i, static_cast<int>(rng() % 3));
        ExpectSameAsIndex(*snap, path, "reader");
        if (testing::Test::HasFailure()) return;
        checked.fetch_add(1);
      }
    }
  };
  std::vector<std::thread> readers;
  for (unsigned t = 0; t < 3; ++t) readers.emplace_back(reader, t + 1);

  std::mt19937 rng(7);
  std::vector<int> variant(kRecords, 0);
  std::vector<bool> live(kRecords, true);
  for (int commit = 0; commit < 400 && !testing::Test::HasFailure(); ++commit) {
    WriteBatch b;
    std::vector<bool> in_batch(kRecords, false);
    for (int n = 0; n < 4; ++n) {
      const int i = static_cast<int>(rng() % kRecords);
      if (in_batch[i]) continue;
      in_batch[i] = true;
      if (!live[i]) continue;  // removed ids never come back; their paths stay free
      const int action = static_cast<int>(rng() % 8);
      if (action == 0) {
        b.Remove(ids[i]);
        live[i] = false;
        continue;
      }
      OwnedRecord r = recs[i];
      if (action < 4) variant[i] = (variant[i] + 1) % 3;  // move
      r.path = path_of(i, variant[i]);
      r.size = commit;  // a new version either way
      b.Update(ids[i], r.fields());
    }
    ASSERT_TRUE(store->Write(b).ok());
    if (commit % 100 == 99) {
      ASSERT_TRUE(store->CompactIndexes().ok());
    }
  }
  while (checked.load() < 20000 && !testing::Test::HasFailure()) std::this_thread::yield();
  done = true;
  for (auto& t : readers) t.join();
  const StoreStats st = store->GetStats();
  EXPECT_GT(st.cache_hits, 0u);
  EXPECT_GT(st.cache_misses, 0u);
  EXPECT_LE(st.cache_bytes, st.cache_capacity);
}

TEST(LookupCacheStoreTest, SetOptionResizesTheCache) {
  TempDir dir;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), StoreOptions(size_t{256} << 20), &store).ok());
  EXPECT_EQ(store->GetStats().cache_capacity, MemoryProfile::ForBudget(size_t{256} << 20).cache_bytes);
  constexpr int kRecords = 20000;
  std::vector<std::string> paths;
  {
    WriteBatch b;
    for (int i = 0; i < kRecords; ++i) {
      MediaFileFields f;
      paths.push_back("/m/" + std::to_string(i) + ".mp3");
      f.path = paths.back();
      FillDerivedColumns(f);
      b.Put(f);
    }
    ASSERT_TRUE(store->Write(b).ok());
  }
  auto snap = store->GetSnapshot();
  MediaFileView v;
  for (const std::string& path : paths) ASSERT_TRUE(snap->FindByPath(path, &v).ok());
  StoreStats st = store->GetStats();
  // 8 MiB has room for 524,288: all, but for any that met four others in a set.
  EXPECT_GE(st.cache_entries, uint64_t{kRecords} - 10);
  EXPECT_EQ(st.cache_entries + st.cache_evictions, uint64_t{kRecords});
  const uint64_t evicted_before = st.cache_evictions;

  ASSERT_TRUE(store->SetOption("memory_budget", "1M").ok());
  st = store->GetStats();
  const size_t capacity = MemoryProfile::ForBudget(size_t{1} << 20).cache_bytes;
  EXPECT_EQ(st.cache_capacity, capacity);
  EXPECT_EQ(st.cache_bytes, capacity);  // every shard had entries
  EXPECT_EQ(st.cache_entries, LookupCache::MaxEntries(capacity));  // 32 KiB: 2,048, every set full
  EXPECT_EQ(st.cache_evictions, kRecords - st.cache_entries);
  EXPECT_GT(st.cache_evictions, evicted_before);
  uint64_t hits = 0;
  for (const std::string& path : paths) {  // still answered, within the new bound; what stayed hits
    ASSERT_TRUE(snap->FindByPath(path, &v).ok());
    hits = store->GetStats().cache_hits;
  }
  EXPECT_GT(hits, 0u);
  EXPECT_EQ(store->GetStats().cache_bytes, capacity);
}

TEST(LookupCacheStoreTest, SwitchedOffByOptionEnvironmentAndSetOption) {
  TempDir dir;
  std::unique_ptr<Store> store;
  Options off = StoreOptions();
  off.lookup_cache = false;
  ASSERT_TRUE(Store::Open(dir.path(), off, &store).ok());
  const OwnedRecord r = OwnedRecord::Sample(1);
  {
    WriteBatch b;
    b.Put(r.fields());
    ASSERT_TRUE(store->Write(b).ok());
  }
  MediaFileView v;
  auto look_twice = [&] {
    auto snap = store->GetSnapshot();
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(snap->FindByPath(r.path, &v).ok());
  };
  look_twice();
  StoreStats st = store->GetStats();
  EXPECT_EQ(st.cache_capacity, 0u);
  EXPECT_EQ(st.cache_hits + st.cache_misses + st.cache_bytes, 0u);

  ASSERT_TRUE(store->SetOption("lookup_cache", "on").ok());
  look_twice();
  st = store->GetStats();
  EXPECT_EQ(st.cache_capacity, MemoryProfile::ForBudget(off.memory_budget).cache_bytes);
  EXPECT_EQ(st.cache_hits, 1u);
  EXPECT_GT(st.cache_bytes, 0u);
  EXPECT_TRUE(store->SetOption("lookup_cache", "maybe").IsInvalidArgument());
  ASSERT_TRUE(store->SetOption("lookup_cache", "off").ok());
  st = store->GetStats();
  EXPECT_EQ(st.cache_capacity, 0u);
  EXPECT_EQ(st.cache_bytes, 0u);
  // A budget change while off keeps it off.
  ASSERT_TRUE(store->SetOption("memory_budget", "64M").ok());
  EXPECT_EQ(store->GetStats().cache_capacity, 0u);
  store.reset();

  ::setenv("ZCMEDIA_LOOKUP_CACHE", "off", 1);
  Options from_env = StoreOptions();
  from_env.use_environment = true;
  ASSERT_TRUE(Store::Open(dir.path(), from_env, &store).ok());
  ::unsetenv("ZCMEDIA_LOOKUP_CACHE");
  EXPECT_EQ(store->GetStats().cache_capacity, 0u);
}

}  // namespace
}  // namespace zcmedia
