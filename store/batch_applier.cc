#include "batch_applier.h"

#include <algorithm>

#include "checksum.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

using namespace format;

BatchApplier::State BatchApplier::StateOfRecord(const fb::MediaFile* record, uint64_t location) {
  const MediaFileView v(record);
  State s;
  s.record = record;
  s.live = true;
  s.location = location;
  s.path = v.path();
  s.path_hash = PathHash(s.path);
  OptText parent = v.parent_path();
  s.has_parent = parent.has_value();
  if (parent) s.parent_hash = PathHash(*parent);
  return s;
}

void BatchApplier::SetPathOwner(std::string_view path, uint64_t path_hash, int64_t owner) {
  PathClaim* claim = path_owner_.Find(path_hash, [&](const PathClaim& c) { return c.path == path; });
  if (claim == nullptr) {
    claim = &path_owner_.Insert(path_hash);
    claim->path = path;
  }
  claim->owner = owner;
}

Status BatchApplier::StateOf(int64_t id, State* state) {
  if (const State* known = batch_state_.Find(static_cast<uint64_t>(id))) {
    *state = *known;
    return Status::OK();
  }
  *state = State();
  if (id >= base_.next_id) return Status::OK();  // never assigned: cannot be live
  const uint64_t location = base_.LocateId(id);
  ZC_RETURN_IF_ERROR(base_.IndexDamage(kIdIndex));
  if (location == 0) return Status::OK();
  const fb::MediaFile* record = nullptr;
  uint32_t entry_bytes = 0;
  ZC_RETURN_IF_ERROR(base_.RecordAt(location, &record, &entry_bytes));
  *state = StateOfRecord(record, location);
  state->entry_bytes = entry_bytes;
  return Status::OK();
}

Status BatchApplier::PathOwner(std::string_view path, uint64_t path_hash, int64_t* owner) {
  if (const PathClaim* claim =
          path_owner_.Find(path_hash, [&](const PathClaim& c) { return c.path == path; })) {
    *owner = claim->owner;
    return Status::OK();
  }
  *owner = 0;
  if (prefiltered_ && !std::binary_search(base_may_hold_.begin(), base_may_hold_.end(), path_hash))
    return Status::OK();  // no run of the base has this hash
  MediaFileView v;
  Status s = base_.FindByPath(path, path_hash, &v);
  if (s.IsNotFound()) return Status::OK();
  ZC_RETURN_IF_ERROR(s);
  // The base owner may have been removed or moved earlier in this batch.
  State st;
  ZC_RETURN_IF_ERROR(StateOf(v.id(), &st));
  if (st.live && st.path == path) *owner = v.id();
  return Status::OK();
}

void BatchApplier::PrefilterPaths(std::vector<uint64_t> hashes) {
  // Run by run (each run's filter and directory stay in cache across the
  // batch), mark the hashes some run holds an entry for. In key order: a
  // run's filter blocks and key directory buckets are chosen by a key's
  // high bits, so each run is then read front to back, not at random.
  std::sort(hashes.begin(), hashes.end());
  std::vector<uint8_t> held(hashes.size(), 0);
  for (const RunPtr& run : base_.runs[kPathIndex]) {
    if (run->size() == 0) continue;
    for (size_t i = 0; i < hashes.size(); ++i) {
      const uint64_t h = hashes[i];
      if (held[i] || h < run->min_key() || h > run->max_key() || !run->MayContain(h)) continue;
      const RunEntry* e = run->LowerBound(h);
      if (e != run->end() && e->key == h) held[i] = 1;
    }
  }
  base_may_hold_.clear();
  for (size_t i = 0; i < hashes.size(); ++i)
    if (held[i]) base_may_hold_.push_back(hashes[i]);
  std::sort(base_may_hold_.begin(), base_may_hold_.end());
  // A run that failed a check answered "no" above: then every path is
  // looked up for real, and that lookup reports the damage.
  prefiltered_ = base_.IndexDamage(kPathIndex).ok();
}

void BatchApplier::SetState(int64_t id, const State& state) {
  State* known = batch_state_.Find(static_cast<uint64_t>(id));
  if (known == nullptr) known = &batch_state_.Insert(static_cast<uint64_t>(id));
  *known = state;
}

void BatchApplier::CountVersion(const fb::MediaFile* record, int sign, bool has_parent, uint64_t parent_hash) {
  const MediaFileView v(record);
  const int family = static_cast<int>(MimeFamilyOf(v.mime_type()));
  files_delta_[family] += sign;
  bytes_delta_[family] += sign * v.size();
  if (record->canonical_path() != nullptr || record->canonical_parent_path() != nullptr) noncanonical_delta_ += sign;
  if (!v.canonical_path() || !v.canonical_parent_path()) null_canonical_delta_ += sign;
  if (v.parent_leads_path()) parent_prefix_delta_ += sign;
  if (!track_directories_ || !has_parent) return;
  const std::string_view parent = *v.parent_path();
  DirectFiles* d = direct_files_.Find(parent_hash, [&](const DirectFiles& x) { return x.parent == parent; });
  if (d == nullptr) {
    d = &direct_files_.Insert(parent_hash);
    d->parent = parent;
  }
  d->delta[family] += sign;
}

