// The k-way merge behind MergeRuns (a template, so sinks inline). Runs are
// few (a handful per index), so a linear scan for the smallest head beats a
// heap.
#pragma once

#include <vector>

namespace zcmedia {

template <typename Sink>
void MergeRuns(uint32_t kind, std::span<const RunPtr> runs, bool drop_tombstones, Sink&& sink) {
  struct Cursor {
    const RunEntry* pos;
    const RunEntry* end;
  };
  // cursors[i] reads runs[i]; a lower index is a newer run.
  std::vector<Cursor> cursors;
  cursors.reserve(runs.size());
  for (const RunPtr& r : runs) cursors.push_back({r->begin(), r->end()});
  if (cursors.size() == 1) {  // a copy, minus tombstones if asked
    for (const RunEntry* p = cursors[0].pos; p != cursors[0].end; ++p)
      if (!(drop_tombstones && (p->value & format::kTombstone))) sink(*p);
    return;
  }
  for (;;) {
    // The smallest identity among the heads; on ties the newest run wins
    // (strict comparison keeps the first, i.e. newest, cursor).
    Cursor* best = nullptr;
    for (Cursor& c : cursors)
      if (c.pos != c.end && (best == nullptr || EntryLess(kind, *c.pos, *best->pos))) best = &c;
    if (best == nullptr) return;
    const RunEntry e = *best->pos;
    const uint64_t identity = EntryIdentity(kind, e);
    for (Cursor& c : cursors)  // every run's entry for this identity is consumed
      if (c.pos != c.end && c.pos->key == e.key && EntryIdentity(kind, *c.pos) == identity) ++c.pos;
    if (drop_tombstones && (e.value & format::kTombstone)) continue;
    sink(e);
  }
}

}  // namespace zcmedia
