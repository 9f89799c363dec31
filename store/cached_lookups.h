// Point lookups of a snapshot through the store's LookupCache: a cached
// location is read and verified like any record and must hold the record
// asked for, else (and on a miss) the indexes answer, and their answer is
// offered to the cache. The writer's constraint checks never come here:
// they ask ReadView directly, exact and uncached.
#pragma once

#include <cstdint>
#include <string_view>

#include "lookup_cache.h"
#include "snapshot.h"

namespace zcmedia {

// ReadView::Get and ReadView::FindByPath with the same answers, through
// `cache` (null or disabled: straight to the indexes).
Status CachedGet(const ReadView& view, LookupCache* cache, int64_t id, MediaFileView* out);
Status CachedFindByPath(const ReadView& view, LookupCache* cache, std::string_view path, MediaFileView* out);

}  // namespace zcmedia
