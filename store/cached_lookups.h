// Lookups by path through the store's LookupCache: a cached location is
// read and verified like any record and must hold the path asked for, else
// (and on a miss) the path index answers, and its answer is offered to the
// cache. The writer's constraint checks never come here: they ask ReadView
// directly, exact and uncached. Lookups by id are not cached: the id index
// finds an id in one probe (its runs hold disjoint id ranges), no dearer
// than a cache probe, and caching them measured 5-10% slower
// (docs/performance.md).
#pragma once

#include <string_view>

#include "lookup_cache.h"
#include "snapshot.h"

namespace zcmedia {

// ReadView::FindByPath with the same answers, through `cache` (null or
// disabled: straight to the index).
Status CachedFindByPath(const ReadView& view, LookupCache* cache, std::string_view path, MediaFileView* out);

}  // namespace zcmedia
