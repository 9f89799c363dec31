// The lookup cache: exact byte accounting, LRU eviction, counters, the
// snapshot rule, resizing.
#include "lookup_cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>


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
#endif

namespace zcmedia {
namespace {

#ifndef ZC_SANITIZED
struct CountAllocations {
  explicit CountAllocations(size_t* bytes) { g_counted_bytes = bytes; }
  ~CountAllocations() { g_counted_bytes = nullptr; }
};
#endif

using Space = LookupCache::KeySpace;

// A shard's heap, worked out by hand from the layout lookup_cache.h
// describes: 8-byte chunk pointers for every chunk the capacity allows, one
// u32 bucket per node rounded down to a power of two, and 64 nodes of 40
// bytes per allocated chunk.
constexpr size_t kNodeBytes = 40;
constexpr size_t kChunkBytes = 64 * kNodeBytes;

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
  // 64 KiB in one shard: 23 chunks fit (23*8 + 1024*4 + 23*2560 = 63,160;
  // 24 chunks would need 65,728).
  constexpr size_t kCapacity = 64 << 10;
  LookupCache cache(kCapacity, 1);
  const size_t fixed = 23 * 8 + 1024 * 4;
  EXPECT_EQ(LookupCache::ShardMaxEntries(kCapacity), 23u * 64);
  EXPECT_EQ(cache.Stats().bytes, 0u);  // nothing until the first insert

  uint64_t key = 0;
  auto insert_until = [&](uint64_t n) {
    while (key < n) ++key, cache.Insert(Space::kId, key, key * 8, 1);
  };
  insert_until(1);
  EXPECT_EQ(cache.Stats().bytes, fixed + kChunkBytes);
  insert_until(64);
  EXPECT_EQ(cache.Stats().bytes, fixed + kChunkBytes);
  insert_until(65);
  EXPECT_EQ(cache.Stats().bytes, fixed + 2 * kChunkBytes);
  insert_until(23 * 64);
  EXPECT_EQ(cache.Stats().bytes, fixed + 23 * kChunkBytes);
  EXPECT_EQ(cache.Stats().evictions, 0u);
  insert_until(2000);  // full: old entries make room, nothing more is allocated
  LookupCacheStats st = cache.Stats();
  EXPECT_EQ(st.bytes, 63160u);
  EXPECT_LE(st.bytes, kCapacity);
  EXPECT_EQ(st.entries, 23u * 64);
  EXPECT_EQ(st.inserts, 2000u);
  EXPECT_EQ(st.evictions, 2000u - 23 * 64);
  EXPECT_EQ(LookupCache::ShardBytes(kCapacity, 23 * 64), st.bytes);

