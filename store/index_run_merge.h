// The k-way merge behind MergeRuns and MergeRanges (templates, so sinks
// inline). Each run head is a 128-bit sort key (key, identity); a loser tree
// picks the smallest.
#pragma once

#include <algorithm>
#include <bit>
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
  // A loser tree over `leaves` (k rounded up to a power of two; the padding
  // leaves are exhausted): each entry costs log2(leaves) comparisons on the
  // path of the run it came from. (A linear scan of the heads cost about
  // twice as many instructions per entry at fan-in 8, and merging is most
  // of a checkpoint's work.)
  const size_t leaves = std::bit_ceil(k);
  std::vector<const RunEntry*> pos(leaves, nullptr), end(leaves, nullptr);
  std::vector<uint128> head(leaves, kExhausted);
  for (size_t i = 0; i < k; ++i) {
    pos[i] = ranges[i].begin;
    end[i] = ranges[i].end;
    head[i] = pos[i] != end[i] ? sort_key(*pos[i]) : kExhausted;
  }
  // Whether run a's head comes before run b's: ties go to the newer run.
  auto beats = [&](size_t a, size_t b) { return head[a] < head[b] || (head[a] == head[b] && a < b); };
  // loser[n], for the internal nodes n in [1, leaves): the run that lost the
  // match at n (node n's children are 2n and 2n+1, leaf i is node leaves+i).
  std::vector<size_t> loser(leaves, 0);
  size_t winner = 0;
  {
    std::vector<size_t> won(2 * leaves);
    for (size_t i = 0; i < leaves; ++i) won[leaves + i] = i;
    for (size_t n = leaves - 1; n >= 1; --n) {
      const size_t a = won[2 * n], b = won[2 * n + 1];
      const bool a_wins = beats(a, b);
      won[n] = a_wins ? a : b;
      loser[n] = a_wins ? b : a;
    }
    winner = won[1];
  }
  // Moves run r (the winner) to its next entry and replays its matches.
  auto advance = [&](size_t r) {
    ++pos[r];
    head[r] = pos[r] != end[r] ? sort_key(*pos[r]) : kExhausted;
    size_t w = r;
    for (size_t n = (leaves + r) / 2; n >= 1; n /= 2)
      if (beats(loser[n], w)) std::swap(loser[n], w);
    winner = w;
  };
  for (;;) {
    const uint128 smallest = head[winner];
    if (smallest == kExhausted) return;
    const RunEntry e = *pos[winner];
    // Every run's entry for this identity is consumed (a run holds one per
    // identity); only the newest run's, taken first, is kept.
    do advance(winner);
    while (head[winner] == smallest);
    if (!(drop_tombstones && (e.value & format::kTombstone))) sink(e);
  }
}

}  // namespace zcmedia
