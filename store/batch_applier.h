// BatchApplier: turns the entries of one batch into index entries, resolving
// each against the state before the batch (a ReadView) plus the batch's own
// earlier entries. The writer runs it with constraint checks before it
// appends anything; recovery and read-only refresh replay committed batches
// through the same code without checks, so both produce identical indexes.
#pragma once

#include <array>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "category.h"
#include "flat_map.h"
#include "snapshot.h"

namespace zcmedia {

// One batch's entries for each index kind, sorted as runs are.
using BatchIndexEntries = std::array<std::vector<RunEntry>, format::kRunKinds>;

class BatchApplier {
 public:
  enum class PutMode { kInsert, kUpdate, kReplay };

  // `expected_entries` sizes the per-batch maps once (no rehashing).
  BatchApplier(const ReadView& base, bool check_constraints, size_t expected_entries = 0)
      : base_(base), check_(check_constraints), batch_state_(expected_entries), path_owner_(expected_entries) {
    for (auto& e : entries_) e.reserve(expected_entries);
  }

  // A new version of record `id` at `location`. kInsert requires `id` not to
  // be live, kUpdate requires it live, kReplay accepts either (the log does
  // not distinguish them). Constraint on a violated check.
  // Index keys of a record, when the caller has them already.
  struct Keys {
    uint64_t path_hash;
    uint64_t parent_hash;
    bool has_parent;
  };
  // `entry_bytes`: the size of its entry in the segment (header and padded
  // payload), for the dead-space total.
  Status Put(int64_t id, const fb::MediaFile* record, uint64_t location, uint32_t entry_bytes, PutMode mode,
             const Keys* keys = nullptr);
  // Removes live record `id` (Constraint if it is not live, when checking);
  // `entry_bytes` is the size of the removal entry itself. The playlist
  // entries naming it go with it (the legacy ON DELETE CASCADE).
  Status Remove(int64_t id, uint32_t entry_bytes);

  // Playlists and their entries (zcmedia/playlist.h has the constraints;
  // batch_applier_playlists.cc the code). Same conventions as Put/Remove:
  // checks only when constructed with check_constraints, and a removal of
  // a playlist cascades to its entries.
  Status PutPlaylist(int64_t id, const fb::Playlist* record, uint64_t location, uint32_t entry_bytes, PutMode mode);
  Status RemovePlaylist(int64_t id, uint32_t entry_bytes);
  Status PutPlaylistEntry(int64_t id, const fb::PlaylistEntry* record, uint64_t location, uint32_t entry_bytes,
                          PutMode mode);
  Status RemovePlaylistEntry(int64_t id, uint32_t entry_bytes);
  int64_t playlist_delta() const { return playlist_delta_; }

  // The directory tree (directory_tree.cc). A Directory record naming a
  // directory (written once, the first time a file lands below it).
  Status PutDirectoryName(const fb::Directory* record, uint64_t location);
  // After the last Put/Remove: works out the new file counts of every
  // directory the batch changed (and of their ancestors) and emits them,
  // with the parent -> child links of directories that became non-empty or
  // empty. The counts are implied by the log, like the cascades.
  Status FinishDirectories();
  // Compaction copies the tree's counts and links as they are: its applier
  // must not derive them again (its base is empty).
  void set_track_directories(bool track) { track_directories_ = track; }
  // Set by the writer (StoreImpl::Write), whose Directory records name only
  // directories it found unnamed in the base: such a directory holds no
  // files there (a name outlives the last file below it, never the other
  // way round), so FinishDirectories starts its counts at zero instead of
  // looking them up, four index probes per run each. Not for a replay, a
  // rebuild or a transaction: a log may name a directory after its files.
  void set_names_are_new(bool names_are_new) { names_are_new_ = names_are_new; }
  int64_t entry_delta() const { return entry_delta_; }

  // Optional, before the Puts: the path hashes this batch will write.
  // Works out, one run at a time, which of them any run of the base holds
  // at all; PathOwner then asks the base only about those (a bulk load of
  // new files asks it nothing).
  void PrefilterPaths(std::vector<uint64_t> hashes);

  int64_t record_delta() const { return record_delta_; }
  // The change of LibraryTotals::noncanonical_files.
  int64_t noncanonical_delta() const { return noncanonical_delta_; }
  int64_t null_canonical_delta() const { return null_canonical_delta_; }
  int64_t parent_prefix_delta() const { return parent_prefix_delta_; }
  // What the batch changes in the library totals and the dead space.
  void ApplyTotals(int64_t family_files[kMimeFamilies], int64_t family_bytes[kMimeFamilies],
                   uint64_t* dead_bytes) const {
    for (int f = 0; f < kMimeFamilies; ++f) {
      family_files[f] += files_delta_[f];
      family_bytes[f] += bytes_delta_[f];
    }
    *dead_bytes += dead_delta_;
  }
  // Index entries for `kind`, sorted by identity, the last write of each
  // identity kept. Call once per kind after the last Put/Remove.
  std::vector<RunEntry> TakeEntries(uint32_t kind);
  // The index entries for `kind` as emitted: unsorted, and with several
  // per identity if the batch wrote one several times. For compaction,
  // which writes every identity once and sorts many batches together.
  std::vector<RunEntry> TakeUnsortedEntries(uint32_t kind) { return std::move(entries_[kind]); }
  BatchIndexEntries TakeAllEntries() {
    return {TakeEntries(format::kIdIndex),       TakeEntries(format::kPathIndex),
            TakeEntries(format::kDirIndex),      TakeEntries(format::kCategoryIndex),
            TakeEntries(format::kPlaylistIndex), TakeEntries(format::kTreeIndex)};
  }

