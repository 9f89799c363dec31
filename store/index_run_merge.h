// The k-way merge behind MergeRuns and MergeRanges (templates, so sinks
// inline). Each run head is a 128-bit sort key (key, identity). Up to eight
// runs (checkpoints, tier merges at fan-in 8) are scanned linearly; more (a
// full compaction of a large store) go through a binary heap.
#pragma once

#include <algorithm>
#include <vector>

namespace zcmedia {

template <typename Sink>
void MergeRuns(uint32_t kind, std::span<const RunPtr> runs, bool drop_tombstones, Sink&& sink) {
  if (runs.size() == 1) {  // a copy, minus tombstones if asked
    for (const RunEntry& e : *runs[0])
      if (!(drop_tombstones && (e.value & format::kTombstone))) sink(e);
    return;
  }
  std::vector<EntryRange> ranges;
  ranges.reserve(runs.size());
  for (const RunPtr& run : runs) ranges.push_back({run->begin(), run->end()});
  MergeRanges(kind, ranges, drop_tombstones, sink);
}

template <typename Sink>
void MergeRanges(uint32_t kind, std::span<const EntryRange> ranges, bool drop_tombstones, Sink&& sink) {
  using format::uint128;
  constexpr uint128 kExhausted = ~uint128{0};
  auto sort_key = [kind](const RunEntry& e) {
    return (uint128{e.key} << 64) | EntryIdentity(kind, e);
  };
  // Index i reads ranges[i]; a lower index is a newer run, and among equal
  // identities the newest run's entry is the one kept.
  const size_t k = ranges.size();
  if (k == 0) return;
  std::vector<const RunEntry*> pos(k), end(k);
  std::vector<uint128> head(k);
  for (size_t i = 0; i < k; ++i) {
    pos[i] = ranges[i].begin;
    end[i] = ranges[i].end;
    head[i] = pos[i] != end[i] ? sort_key(*pos[i]) : kExhausted;
  }
  auto emit = [&](const RunEntry& e) {
    if (!(drop_tombstones && (e.value & format::kTombstone))) sink(e);
  };

  if (k <= 8) {
    for (;;) {
      size_t best = 0;
      for (size_t i = 1; i < k; ++i)
        if (head[i] < head[best]) best = i;  // strict: ties keep the newest run
      const uint128 smallest = head[best];
      if (smallest == kExhausted) return;
      const RunEntry e = *pos[best];
      for (size_t i = 0; i < k; ++i) {  // every run's entry for this identity is consumed
        if (head[i] != smallest) continue;
        ++pos[i];
        head[i] = pos[i] != end[i] ? sort_key(*pos[i]) : kExhausted;
      }
      emit(e);
    }
  }

  // Min-heap of (head, run index): the smallest identity, newest run first.
  struct Item {
    uint128 head;
    size_t run;
  };
  auto after = [](const Item& a, const Item& b) { return a.head != b.head ? a.head > b.head : a.run > b.run; };
  std::vector<Item> heap;
  heap.reserve(k);
  for (size_t i = 0; i < k; ++i)
    if (head[i] != kExhausted) heap.push_back({head[i], i});
  std::make_heap(heap.begin(), heap.end(), after);
  auto advance = [&](size_t run) {
    if (++pos[run] != end[run]) {
      heap.push_back({sort_key(*pos[run]), run});
      std::push_heap(heap.begin(), heap.end(), after);
    }
  };
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), after);
    const Item top = heap.back();
    heap.pop_back();
    const RunEntry e = *pos[top.run];
    // Older runs' entries for the same identity are consumed unseen.
    while (!heap.empty() && heap.front().head == top.head) {
      std::pop_heap(heap.begin(), heap.end(), after);
      const size_t older = heap.back().run;
      heap.pop_back();
      advance(older);
    }
    advance(top.run);
    emit(e);
  }
}

}  // namespace zcmedia
