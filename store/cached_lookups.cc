#include "cached_lookups.h"

#include "checksum.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

namespace {

// `index_lookup(uint64_t* location)` asks the indexes (location may be
// null); `is_asked(view)` tells whether a record is the one asked for. A
// path whose 64-bit hash collides with a cached path's is counted as a hit
// and then answered by the index.
template <typename IsAsked, typename IndexLookup>
Status ThroughCache(const ReadView& view, LookupCache* cache, LookupCache::KeySpace space, uint64_t key,
                    IsAsked&& is_asked, IndexLookup&& index_lookup, MediaFileView* out) {
  if (cache == nullptr || !cache->enabled()) return index_lookup(nullptr);
  uint64_t location = 0;
  if (cache->Lookup(space, key, view.sequence, &location)) {
    const fb::MediaFile* record = nullptr;
    // A record that fails its checks here is left to the index lookup,
    // which reports the damage if the index leads there too.
    if (view.RecordAt(location, &record).ok() && is_asked(MediaFileView(record))) {
      *out = MediaFileView(record);
      return Status::OK();
    }
  }
  Status s = index_lookup(&location);
  if (s.ok()) cache->Insert(space, key, location, view.sequence);
  return s;
}

}  // namespace

Status CachedGet(const ReadView& view, LookupCache* cache, int64_t id, MediaFileView* out) {
  return ThroughCache(
      view, cache, LookupCache::KeySpace::kId, static_cast<uint64_t>(id),
      [&](const MediaFileView& v) { return v.id() == id; },
      [&](uint64_t* location) { return view.Get(id, out, location); }, out);
}

Status CachedFindByPath(const ReadView& view, LookupCache* cache, std::string_view path, MediaFileView* out) {
  const uint64_t hash = PathHash(path);
  return ThroughCache(
      view, cache, LookupCache::KeySpace::kPath, hash, [&](const MediaFileView& v) { return v.path() == path; },
      [&](uint64_t* location) { return view.FindByPath(path, hash, out, location); }, out);
}

}  // namespace zcmedia
