// BatchApplier for playlists and playlist entries: constraint checks,
// cascades and index entries (batch_applier.h; zcmedia/playlist.h states
// the constraints, docs/format.md the playlist index).
#include <algorithm>

#include "batch_applier.h"
#include "playlist_codec.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

using namespace format;
using S = PlaylistKeySpace;

namespace {
std::string Id(int64_t id) { return std::to_string(id); }
}  // namespace

namespace {
// Records `state` as the batch's state of `id`.
template <typename State>
void Remember(FlatMap<State>& map, int64_t id, const State& state) {
  State* slot = map.Find(static_cast<uint64_t>(id));
  if (slot == nullptr) slot = &map.Insert(static_cast<uint64_t>(id));
  *slot = state;
}
}  // namespace

Status BatchApplier::PlaylistStateOf(int64_t id, PlaylistState* state) {
  if (const PlaylistState* known = playlist_state_.Find(static_cast<uint64_t>(id))) {
    *state = *known;
    return Status::OK();
  }
  *state = PlaylistState();
  if (id >= base_.next_playlist_id) return Status::OK();  // never assigned
  ZC_RETURN_IF_ERROR(base_.LivePlaylist(id, &state->record, &state->location, &state->entry_bytes));
  state->live = state->location != 0;
  return Status::OK();
}

Status BatchApplier::EntryStateOf(int64_t id, EntryState* state) {
  if (const EntryState* known = entry_state_.Find(static_cast<uint64_t>(id))) {
    *state = *known;
    return Status::OK();
  }
  *state = EntryState();
  if (id >= base_.next_entry_id) return Status::OK();
  ZC_RETURN_IF_ERROR(base_.LivePlaylistEntry(id, &state->record, &state->location, &state->entry_bytes));
  state->live = state->location != 0;
  return Status::OK();
}

namespace {
template <typename ReadAt>
Status Candidates(const ReadView& base, const std::unordered_multimap<uint64_t, int64_t>& batch_keys,
                  uint64_t key, ReadAt&& read_id, std::vector<int64_t>* ids) {
  ids->clear();
  std::vector<uint64_t> locations;
  base.LookupMulti(kPlaylistIndex, key, &locations);
  ZC_RETURN_IF_ERROR(base.IndexDamage(kPlaylistIndex));
  for (uint64_t loc : locations) {
    int64_t id = 0;
    ZC_RETURN_IF_ERROR(read_id(loc, &id));
    ids->push_back(id);
  }
  auto [first, last] = batch_keys.equal_range(key);
  for (auto it = first; it != last; ++it) ids->push_back(it->second);
  std::sort(ids->begin(), ids->end());
  ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
  return Status::OK();
}
}  // namespace

Status BatchApplier::PlaylistCandidates(uint64_t key, std::vector<int64_t>* ids) {
  return Candidates(base_, batch_playlist_keys_, key, [&](uint64_t loc, int64_t* id) {
    const fb::Playlist* rec = nullptr;
    ZC_RETURN_IF_ERROR(base_.PlaylistAt(loc, &rec));
    *id = rec->id();
    return Status::OK();
  }, ids);
}

Status BatchApplier::EntryCandidates(uint64_t key, std::vector<int64_t>* ids) {
  return Candidates(base_, batch_playlist_keys_, key, [&](uint64_t loc, int64_t* id) {
    const fb::PlaylistEntry* rec = nullptr;
    ZC_RETURN_IF_ERROR(base_.PlaylistEntryAt(loc, &rec));
    *id = rec->id();
    return Status::OK();
  }, ids);
}

void BatchApplier::EmitPlaylistKeys(const PlaylistView& playlist, uint64_t value) {
  const PlaylistRecordKeys keys = KeysOf(playlist);
  for (uint8_t i = 0; i < keys.count; ++i) {
    Emit(kPlaylistIndex, keys.keys[i], value);
    if (!(value & kTombstone)) batch_playlist_keys_.emplace(keys.keys[i], playlist.id());
  }
}

void BatchApplier::EmitPlaylistKeys(const PlaylistEntryView& entry, uint64_t value) {
  const PlaylistRecordKeys keys = KeysOf(entry);
  for (uint8_t i = 0; i < keys.count; ++i) {
    Emit(kPlaylistIndex, keys.keys[i], value);
    if (!(value & kTombstone)) batch_playlist_keys_.emplace(keys.keys[i], entry.id());
  }
}