  // Invalidation frees entries, not allocations; the free nodes are reused.
  cache.InvalidateBatch(Keys({1999, 2000}), {}, 5);
  EXPECT_EQ(cache.Stats().entries, 23u * 64 - 2);
  cache.InvalidateAll(6);
  st = cache.Stats();
  EXPECT_EQ(st.entries, 0u);
  EXPECT_EQ(st.bytes, 63160u);
}

TEST(LookupCacheTest, BytesAreWhatWasAskedOfTheAllocator) {
#ifdef ZC_SANITIZED
  GTEST_SKIP() << "sanitizer builds keep their own operator new";
#else
  // Every operator new this thread makes while inserting into a fresh
  // cache (chunk tables, buckets, chunks) adds up to what the cache reports.
  LookupCache cache(256 << 10, 4);
  size_t asked = 0;
  {
    CountAllocations counting(&asked);
    for (uint64_t k = 1; k <= 3000; ++k) cache.Insert(Space::kPath, k * 0x9E3779B97F4A7C15ull, k * 8, 1);
  }
  const LookupCacheStats st = cache.Stats();
  EXPECT_EQ(st.entries, 3000u);
  EXPECT_EQ(asked, st.bytes);
  EXPECT_GT(asked, 3000 * kNodeBytes);
#endif
}

TEST(LookupCacheTest, EvictsTheLeastRecentlyUsed) {
  // One chunk exactly: 64 entries.
  const size_t capacity = 8 + 64 * 4 + kChunkBytes;
  LookupCache cache(capacity, 1);
  ASSERT_EQ(LookupCache::ShardMaxEntries(capacity), 64u);
  for (uint64_t k = 1; k <= 64; ++k) cache.Insert(Space::kId, k, k * 8, 1);
  uint64_t loc = 0;
  ASSERT_TRUE(cache.Lookup(Space::kId, 1, 1, &loc));  // 1 becomes the newest; 2 is now the oldest
  EXPECT_EQ(loc, 8u);
  cache.Insert(Space::kId, 3, 3 * 8, 1);  // refreshing an entry also makes it recent: 4 is next
  cache.Insert(Space::kId, 65, 65 * 8, 1);
  cache.Insert(Space::kId, 66, 66 * 8, 1);
  EXPECT_FALSE(cache.Lookup(Space::kId, 2, 1, &loc));
  EXPECT_FALSE(cache.Lookup(Space::kId, 4, 1, &loc));
  for (uint64_t k : {1, 3, 5, 64, 65, 66}) EXPECT_TRUE(cache.Lookup(Space::kId, k, 1, &loc)) << k;
  ExpectCounts(cache, {.entries = 64, .inserts = 66, .evictions = 2, .hits = 7, .misses = 2});
}

TEST(LookupCacheTest, KeySpacesAreDistinct) {
  LookupCache cache(64 << 10, 2);
  cache.Insert(Space::kId, 5, 40, 1);
  uint64_t loc = 0;
  EXPECT_FALSE(cache.Lookup(Space::kPath, 5, 1, &loc));
  cache.Insert(Space::kPath, 5, 48, 1);
  ASSERT_TRUE(cache.Lookup(Space::kId, 5, 1, &loc));
  EXPECT_EQ(loc, 40u);
  ASSERT_TRUE(cache.Lookup(Space::kPath, 5, 1, &loc));
  EXPECT_EQ(loc, 48u);
  cache.InvalidateBatch({}, Keys({5}), 2);  // a path change leaves id 5 alone
  EXPECT_TRUE(cache.Lookup(Space::kId, 5, 2, &loc));
  EXPECT_FALSE(cache.Lookup(Space::kPath, 5, 2, &loc));
}

TEST(LookupCacheTest, CapacityZeroDisables) {
  LookupCache cache(0);
  EXPECT_FALSE(cache.enabled());
  cache.Insert(Space::kId, 1, 8, 1);
  uint64_t loc = 0;
  EXPECT_FALSE(cache.Lookup(Space::kId, 1, 1, &loc));
  ExpectCounts(cache, {});
  EXPECT_EQ(cache.Stats().bytes, 0u);
  EXPECT_EQ(cache.Stats().capacity, 0u);
}

TEST(LookupCacheTest, SnapshotSequenceRule) {
  LookupCache cache(64 << 10, 1);
  uint64_t loc = 0;
  cache.Insert(Space::kId, 7, 100, 10);               // found by a reader at snapshot 10
  EXPECT_FALSE(cache.Lookup(Space::kId, 7, 9, &loc));  // an older snapshot may differ
  EXPECT_TRUE(cache.Lookup(Space::kId, 7, 10, &loc));
  EXPECT_TRUE(cache.Lookup(Space::kId, 7, 50, &loc));
  cache.Insert(Space::kId, 7, 100, 8);  // same location from snapshot 8: valid from 8 on
  EXPECT_TRUE(cache.Lookup(Space::kId, 7, 8, &loc));

  cache.InvalidateBatch(Keys({7}), {}, 12);  // commit 12 changes id 7
  EXPECT_FALSE(cache.Lookup(Space::kId, 7, 12, &loc));
  cache.Insert(Space::kId, 7, 100, 11);  // a reader still at 11 offers the old location: refused
  EXPECT_FALSE(cache.Lookup(Space::kId, 7, 11, &loc));
  EXPECT_FALSE(cache.Lookup(Space::kId, 7, 12, &loc));
  cache.Insert(Space::kId, 7, 200, 12);  // a reader at 12 offers the new one
  ASSERT_TRUE(cache.Lookup(Space::kId, 7, 12, &loc));
  EXPECT_EQ(loc, 200u);
  EXPECT_FALSE(cache.Lookup(Space::kId, 7, 11, &loc));

  cache.InvalidateAll(20);
  cache.Insert(Space::kId, 9, 300, 19);
  EXPECT_FALSE(cache.Lookup(Space::kId, 9, 25, &loc));
}

TEST(LookupCacheTest, SetCapacityKeepsTheMostRecent) {
  LookupCache cache(64 << 10, 1);
  for (uint64_t k = 1; k <= 1000; ++k) cache.Insert(Space::kId, k, k * 8, 1);
  const size_t small = 8 + 64 * 4 + kChunkBytes;  // 64 entries
  cache.SetCapacity(small);
  LookupCacheStats st = cache.Stats();
  EXPECT_EQ(st.entries, 64u);
  EXPECT_EQ(st.evictions, 1000u - 64);
  EXPECT_EQ(st.bytes, small);
  EXPECT_EQ(st.capacity, small);
  uint64_t loc = 0;
  EXPECT_FALSE(cache.Lookup(Space::kId, 936, 1, &loc));
  for (uint64_t k = 937; k <= 1000; ++k) ASSERT_TRUE(cache.Lookup(Space::kId, k, 1, &loc)) << k;
  cache.SetCapacity(64 << 10);  // growing keeps everything
  EXPECT_EQ(cache.Stats().entries, 64u);
  EXPECT_TRUE(cache.Lookup(Space::kId, 1000, 1, &loc));
  cache.SetCapacity(0);
  st = cache.Stats();
  EXPECT_FALSE(cache.enabled());
  EXPECT_EQ(st.entries, 0u);
  EXPECT_EQ(st.bytes, 0u);
}

}  // namespace
}  // namespace zcmedia
