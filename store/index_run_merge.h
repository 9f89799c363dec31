// The k-way merge behind MergeRuns (a template, so sinks inline). Runs are
// few (a handful per index), so the heads sit in one small array of 128-bit
// sort keys (key, identity) and each step is a branch-light scan of it.
#pragma once

#include <vector>

namespace zcmedia {

template <typename Sink>
void MergeRuns(uint32_t kind, std::span<const RunPtr> runs, bool drop_tombstones, Sink&& sink) {
  using format::uint128;
  if (runs.size() == 1) {  // a copy, minus tombstones if asked
    for (const RunEntry& e : *runs[0])
      if (!(drop_tombstones && (e.value & format::kTombstone))) sink(e);
    return;
  }
  constexpr uint128 kExhausted = ~uint128{0};
  auto sort_key = [kind](const RunEntry& e) {
    return (uint128{e.key} << 64) | EntryIdentity(kind, e);
  };
  // Index i reads runs[i]; a lower index is a newer run.
  std::vector<const RunEntry*> pos, end;
  std::vector<uint128> head;
  for (const RunPtr& r : runs) {
    pos.push_back(r->begin());
    end.push_back(r->end());
    head.push_back(r->size() ? sort_key(*r->begin()) : kExhausted);
  }
  const size_t k = head.size();
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
    if (drop_tombstones && (e.value & format::kTombstone)) continue;
    sink(e);
  }
}

}  // namespace zcmedia
