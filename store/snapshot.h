// ReadView: one committed state (segments with their committed lengths and
// the index runs), and the lookups every reader and the writer's checks use.
// SnapshotImpl wraps one for the public Snapshot API.
#pragma once

#include <memory>
#include <vector>

#include "index_run.h"
#include "segment.h"
#include "stats.h"
#include "zcmedia/playlist.h"
#include "zcmedia/store.h"

namespace zcmedia {

class LookupCache;

struct SegmentRef {
  SegmentPtr segment;
  uint64_t committed = 0;  // bytes readable in this view
};

class ReadView {
 public:
  uint64_t sequence = 0;
  int64_t next_id = 1;
  uint64_t record_count = 0;
  LibraryTotals totals;
  uint64_t dead_bytes = 0;
  int64_t next_playlist_id = 1;
  int64_t next_entry_id = 1;
  uint64_t playlist_count = 0;
  uint64_t entry_count = 0;  // live playlist entries
  std::vector<SegmentRef> segments;          // ascending segment number
  std::vector<RunPtr> runs[format::kRunKinds];  // newest first

  // The verified record at `location`.
  Status RecordAt(uint64_t location, const fb::MediaFile** record, uint32_t* entry_bytes = nullptr) const;
  // The verified playlist / playlist entry at `location`.
  Status PlaylistAt(uint64_t location, const fb::Playlist** record, uint32_t* entry_bytes = nullptr) const;
  Status PlaylistEntryAt(uint64_t location, const fb::PlaylistEntry** record, uint32_t* entry_bytes = nullptr) const;
  // The segment holding `location`, or null (then *status says why).
  const SegmentRef* SegmentOf(uint64_t location, Status* status) const;
  // Starts loading the first cache lines of the record at `location` (a
  // hint: no checks, no effect on results), so that a caller about to read
  // many records takes their cache misses together.
  void PrefetchRecord(uint64_t location) const;
  // Location of live record `id`, or 0. (0 also when a run failed its
  // check on the way: callers then report IndexDamage.)
  uint64_t LocateId(int64_t id) const;
  // The value of single-valued `key` of `kind` (the id index, the tree's
  // counts): the newest entry's, 0 if it is absent or a tombstone.
  uint64_t LookupSingle(uint32_t kind, uint64_t key) const;
  // The verified Directory record at `location`.
  Status DirectoryAt(uint64_t location, const fb::Directory** record, uint32_t* entry_bytes = nullptr) const;
  // Corruption naming the run file if any run of `kind` failed a check
  // during an earlier lookup (runs verify their blocks on first use and
  // answer "not found" past a damaged one), else OK.
  Status IndexDamage(uint32_t kind) const;
  // Locations whose newest entry under `key` in the path or directory index
  // is not a tombstone, ascending (appended to `locations`).
  void LookupMulti(uint32_t kind, uint64_t key, std::vector<uint64_t>* locations) const;

  Status Get(int64_t id, MediaFileView* out) const;       // NotFound if absent
  Status FindByPath(std::string_view path, MediaFileView* out) const;
  // The same with PathHash(path) already computed. `location`, when given,
  // receives the record's location on success (what the LookupCache keeps).
  Status FindByPath(std::string_view path, uint64_t path_hash, MediaFileView* out,
                    uint64_t* location = nullptr) const;
  // In id order.
  // `family`: only records of that mime family.
  Status ListDirectory(std::string_view parent, std::vector<MediaFileView>* out,
                       std::optional<MimeFamily> family = std::nullopt) const;

  // The live version of playlist / entry `id`: its record, location (0
  // when there is none) and entry size.
  Status LivePlaylist(int64_t id, const fb::Playlist** record, uint64_t* location,
                      uint32_t* entry_bytes = nullptr) const;
  Status LivePlaylistEntry(int64_t id, const fb::PlaylistEntry** record, uint64_t* location,
                           uint32_t* entry_bytes = nullptr) const;
  // Playlist reads (playlist_reads.cc); NotFound when absent.
  Status GetPlaylist(int64_t id, PlaylistView* out) const;
  Status FindPlaylistByName(std::string_view name, PlaylistView* out) const;
  Status GetPlaylistEntry(int64_t id, PlaylistEntryView* out) const;
  // The live entries whose `field` (playlist_id or media_file_id, per the
  // key space) is `value`, unsorted (appended to out).
  Status EntriesUnder(uint64_t key, bool by_playlist, int64_t value, std::vector<PlaylistEntryView>* out) const;

