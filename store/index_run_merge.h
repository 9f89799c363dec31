// The k-way merge behind MergeRuns (a template, so sinks inline).
#pragma once

#include <queue>

namespace zcmedia {

template <typename Sink>
void MergeRuns(uint32_t kind, std::span<const RunPtr> runs, bool drop_tombstones, Sink&& sink) {
  struct Cursor {
    const RunEntry* pos;
    const RunEntry* end;
    size_t age;  // 0 = newest
  };
  auto later = [kind](const Cursor& a, const Cursor& b) {
    // priority_queue pops the "largest": invert so the smallest identity, and
    // for equal identities the newest run, comes first.
    if (EntryLess(kind, *a.pos, *b.pos)) return false;
    if (EntryLess(kind, *b.pos, *a.pos)) return true;
    return a.age > b.age;
  };
  std::priority_queue<Cursor, std::vector<Cursor>, decltype(later)> heap(later);
  for (size_t i = 0; i < runs.size(); ++i)
    if (runs[i]->size() > 0) heap.push({runs[i]->begin(), runs[i]->end(), i});
  bool have_last = false;
  RunEntry last{};
  while (!heap.empty()) {
    Cursor c = heap.top();
    heap.pop();
    const RunEntry e = *c.pos;
    if (++c.pos != c.end) heap.push(c);
    if (have_last && e.key == last.key && EntryIdentity(kind, e) == EntryIdentity(kind, last))
      continue;  // an older entry for an identity already emitted
    have_last = true;
    last = e;
    if (drop_tombstones && (e.value & format::kTombstone)) continue;
    sink(e);
  }
}

}  // namespace zcmedia