 private:
  // Field order packs it into 48 bytes: one per id a batch touches.
  struct State {
    uint64_t location = 0;  // of the live version
    uint64_t path_hash = 0;
    uint64_t parent_hash = 0;
    std::string_view path;
    bool live = false;
    bool has_parent = false;
    uint32_t entry_bytes = 0;  // of the live version's entry
    // The live version itself (in the batch body or a segment mapping, both
    // alive while the applier is): its category keys are worked out from it
    // only when it is replaced or removed.
    const fb::MediaFile* record = nullptr;
  };
  Status StateOf(int64_t id, State* state);
  // The live id holding `path` after the entries so far, or 0.
  Status PathOwner(std::string_view path, uint64_t path_hash, int64_t* owner);
  static State StateOfRecord(const fb::MediaFile* record, uint64_t location);
  void Emit(uint32_t kind, uint64_t key, uint64_t value) { entries_[kind].push_back({key, value}); }
  void EmitCategories(const MediaFileView& record, uint64_t value) {
    const CategoryKeys keys = CategoryKeysOf(record);
    for (uint8_t i = 0; i < keys.count; ++i) Emit(format::kCategoryIndex, keys.keys[i], value);
  }

  const ReadView& base_;
  const bool check_;
  // Ids touched by this batch: their state after its entries so far.
  FlatMap<State> batch_state_;
  // Paths claimed or freed by this batch (keyed by path hash).
  struct PathClaim {
    std::string_view path;
    int64_t owner;  // 0: freed in this batch
  };
  FlatMap<PathClaim> path_owner_;
  bool prefiltered_ = false;
  std::vector<uint64_t> base_may_hold_;  // sorted; meaningful when prefiltered_
  void SetPathOwner(std::string_view path, uint64_t path_hash, int64_t owner);
  void SetState(int64_t id, const State& state);
  std::vector<RunEntry> entries_[format::kRunKinds];
  int64_t record_delta_ = 0;
  int64_t files_delta_[kMimeFamilies] = {};
  int64_t bytes_delta_[kMimeFamilies] = {};
  uint64_t dead_delta_ = 0;
  int64_t noncanonical_delta_ = 0;
  int64_t null_canonical_delta_ = 0;
  int64_t parent_prefix_delta_ = 0;
  // Adds (sign +1) or takes away (-1) a version of a record from the
  // totals and from the file counts of its directory.
  void CountVersion(const fb::MediaFile* record, int sign, bool has_parent, uint64_t parent_hash);

  // Per directory holding files this batch changed (keyed by parent hash):
  // the change of its direct files per family. FinishDirectories adds them
  // up over the ancestors.
  struct DirectFiles {
    std::string_view parent;  // a view into a record (batch body or mapping)
    int64_t delta[kMimeFamilies] = {};
  };
  FlatMap<DirectFiles> direct_files_{0};
  bool track_directories_ = true;
  bool names_are_new_ = false;
  std::vector<uint64_t> new_names_;  // 60-bit hashes of the directories named (names_are_new_)

  // ---- Playlists: the state of each playlist / entry this batch touched,
  // and the playlist-index keys its new versions hold (to find them again
  // within the batch: the base view does not know them yet).
  template <typename Record>
  struct VersionState {
    uint64_t location = 0;
    const Record* record = nullptr;  // the live version (batch body or mapping)
    uint32_t entry_bytes = 0;
    bool live = false;
  };
  using PlaylistState = VersionState<fb::Playlist>;
  using EntryState = VersionState<fb::PlaylistEntry>;
  Status PlaylistStateOf(int64_t id, PlaylistState* state);
  Status EntryStateOf(int64_t id, EntryState* state);
  // Ids of the playlists / entries that may hold `key`: those the base
  // index lists under it and those this batch put under it. The caller
  // checks each one's current state.
  Status PlaylistCandidates(uint64_t key, std::vector<int64_t>* ids);
  Status EntryCandidates(uint64_t key, std::vector<int64_t>* ids);
  // Removes every live entry for which `belongs(entry)` holds among the
  // candidates under `key` (the cascades).
  template <typename Belongs>
  Status RemoveEntriesUnder(uint64_t key, Belongs&& belongs);
  void RemoveLiveEntry(int64_t id, const EntryState& old, uint32_t removal_entry_bytes);
  // The cascade of removing media file `media_id`.
  Status RemoveEntriesOfMedia(int64_t media_id);
  void EmitPlaylistKeys(const PlaylistEntryView& entry, uint64_t value);
  void EmitPlaylistKeys(const PlaylistView& playlist, uint64_t value);
  FlatMap<PlaylistState> playlist_state_{0};
  FlatMap<EntryState> entry_state_{0};
  std::unordered_multimap<uint64_t, int64_t> batch_playlist_keys_;
  int64_t playlist_delta_ = 0;
  int64_t entry_delta_ = 0;
};

}  // namespace zcmedia