  // Bytes of in-memory runs (the replay since the checkpoint).
  size_t MemoryRunBytes() const;
};

class SnapshotImpl final : public Snapshot {
 public:
  // `counters`: where lookups and read errors are counted; `cache`: the
  // store's LookupCache for lookups by path (may be null). Both shared with
  // the store, so a snapshot may outlive it.
  SnapshotImpl(ReadView view, std::shared_ptr<StoreCounters> counters,
               std::shared_ptr<LookupCache> cache = nullptr)
      : view_(std::move(view)), counters_(std::move(counters)), cache_(std::move(cache)) {}
  const ReadView& view() const { return view_; }

  uint64_t sequence() const override { return view_.sequence; }
  int64_t next_id() const override { return view_.next_id; }
  uint64_t record_count() const override { return view_.record_count; }
  LibraryTotals totals() const override { return view_.totals; }
  uint64_t dead_bytes() const override { return view_.dead_bytes; }
  Status Get(int64_t id, MediaFileView* out) const override { return Counted(1, view_.Get(id, out)); }
  Status FindByPath(std::string_view path, MediaFileView* out) const override;  // through the cache
  Status GetMany(std::span<const int64_t> ids, std::vector<MediaFileView>* out) const override;
  Status FindManyByPath(std::span<const std::string_view> paths,
                        std::vector<MediaFileView>* out) const override;
  Status ListDirectory(std::string_view parent, std::vector<MediaFileView>* out) const override {
    return Counted(1, view_.ListDirectory(parent, out));
  }
  Status ListDirectory(std::string_view parent, MimeFamily family, std::vector<MediaFileView>* out) const override {
    return Counted(1, view_.ListDirectory(parent, out, family));
  }
  std::unique_ptr<RecordIterator> NewIterator() const override;
  std::unique_ptr<RecordIterator> NewIdIterator() const override;

  Status ListCategory(Category category, std::vector<CategoryCount>* out) const override;
  Status ListAlbumsOfArtist(std::string_view artist, std::vector<CategoryCount>* out) const override;
  Status ListTracks(Category category, std::string_view name, std::vector<MediaFileView>* out) const override;
  Status ListTracksOfYear(int64_t year, std::vector<MediaFileView>* out) const override;
  Status ListTracksUnordered(Category category, std::string_view name, int64_t year,
                             std::vector<MediaFileView>* out) const override;
  Status ListSubdirectories(std::string_view parent, std::optional<MimeFamily> family,
                            std::vector<DirectoryInfo>* out) const override;
  Status GetDirectory(std::string_view path, DirectoryInfo* out) const override;
  Status ListAlbumTracks(std::string_view album, std::optional<std::string_view> artist,
                         std::vector<MediaFileView>* out) const override;

  uint64_t playlist_count() const override { return view_.playlist_count; }
  uint64_t playlist_entry_count() const override { return view_.entry_count; }
  int64_t next_playlist_id() const override { return view_.next_playlist_id; }
  int64_t next_playlist_entry_id() const override { return view_.next_entry_id; }
  Status GetPlaylist(int64_t id, PlaylistView* out) const override { return Counted(1, view_.GetPlaylist(id, out)); }
  Status FindPlaylistByName(std::string_view name, PlaylistView* out) const override {
    return Counted(1, view_.FindPlaylistByName(name, out));
  }
  Status ListPlaylists(std::vector<PlaylistView>* out) const override;
  Status GetPlaylistEntry(int64_t id, PlaylistEntryView* out) const override {
    return Counted(1, view_.GetPlaylistEntry(id, out));
  }
  Status ListPlaylistEntries(int64_t playlist_id, std::vector<PlaylistEntryView>* out) const override;
  Status NextPlaylistPosition(int64_t playlist_id, int64_t* position) const override;
  Status ListEntriesOfMediaFile(int64_t media_file_id, std::vector<PlaylistEntryView>* out) const override;
  std::unique_ptr<PlaylistEntryIterator> NewPlaylistEntryIterator() const override;

 private:
  Status Counted(uint64_t lookups, Status s) const {
    counters_->CountLookups(lookups);
    counters_->CountError(s);
    return s;
  }

  ReadView view_;
  std::shared_ptr<StoreCounters> counters_;
  std::shared_ptr<LookupCache> cache_;
};

}  // namespace zcmedia