Status BatchApplier::Put(int64_t id, const fb::MediaFile* record, uint64_t location, uint32_t entry_bytes,
                         PutMode mode, const Keys* keys) {
  const MediaFileView view(record);
  State old;
  ZC_RETURN_IF_ERROR(StateOf(id, &old));
  State now;
  if (keys != nullptr) {
    now.live = true;
    now.location = location;
    now.path = view.path();
    now.path_hash = keys->path_hash;
    now.parent_hash = keys->parent_hash;
    now.has_parent = keys->has_parent;
    now.record = record;
  } else {
    now = StateOfRecord(record, location);
  }
  now.entry_bytes = entry_bytes;
  if (check_) {
    if (mode == PutMode::kInsert && old.live)
      return Status::Constraint("UNIQUE constraint failed: media_files.id (id " + std::to_string(id) +
                                " already exists)");
    if (mode == PutMode::kUpdate && !old.live)
      return Status::Constraint("no media file with id " + std::to_string(id) + " to update");
    if (now.path.empty()) return Status::InvalidArgument("media file path must not be empty");
    if (!old.live || old.path != now.path) {
      int64_t owner = 0;
      ZC_RETURN_IF_ERROR(PathOwner(now.path, now.path_hash, &owner));
      if (owner != 0 && owner != id)
        return Status::Constraint("UNIQUE constraint failed: media_files.path ('" + std::string(now.path) +
                                  "' is already id " + std::to_string(owner) + ")");
    }
  }
  // Path and directory entries point at this version: the old version's
  // entries are tombstoned even when path or parent did not change.
  Emit(kIdIndex, static_cast<uint64_t>(id), location);
  if (old.live) Emit(kPathIndex, old.path_hash, old.location | kTombstone);
  Emit(kPathIndex, now.path_hash, location);
  if (old.live && old.has_parent) Emit(kDirIndex, old.parent_hash, old.location | kTombstone);
  if (now.has_parent) Emit(kDirIndex, now.parent_hash, location);
  if (old.live) EmitCategories(MediaFileView(old.record), old.location | kTombstone);
  EmitCategories(view, location);
  if (check_) {  // path claims only serve the checks of later entries
    if (old.live && old.path != now.path) SetPathOwner(old.path, old.path_hash, 0);
    SetPathOwner(now.path, now.path_hash, id);
  }
  if (!old.live) ++record_delta_;
  if (old.live) {
    CountVersion(old.record, -1, old.has_parent, old.parent_hash);
    dead_delta_ += old.entry_bytes;
  }
  CountVersion(record, +1, now.has_parent, now.parent_hash);
  SetState(id, now);
  return Status::OK();
}

Status BatchApplier::Remove(int64_t id, uint32_t entry_bytes) {
  State old;
  ZC_RETURN_IF_ERROR(StateOf(id, &old));
  if (!old.live) {
    if (check_) return Status::Constraint("no media file with id " + std::to_string(id) + " to remove");
    dead_delta_ += entry_bytes;
    return Status::OK();
  }
  ZC_RETURN_IF_ERROR(RemoveEntriesOfMedia(id));
  CountVersion(old.record, -1, old.has_parent, old.parent_hash);
  dead_delta_ += old.entry_bytes + entry_bytes;
  Emit(kIdIndex, static_cast<uint64_t>(id), kTombstone);
  Emit(kPathIndex, old.path_hash, old.location | kTombstone);
  if (old.has_parent) Emit(kDirIndex, old.parent_hash, old.location | kTombstone);
  EmitCategories(MediaFileView(old.record), old.location | kTombstone);
  if (check_) SetPathOwner(old.path, old.path_hash, 0);
  --record_delta_;
  SetState(id, State());
  return Status::OK();
}

std::vector<RunEntry> BatchApplier::TakeEntries(uint32_t kind) {
  std::vector<RunEntry> v = std::move(entries_[kind]);
  // Stable: among equal identities the later write stays last; keep it.
  // Often sorted already (ids of appends ascend): then a pass is all it costs.
  auto less = [kind](const RunEntry& a, const RunEntry& b) { return EntryLess(kind, a, b); };
  if (!std::is_sorted(v.begin(), v.end(), less)) std::stable_sort(v.begin(), v.end(), less);
  size_t out = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const bool last_of_identity =
        i + 1 == v.size() || v[i + 1].key != v[i].key || EntryIdentity(kind, v[i + 1]) != EntryIdentity(kind, v[i]);
    if (last_of_identity) v[out++] = v[i];
  }
  v.resize(out);
  return v;
}

}  // namespace zcmedia
