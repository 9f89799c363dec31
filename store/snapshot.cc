#include "snapshot.h"

#include "category.h"

#include <algorithm>
#include <limits>

#include "cached_lookups.h"
#include "checksum.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

using namespace format;

const SegmentRef* ReadView::SegmentOf(uint64_t location, Status* status) const {
  const uint32_t number = LocationSegment(location);
  auto it = std::lower_bound(segments.begin(), segments.end(), number,
                             [](const SegmentRef& s, uint32_t n) { return s.segment->number() < n; });
  if (it != segments.end() && it->segment->number() == number) return &*it;
  *status = Status::Corruption("index points at segment " + std::to_string(number) +
                               ", which the store does not have; run `zcmedia check --repair`");
  return nullptr;
}

Status ReadView::RecordAt(uint64_t location, const fb::MediaFile** record, uint32_t* entry_bytes) const {
  Status s;
  const SegmentRef* ref = SegmentOf(location, &s);
  if (ref == nullptr) return s;
  return ReadRecordAt(*ref->segment, LocationOffset(location), ref->committed, record, entry_bytes);
}

Status ReadView::PlaylistAt(uint64_t location, const fb::Playlist** record, uint32_t* entry_bytes) const {
  Status s;
  const SegmentRef* ref = SegmentOf(location, &s);
  if (ref == nullptr) return s;
  return ReadPlaylistAt(*ref->segment, LocationOffset(location), ref->committed, record, entry_bytes);
}

Status ReadView::PlaylistEntryAt(uint64_t location, const fb::PlaylistEntry** record, uint32_t* entry_bytes) const {
  Status s;
  const SegmentRef* ref = SegmentOf(location, &s);
  if (ref == nullptr) return s;
  return ReadPlaylistEntryAt(*ref->segment, LocationOffset(location), ref->committed, record, entry_bytes);
}

void ReadView::PrefetchRecord(uint64_t location) const {
  Status ignored;
  const SegmentRef* ref = SegmentOf(location, &ignored);
  if (ref == nullptr) return;
  const uint64_t offset = LocationOffset(location);
  for (uint64_t line = 0; line < 256 && offset + line < ref->committed; line += 64)
    __builtin_prefetch(ref->segment->base() + offset + line);
}

Status ReadView::IndexDamage(uint32_t kind) const {
  for (const RunPtr& run : runs[kind]) ZC_RETURN_IF_ERROR(run->damage());
  return Status::OK();
}

uint64_t ReadView::LookupSingle(uint32_t kind, uint64_t key) const {
  for (const RunPtr& run : runs[kind]) {
    if (run->size() == 0 || key < run->min_key() || key > run->max_key()) continue;
    if (!run->MayContain(key)) continue;  // runs without a filter (ids) always may
    const RunEntry* e = run->LowerBound(key);
    if (e != run->end() && e->key == key) return (e->value & kTombstone) ? 0 : e->value;
  }
  return 0;
}

uint64_t ReadView::LocateId(int64_t id) const { return LookupSingle(kIdIndex, static_cast<uint64_t>(id)); }

Status ReadView::DirectoryAt(uint64_t location, const fb::Directory** record, uint32_t* entry_bytes) const {
  Status s;
  const SegmentRef* ref = SegmentOf(location, &s);
  if (ref == nullptr) return s;
  return ReadDirectoryAt(*ref->segment, LocationOffset(location), ref->committed, record, entry_bytes);
}

