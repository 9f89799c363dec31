#include "cached_lookups.h"

#include "checksum.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

Status CachedFindByPath(const ReadView& view, LookupCache* cache, std::string_view path, MediaFileView* out) {
  const uint64_t hash = PathHash(path);
  if (cache == nullptr || !cache->enabled()) return view.FindByPath(path, hash, out);
  uint64_t location = 0;
  if (cache->Lookup(hash, view.sequence, &location)) {
    const fb::MediaFile* record = nullptr;
    // A record that fails its checks, or another path (a twin of this one's
    // tag, or of its 64-bit hash), is left to the index lookup, which reports
    // the damage if the index leads there too. Such a hit is still counted.
    if (view.RecordAt(location, &record).ok() && MediaFileView(record).path() == path) {
      *out = MediaFileView(record);
      return Status::OK();
    }
  }
  Status s = view.FindByPath(path, hash, out, &location);
  if (s.ok()) cache->Insert(hash, location, view.sequence);
  return s;
}

}  // namespace zcmedia