Status BatchApplier::PutPlaylist(int64_t id, const fb::Playlist* record, uint64_t location, uint32_t entry_bytes,
                                 PutMode mode) {
  const PlaylistView now(record);
  PlaylistState old;
  ZC_RETURN_IF_ERROR(PlaylistStateOf(id, &old));
  if (check_) {
    if (mode == PutMode::kInsert && old.live)
      return Status::Constraint("UNIQUE constraint failed: playlists.id (playlist " + Id(id) + " already exists)");
    if (mode == PutMode::kUpdate && !old.live) return Status::Constraint("no playlist with id " + Id(id) + " to update");
    if (!old.live || PlaylistView(old.record).name() != now.name()) {
      std::vector<int64_t> ids;
      ZC_RETURN_IF_ERROR(PlaylistCandidates(PlaylistNameKey(now.name()), &ids));
      for (int64_t other : ids) {
        if (other == id) continue;
        PlaylistState st;
        ZC_RETURN_IF_ERROR(PlaylistStateOf(other, &st));
        if (st.live && PlaylistView(st.record).name() == now.name())
          return Status::Constraint("UNIQUE constraint failed: playlists.name ('" + std::string(now.name()) +
                                    "' is already playlist " + Id(other) + ")");
      }
    }
  }
  if (old.live) {
    EmitPlaylistKeys(PlaylistView(old.record), old.location | kTombstone);
    dead_delta_ += old.entry_bytes;
  } else {
    ++playlist_delta_;
  }
  EmitPlaylistKeys(now, location);
  Remember(playlist_state_, id, PlaylistState{location, record, entry_bytes, true});
  return Status::OK();
}

void BatchApplier::RemoveLiveEntry(int64_t id, const EntryState& old, uint32_t removal_entry_bytes) {
  EmitPlaylistKeys(PlaylistEntryView(old.record), old.location | kTombstone);
  dead_delta_ += old.entry_bytes + removal_entry_bytes;
  --entry_delta_;
  Remember(entry_state_, id, EntryState());
}

template <typename Belongs>
Status BatchApplier::RemoveEntriesUnder(uint64_t key, Belongs&& belongs) {
  std::vector<int64_t> ids;
  ZC_RETURN_IF_ERROR(EntryCandidates(key, &ids));
  for (int64_t entry_id : ids) {
    EntryState st;
    ZC_RETURN_IF_ERROR(EntryStateOf(entry_id, &st));
    if (st.live && belongs(PlaylistEntryView(st.record))) RemoveLiveEntry(entry_id, st, 0);
  }
  return Status::OK();
}

Status BatchApplier::RemovePlaylist(int64_t id, uint32_t entry_bytes) {
  PlaylistState old;
  ZC_RETURN_IF_ERROR(PlaylistStateOf(id, &old));
  if (!old.live) {
    if (check_) return Status::Constraint("no playlist with id " + Id(id) + " to remove");
    dead_delta_ += entry_bytes;
    return Status::OK();
  }
  ZC_RETURN_IF_ERROR(RemoveEntriesUnder(PlaylistIntKey(S::kEntryByPlaylist, id),
                                        [id](const PlaylistEntryView& e) { return e.playlist_id() == id; }));
  EmitPlaylistKeys(PlaylistView(old.record), old.location | kTombstone);
  dead_delta_ += old.entry_bytes + entry_bytes;
  --playlist_delta_;
  Remember(playlist_state_, id, PlaylistState());
  return Status::OK();
}

Status BatchApplier::RemoveEntriesOfMedia(int64_t media_id) {
  // (Not the committed entry count: a replay's base view carries the final
  // totals, not those of the moment replayed.)
  if (base_.runs[kPlaylistIndex].empty() && batch_playlist_keys_.empty()) return Status::OK();
  return RemoveEntriesUnder(PlaylistIntKey(S::kEntryByMedia, media_id),
                            [media_id](const PlaylistEntryView& e) { return e.media_file_id() == media_id; });
}