void ReadView::LookupMulti(uint32_t kind, uint64_t key, std::vector<uint64_t>* locations) const {
  // (location, age, tombstone): the newest entry per location decides.
  struct Hit {
    uint64_t location;
    size_t age;
    bool tombstone;
  };
  // Scratch reused by every lookup on this thread: no allocation per lookup.
  thread_local std::vector<Hit> hits;
  if (hits.capacity() > 4096) std::vector<Hit>().swap(hits);  // a huge directory's scratch is not kept
  hits.clear();
  const auto& kind_runs = runs[kind];
  // Readers look up keys that usually exist, and most keys live in the
  // oldest (largest) run: its filter would cost a cache miss and spare
  // nothing, so it is neither fetched nor probed. The younger runs' filters
  // skip their searches. (Ingest's negative probes use every filter: see
  // BatchApplier::PrefilterPaths.)
  const size_t oldest = kind_runs.size() - 1;
  for (size_t age = 0; age < kind_runs.size(); ++age) {
    const RunPtr& run = kind_runs[age];
    if (run->size() != 0 && key >= run->min_key() && key <= run->max_key())
      run->Prefetch(key, /*with_filter=*/age != oldest);
  }
  for (size_t age = 0; age < kind_runs.size(); ++age) {
    const RunPtr& run = kind_runs[age];
    if (run->size() == 0 || key < run->min_key() || key > run->max_key()) continue;
    if (age != oldest && !run->MayContain(key)) continue;
    for (const RunEntry* e = run->LowerBound(key); e != run->end() && e->key == key; ++e)
      hits.push_back({e->value & ~kTombstone, age, (e->value & kTombstone) != 0});
  }
  if (hits.empty()) return;
  if (hits.size() == 1) {  // the common case: one live entry in one run
    if (!hits[0].tombstone) locations->push_back(hits[0].location);
    return;
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.location != b.location ? a.location < b.location : a.age < b.age;
  });
  for (size_t i = 0; i < hits.size(); ++i) {
    if (i > 0 && hits[i].location == hits[i - 1].location) continue;
    if (!hits[i].tombstone) locations->push_back(hits[i].location);
  }
}

Status ReadView::Get(int64_t id, MediaFileView* out) const {
  const uint64_t loc = LocateId(id);
  ZC_RETURN_IF_ERROR(IndexDamage(kIdIndex));
  if (loc == 0) return Status::NotFound("no media file with id " + std::to_string(id));
  const fb::MediaFile* rec = nullptr;
  ZC_RETURN_IF_ERROR(RecordAt(loc, &rec));
  if (rec->id() != id)
    return Status::Corruption("id index entry for " + std::to_string(id) + " points at record " +
                              std::to_string(rec->id()) + "; the index must be rebuilt from the segments");
  *out = MediaFileView(rec);
  return Status::OK();
}

Status ReadView::FindByPath(std::string_view path, MediaFileView* out) const {
  return FindByPath(path, PathHash(path), out);
}

Status ReadView::FindByPath(std::string_view path, uint64_t path_hash, MediaFileView* out,
                            uint64_t* location) const {
  thread_local std::vector<uint64_t> locations;  // reused; nothing below looks up paths again
  if (locations.capacity() > 4096) std::vector<uint64_t>().swap(locations);
  locations.clear();
  LookupMulti(kPathIndex, path_hash, &locations);
  ZC_RETURN_IF_ERROR(IndexDamage(kPathIndex));
  for (uint64_t loc : locations) {  // usually one; more only on a 64-bit hash collision
    const fb::MediaFile* rec = nullptr;
    ZC_RETURN_IF_ERROR(RecordAt(loc, &rec));
    MediaFileView v(rec);
    if (v.path() == path) {
      *out = v;
      if (location != nullptr) *location = loc;
      return Status::OK();
    }
  }
  return Status::NotFound("no media file with path '" + std::string(path) + "'");
}

