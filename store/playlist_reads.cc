// Playlist reads of ReadView and SnapshotImpl (snapshot.h), answered from
// the playlist index (playlist_codec.h has its key spaces).
#include <algorithm>
#include <limits>

#include "playlist_codec.h"
#include "snapshot.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

using namespace format;
using S = PlaylistKeySpace;

namespace {

// Walks the live (key, location) pairs of the playlist index in
// [first, last], in key order: the runs merged newest-wins per identity
// (key, location), tombstones dropped. Pull-based, so an iterator can stop
// anywhere. Lifetime: borrows the view.
class LiveRangeWalk {
 public:
  LiveRangeWalk(const ReadView& view, uint64_t first, uint64_t last) : last_(last) {
    const auto& runs = view.runs[kPlaylistIndex];
    for (size_t age = 0; age < runs.size(); ++age) {
      // The walk reads every entry of the range: verify the run first.
      status_ = runs[age]->VerifyAll();
      if (!status_.ok()) return;
      const RunEntry* p = runs[age]->LowerBound(first);
      if (p != runs[age]->end() && p->key <= last) cursors_.push_back({p, runs[age]->end(), age});
    }
  }
  Status status() const { return status_; }

  bool Next(uint64_t* key, uint64_t* location) {
    while (status_.ok()) {
      const Cursor* best = nullptr;
      for (const Cursor& c : cursors_) {
        if (c.pos == c.end || c.pos->key > last_) continue;
        if (best == nullptr || Less(*c.pos, *best->pos) || (Same(*c.pos, *best->pos) && c.age < best->age))
          best = &c;
      }
      if (best == nullptr) return false;
      const RunEntry e = *best->pos;
      for (Cursor& c : cursors_)  // every run's entry for this identity is consumed
        if (c.pos != c.end && Same(*c.pos, e)) ++c.pos;
      if (e.value & kTombstone) continue;
      *key = e.key;
      *location = e.value;
      return true;
    }
    return false;
  }

 private:
  struct Cursor {
    const RunEntry* pos;
    const RunEntry* end;
    size_t age;
  };
  static bool Less(const RunEntry& a, const RunEntry& b) { return EntryLess(kPlaylistIndex, a, b); }
  static bool Same(const RunEntry& a, const RunEntry& b) {
    return a.key == b.key && EntryIdentity(kPlaylistIndex, a) == EntryIdentity(kPlaylistIndex, b);
  }
  const uint64_t last_;
  std::vector<Cursor> cursors_;  // one per run
  Status status_;
};

std::string Id(int64_t id) { return std::to_string(id); }

}  // namespace

namespace {
// The live version of playlist / entry `id` through its exact id key (one
// live location at most); *location stays 0 when there is none.
template <typename Record, typename ReadAt>
Status LiveVersion(const ReadView& view, S space, int64_t id, ReadAt&& read_at, const Record** record,
                   uint64_t* location, uint32_t* entry_bytes) {
  *location = 0;
  if (id <= 0 || id > kMaxPlaylistId) return Status::OK();
  std::vector<uint64_t> locations;
  view.LookupMulti(kPlaylistIndex, PlaylistIdKey(space, id), &locations);
  ZC_RETURN_IF_ERROR(view.IndexDamage(kPlaylistIndex));
  for (uint64_t loc : locations) {
    ZC_RETURN_IF_ERROR(read_at(loc, record, entry_bytes));
    if ((*record)->id() != id)
      return Status::Corruption("playlist index entry for id " + Id(id) + " points at record " +
                                Id((*record)->id()) + "; the index must be rebuilt from the segments");
    *location = loc;
  }
  return Status::OK();
}
}  // namespace

Status ReadView::LivePlaylist(int64_t id, const fb::Playlist** record, uint64_t* location,
                              uint32_t* entry_bytes) const {
  auto read_at = [this](uint64_t loc, const fb::Playlist** rec, uint32_t* bytes) { return PlaylistAt(loc, rec, bytes); };
  return LiveVersion(*this, S::kPlaylistById, id, read_at, record, location, entry_bytes);
}

Status ReadView::LivePlaylistEntry(int64_t id, const fb::PlaylistEntry** record, uint64_t* location,
                                   uint32_t* entry_bytes) const {
  auto read_at = [this](uint64_t loc, const fb::PlaylistEntry** rec, uint32_t* bytes) {
    return PlaylistEntryAt(loc, rec, bytes);
  };
  return LiveVersion(*this, S::kEntryById, id, read_at, record, location, entry_bytes);
}

Status ReadView::GetPlaylist(int64_t id, PlaylistView* out) const {
  const fb::Playlist* rec = nullptr;
  uint64_t location = 0;
  ZC_RETURN_IF_ERROR(LivePlaylist(id, &rec, &location));
  if (location == 0) return Status::NotFound("no playlist with id " + Id(id));
  *out = PlaylistView(rec);
  return Status::OK();
}

Status ReadView::GetPlaylistEntry(int64_t id, PlaylistEntryView* out) const {
  const fb::PlaylistEntry* rec = nullptr;
  uint64_t location = 0;
  ZC_RETURN_IF_ERROR(LivePlaylistEntry(id, &rec, &location));
  if (location == 0) return Status::NotFound("no playlist entry with id " + Id(id));
  *out = PlaylistEntryView(rec);
  return Status::OK();
}