Status BatchApplier::PutPlaylistEntry(int64_t id, const fb::PlaylistEntry* record, uint64_t location,
                                      uint32_t entry_bytes, PutMode mode) {
  const PlaylistEntryView now(record);
  EntryState old;
  ZC_RETURN_IF_ERROR(EntryStateOf(id, &old));
  if (check_) {
    if (mode == PutMode::kInsert && old.live)
      return Status::Constraint("UNIQUE constraint failed: playlist_entries.id (entry " + Id(id) + " already exists)");
    if (mode == PutMode::kUpdate && !old.live)
      return Status::Constraint("no playlist entry with id " + Id(id) + " to update");
    // UNIQUE(playlist_id, position) and UNIQUE(playlist_id, media_file_id),
    // checked entry by entry as SQLite checks row by row; then the foreign
    // keys, which SQLite checks after the row's UNIQUE constraints (at the
    // end of the statement), so that the first refusal is SQLite's.
    const PlaylistEntryView was(old.record);
    auto held_by_other = [&](uint64_t key, auto&& same, int64_t* other_id) -> Status {
      *other_id = 0;
      std::vector<int64_t> ids;
      ZC_RETURN_IF_ERROR(EntryCandidates(key, &ids));
      for (int64_t other : ids) {
        if (other == id) continue;
        EntryState st;
        ZC_RETURN_IF_ERROR(EntryStateOf(other, &st));
        if (st.live && same(PlaylistEntryView(st.record))) {
          *other_id = other;
          break;
        }
      }
      return Status::OK();
    };
    int64_t other = 0;
    if (!old.live || was.playlist_id() != now.playlist_id() || was.position() != now.position()) {
      ZC_RETURN_IF_ERROR(held_by_other(
          PlaylistPairKey(S::kEntryByPosition, now.playlist_id(), now.position()),
          [&](const PlaylistEntryView& e) {
            return e.playlist_id() == now.playlist_id() && e.position() == now.position();
          },
          &other));
      if (other != 0)
        return Status::Constraint("UNIQUE constraint failed: playlist_entries.playlist_id, playlist_entries.position "
                                  "(position " + Id(now.position()) + " of playlist " + Id(now.playlist_id()) +
                                  " is entry " + Id(other) + ")");
    }
    if (!old.live || was.playlist_id() != now.playlist_id() || was.media_file_id() != now.media_file_id()) {
      ZC_RETURN_IF_ERROR(held_by_other(
          PlaylistPairKey(S::kEntryByPair, now.playlist_id(), now.media_file_id()),
          [&](const PlaylistEntryView& e) {
            return e.playlist_id() == now.playlist_id() && e.media_file_id() == now.media_file_id();
          },
          &other));
      if (other != 0)
        return Status::Constraint(
            "UNIQUE constraint failed: playlist_entries.playlist_id, playlist_entries.media_file_id "
            "(media file " + Id(now.media_file_id()) + " is already entry " + Id(other) + " of playlist " +
            Id(now.playlist_id()) + ")");
    }
    PlaylistState playlist;
    ZC_RETURN_IF_ERROR(PlaylistStateOf(now.playlist_id(), &playlist));
    if (!playlist.live)
      return Status::Constraint("FOREIGN KEY constraint failed: playlist_entries.playlist_id " +
                                Id(now.playlist_id()) + " names no playlist");
    State media;
    ZC_RETURN_IF_ERROR(StateOf(now.media_file_id(), &media));
    if (!media.live)
      return Status::Constraint("FOREIGN KEY constraint failed: playlist_entries.media_file_id " +
                                Id(now.media_file_id()) + " names no media file");
  }
  if (old.live) {
    EmitPlaylistKeys(PlaylistEntryView(old.record), old.location | kTombstone);
    dead_delta_ += old.entry_bytes;
  } else {
    ++entry_delta_;
  }
  EmitPlaylistKeys(now, location);
  Remember(entry_state_, id, EntryState{location, record, entry_bytes, true});
  return Status::OK();
}

Status BatchApplier::RemovePlaylistEntry(int64_t id, uint32_t entry_bytes) {
  EntryState old;
  ZC_RETURN_IF_ERROR(EntryStateOf(id, &old));
  if (!old.live) {
    if (check_) return Status::Constraint("no playlist entry with id " + Id(id) + " to remove");
    dead_delta_ += entry_bytes;
    return Status::OK();
  }
  RemoveLiveEntry(id, old, entry_bytes);
  return Status::OK();
}

}  // namespace zcmedia