Status ReadView::ListDirectory(std::string_view parent, std::vector<MediaFileView>* out,
                               std::optional<MimeFamily> family) const {
  std::vector<uint64_t> locations;
  LookupMulti(kDirIndex, PathHash(parent), &locations);
  ZC_RETURN_IF_ERROR(IndexDamage(kDirIndex));
  const size_t first = out->size();
  for (uint64_t loc : locations) PrefetchRecord(loc);
  for (uint64_t loc : locations) {
    const fb::MediaFile* rec = nullptr;
    ZC_RETURN_IF_ERROR(RecordAt(loc, &rec));
    MediaFileView v(rec);
    if (v.parent_path() != parent) continue;  // another directory with the same hash
    if (family && MimeFamilyOf(v.mime_type()) != *family) continue;
    out->push_back(v);
  }
  std::sort(out->begin() + static_cast<long>(first), out->end(),
            [](const MediaFileView& a, const MediaFileView& b) { return a.id() < b.id(); });
  return Status::OK();
}

size_t ReadView::MemoryRunBytes() const {
  size_t bytes = 0;
  for (uint32_t k = 0; k < format::kRunKinds; ++k)
    for (const RunPtr& r : runs[k])
      if (r->in_memory()) bytes += r->size() * sizeof(RunEntry) + (r->size() / format::EntriesPerBucket(k) + 2) * 4;
  return bytes;
}

Status SnapshotImpl::FindByPath(std::string_view path, MediaFileView* out) const {
  return Counted(1, CachedFindByPath(view_, cache_.get(), path, out));
}

Status SnapshotImpl::GetMany(std::span<const int64_t> ids, std::vector<MediaFileView>* out) const {
  counters_->CountLookups(ids.size());
  out->clear();
  out->reserve(ids.size());
  for (int64_t id : ids) {
    MediaFileView v;
    Status s = view_.Get(id, &v);
    if (!s.ok() && !s.IsNotFound()) return counters_->CountError(s);
    out->push_back(v);
  }
  return Status::OK();
}

Status SnapshotImpl::FindManyByPath(std::span<const std::string_view> paths,
                                    std::vector<MediaFileView>* out) const {
  counters_->CountLookups(paths.size());
  out->clear();
  out->reserve(paths.size());
  for (std::string_view p : paths) {
    MediaFileView v;
    Status s = CachedFindByPath(view_, cache_.get(), p, &v);
    if (!s.ok() && !s.IsNotFound()) return counters_->CountError(s);
    out->push_back(v);
  }
  return Status::OK();
}

namespace {

// Walks the id index in key order, merging runs newest-wins and skipping
// tombstones. Lifetime: borrows the view of its Snapshot.
class IdOrderIterator final : public RecordIterator {
 public:
  // `read_records`: false walks the id index only (record() is invalid).
  IdOrderIterator(const ReadView* view, bool read_records) : view_(view), read_records_(read_records) {}

  bool Valid() const override { return valid_; }
  void SeekToFirst() override { Seek(std::numeric_limits<int64_t>::min()); }
  void Seek(int64_t id) override {
    cursors_.clear();
    const auto& runs = view_->runs[kIdIndex];
    for (size_t age = 0; age < runs.size(); ++age) {
      // The walk reads every entry after `p`: verify the run first.
      status_ = runs[age]->VerifyAll();
      if (!status_.ok()) {
        cursors_.clear();
        valid_ = false;
        return;
      }
      const RunEntry* p = id <= 0 ? runs[age]->begin() : runs[age]->LowerBound(static_cast<uint64_t>(id));
      if (p != runs[age]->end()) cursors_.push_back({p, runs[age]->end(), age});
    }
    FindNext();
  }
  void Next() override { FindNext(); }
  int64_t id() const override { return id_; }
  MediaFileView record() const override { return record_; }
  Status status() const override { return status_; }

 private:
  struct Cursor {
    const RunEntry* pos;
    const RunEntry* end;
    size_t age;
  };