Status ReadView::FindPlaylistByName(std::string_view name, PlaylistView* out) const {
  std::vector<uint64_t> locations;
  LookupMulti(kPlaylistIndex, PlaylistNameKey(name), &locations);
  ZC_RETURN_IF_ERROR(IndexDamage(kPlaylistIndex));
  for (uint64_t loc : locations) {  // more than one only on a hash collision
    const fb::Playlist* rec = nullptr;
    ZC_RETURN_IF_ERROR(PlaylistAt(loc, &rec));
    if (PlaylistView(rec).name() == name) {
      *out = PlaylistView(rec);
      return Status::OK();
    }
  }
  return Status::NotFound("no playlist named '" + std::string(name) + "'");
}

Status ReadView::EntriesUnder(uint64_t key, bool by_playlist, int64_t value,
                              std::vector<PlaylistEntryView>* out) const {
  std::vector<uint64_t> locations;
  LookupMulti(kPlaylistIndex, key, &locations);
  ZC_RETURN_IF_ERROR(IndexDamage(kPlaylistIndex));
  for (uint64_t loc : locations) PrefetchRecord(loc);
  for (uint64_t loc : locations) {
    const fb::PlaylistEntry* rec = nullptr;
    ZC_RETURN_IF_ERROR(PlaylistEntryAt(loc, &rec));
    const PlaylistEntryView e(rec);
    if ((by_playlist ? e.playlist_id() : e.media_file_id()) == value) out->push_back(e);  // not a collision
  }
  return Status::OK();
}

Status SnapshotImpl::ListPlaylists(std::vector<PlaylistView>* out) const {
  out->clear();
  LiveRangeWalk walk(view_, PlaylistIdKey(S::kPlaylistById, 0), PlaylistIdKey(S::kPlaylistById, kMaxPlaylistId));
  uint64_t key = 0, loc = 0;
  while (walk.Next(&key, &loc)) {
    const fb::Playlist* rec = nullptr;
    Status s = view_.PlaylistAt(loc, &rec);
    if (!s.ok()) return Counted(1, s);
    out->push_back(PlaylistView(rec));
  }
  return Counted(1, walk.status());
}

Status SnapshotImpl::ListPlaylistEntries(int64_t playlist_id, std::vector<PlaylistEntryView>* out) const {
  out->clear();
  Status s = view_.EntriesUnder(PlaylistIntKey(S::kEntryByPlaylist, playlist_id), true, playlist_id, out);
  std::sort(out->begin(), out->end(),
            [](const PlaylistEntryView& a, const PlaylistEntryView& b) { return a.position() < b.position(); });
  return Counted(1, s);
}

Status SnapshotImpl::NextPlaylistPosition(int64_t playlist_id, int64_t* position) const {
  std::vector<PlaylistEntryView> entries;
  Status s = view_.EntriesUnder(PlaylistIntKey(S::kEntryByPlaylist, playlist_id), true, playlist_id, &entries);
  if (!s.ok()) return Counted(1, s);
  int64_t next = 0;
  for (const PlaylistEntryView& e : entries)
    if (e.position() >= next) next = e.position() == std::numeric_limits<int64_t>::max() ? e.position() : e.position() + 1;
  *position = next;
  return Counted(1, s);
}

Status SnapshotImpl::ListEntriesOfMediaFile(int64_t media_file_id, std::vector<PlaylistEntryView>* out) const {
  out->clear();
  Status s = view_.EntriesUnder(PlaylistIntKey(S::kEntryByMedia, media_file_id), false, media_file_id, out);
  std::sort(out->begin(), out->end(),
            [](const PlaylistEntryView& a, const PlaylistEntryView& b) { return a.id() < b.id(); });
  return Counted(1, s);
}

namespace {

// Entries in id order: a walk over the kEntryById key space.
class EntryIdOrderIterator final : public PlaylistEntryIterator {
 public:
  explicit EntryIdOrderIterator(const ReadView* view) : view_(view) {}
  bool Valid() const override { return valid_; }
  void SeekToFirst() override { Seek(0); }
  void Seek(int64_t id) override {
    const int64_t from = std::clamp<int64_t>(id, 0, kMaxPlaylistId);
    walk_.emplace(*view_, PlaylistIdKey(S::kEntryById, from), PlaylistIdKey(S::kEntryById, kMaxPlaylistId));
    status_ = walk_->status();
    Next();
  }
  void Next() override {
    valid_ = false;
    uint64_t key = 0, loc = 0;
    if (!status_.ok() || !walk_ || !walk_->Next(&key, &loc)) {
      if (walk_ && status_.ok()) status_ = walk_->status();
      return;
    }
    const fb::PlaylistEntry* rec = nullptr;
    status_ = view_->PlaylistEntryAt(loc, &rec);
    if (!status_.ok()) return;
    entry_ = PlaylistEntryView(rec);
    valid_ = true;
  }
  PlaylistEntryView entry() const override { return entry_; }
  Status status() const override { return status_; }

 private:
  const ReadView* view_;
  std::optional<LiveRangeWalk> walk_;
  bool valid_ = false;
  PlaylistEntryView entry_;
  Status status_;
};

}  // namespace

std::unique_ptr<PlaylistEntryIterator> SnapshotImpl::NewPlaylistEntryIterator() const {
  counters_->CountLookups(1);
  return std::make_unique<EntryIdOrderIterator>(&view_);
}

}  // namespace zcmedia