  // Advances to the next live id: the smallest key among the cursors, taken
  // from the newest run that has it; every cursor on that key moves past it.
  void FindNext() {
    valid_ = false;
    if (cursors_.size() == 1 && status_.ok()) {  // a compacted index: one run, no merging (COUNT(*) walks 1M ids here)
      Cursor& c = cursors_[0];
      while (c.pos != c.end && (c.pos->value & kTombstone)) ++c.pos;
      if (c.pos == c.end) return;
      Take(*c.pos++);
      return;
    }
    while (status_.ok()) {
      const RunEntry* best = nullptr;
      size_t best_age = 0;
      for (const Cursor& c : cursors_) {
        if (c.pos == c.end) continue;
        if (best == nullptr || c.pos->key < best->key || (c.pos->key == best->key && c.age < best_age)) {
          best = c.pos;
          best_age = c.age;
        }
      }
      if (best == nullptr) return;
      const RunEntry e = *best;
      for (Cursor& c : cursors_)
        if (c.pos != c.end && c.pos->key == e.key) ++c.pos;
      if (e.value & kTombstone) continue;
      Take(e);
      return;
    }
  }

  // Makes the live entry `e` the current one (reading its record if asked).
  void Take(const RunEntry& e) {
    const fb::MediaFile* rec = nullptr;
    if (read_records_) {
      status_ = view_->RecordAt(e.value, &rec);
      if (!status_.ok()) return;
    }
    id_ = static_cast<int64_t>(e.key);
    record_ = MediaFileView(rec);
    valid_ = true;
  }

  const ReadView* view_;
  const bool read_records_;
  std::vector<Cursor> cursors_;  // few: one per run
  bool valid_ = false;
  int64_t id_ = 0;
  MediaFileView record_;
  Status status_;
};

}  // namespace

std::unique_ptr<RecordIterator> SnapshotImpl::NewIterator() const {
  counters_->CountLookups(1);
  return std::make_unique<IdOrderIterator>(&view_, /*read_records=*/true);
}

std::unique_ptr<RecordIterator> SnapshotImpl::NewIdIterator() const {
  counters_->CountLookups(1);
  return std::make_unique<IdOrderIterator>(&view_, /*read_records=*/false);
}

// ---- Categories (category.cc does the work) ---------------------------------

namespace {
Status CheckCategory(Category category) {
  const auto code = static_cast<uint8_t>(category);
  if (code < static_cast<uint8_t>(Category::kArtist) || code > static_cast<uint8_t>(Category::kAlbumArtist))
    return Status::InvalidArgument("unknown category " + std::to_string(code));
  return Status::OK();
}
}  // namespace

Status SnapshotImpl::ListCategory(Category category, std::vector<CategoryCount>* out) const {
  ZC_RETURN_IF_ERROR(CheckCategory(category));
  return Counted(1, ListCategoryValues(view_, category, std::nullopt, out));
}

Status SnapshotImpl::ListAlbumsOfArtist(std::string_view artist, std::vector<CategoryCount>* out) const {
  return Counted(1, ListCategoryValues(view_, Category::kAlbum, artist, out));
}

Status SnapshotImpl::ListTracks(Category category, std::string_view name, std::vector<MediaFileView>* out) const {
  ZC_RETURN_IF_ERROR(CheckCategory(category));
  if (category == Category::kYear)
    return Status::InvalidArgument("ListTracks takes a named category; use ListTracksOfYear for years");
  return Counted(1, ListCategoryTracks(view_, category, name, 0, std::nullopt, out));
}

Status SnapshotImpl::ListTracksUnordered(Category category, std::string_view name, int64_t year,
                                         std::vector<MediaFileView>* out) const {
  return Counted(1, ListCategoryTracks(view_, category, name, year, std::nullopt, out, /*sorted=*/false));
}

Status SnapshotImpl::ListTracksOfYear(int64_t year, std::vector<MediaFileView>* out) const {
  return Counted(1, ListCategoryTracks(view_, Category::kYear, {}, year, std::nullopt, out));
}

Status SnapshotImpl::ListAlbumTracks(std::string_view album, std::optional<std::string_view> artist,
                                     std::vector<MediaFileView>* out) const {
  return Counted(1, ListCategoryTracks(view_, Category::kAlbum, album, 0, artist, out));
}

}  // namespace zcmedia
