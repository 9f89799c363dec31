#include "store_impl.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <system_error>
#include <thread>

#include "checksum.h"
#include "directory_tree.h"
#include "meta.h"
#include "record_codec.h"
#include "write_batch.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

using namespace format;

namespace {
// Run files merge eight at a time (a tiered LSM): a run is rewritten about
// log8(records / checkpoint size) times, and an index has at most seven runs
// per size tier. Many runs cost lookups little: each has a Bloom filter
// (path, dir) or a key range (id) that rules it out without a search.
constexpr size_t kMergeFanIn = 8;
// In-memory runs below this many entries merge with each other (see
// AddMemoryRuns); a checkpoint is forced when there are this many runs.
constexpr size_t kSmallMemoryRun = 1024;
constexpr size_t kMaxMemoryRuns = 24;

bool SegmentIsEmpty(Env* env, const std::string& path) {
  std::unique_ptr<File> f;
  uint64_t size = 0;
  return env->OpenFile(path, Env::OpenMode::kReadOnly, &f).ok() && f->Size(&size).ok() && size <= kSegmentHeaderSize;
}

// How many in-memory runs lead `runs` (newest first: memory runs, then files).
size_t LeadingMemoryRuns(const std::vector<RunPtr>& runs) {
  size_t n = 0;
  while (n < runs.size() && runs[n]->in_memory()) ++n;
  return n;
}

// A run's size tier: tier t holds runs of [base·8^t, base·8^(t+1)) entries,
// base = the memtable's entries per index under `profile`.
size_t Tier(const RunPtr& run, const MemoryProfile& profile) {
  const size_t base = std::max<size_t>(profile.memtable_bytes / sizeof(RunEntry) / kRunKinds, 1);
  size_t tier = 0;
  for (size_t cap = base * kMergeFanIn; run->size() >= cap && tier < 30; cap *= kMergeFanIn) ++tier;
  return tier;
}
}  // namespace

MemoryProfile MemoryProfile::ForBudget(size_t budget) {
  // A third for the caller's WriteBatch (~360 B per encoded record), a
  // twelfth for in-memory runs (plus as much again while a background
  // checkpoint writes the previous ones out), a thirty-second for the lookup
  // cache, the rest for the batch's constraint maps, the directory tree's
  // per-batch sums, the run write buffer and small state. (A tenth for the
  // in-memory runs peaked 36 KiB over the 6 MiB budget in a 10M load once
  // the directory tree was maintained; docs/performance.md.)
  MemoryProfile p;
  p.batch_records = std::clamp<size_t>(budget / 3 / 360, 256, 1 << 20);
  p.memtable_bytes = std::max<size_t>(budget / 12, 64 << 10);
  p.run_write_buffer = std::clamp<size_t>(budget / 48, 16 << 10, 4 << 20);
  p.cache_bytes = budget / 32;
  // Only where the budget says memory is plentiful: at 6 MiB the index
  // pages a reader needs come in as it needs them. (Measured on the
  // project's VM, advising the runs MADV_RANDOM to save reads slowed cold
  // lookups by 40% and more and cold directory listings five- to
  // thirteenfold: the kernel's read-around is kept at every budget.)
  p.index_prefetch_bytes = budget >= (size_t{256} << 20) ? uint64_t{4} * budget : 0;
  return p;
}

Status Store::Open(const std::string& directory, const Options& options, std::unique_ptr<Store>* store) {
  Options effective = options;
  if (options.use_environment) ZC_RETURN_IF_ERROR(ApplyEnvironment(&effective));
  ZC_RETURN_IF_ERROR(ValidateOptions(effective));
  if (directory.empty()) return Status::InvalidArgument("store directory must not be empty");
  return NoThrow("open " + directory, [&] {
    auto impl = std::make_unique<StoreImpl>(directory, effective);
    ZC_RETURN_IF_ERROR(impl->Open());
    *store = std::move(impl);
    return Status::OK();
  });
}

Status RepairIndexes(const std::string& directory, const Options& options) {
  if (options.read_only) return Status::InvalidArgument("RepairIndexes needs a writable store (read_only is set)");
  Options o = options;
  if (o.use_environment) ZC_RETURN_IF_ERROR(ApplyEnvironment(&o));
  ZC_RETURN_IF_ERROR(ValidateOptions(o));
  o.create_if_missing = false;
  o.error_if_exists = false;
  return NoThrow("rebuild the indexes of " + directory, [&] {
    auto impl = std::make_unique<StoreImpl>(directory, o);
    return impl->Open(/*rebuild_indexes=*/true);
  });
}

StoreImpl::StoreImpl(std::string dir, const Options& options)
    : dir_(std::move(dir)),
      options_(options),
      env_(options.env ? options.env : Env::Default()),
      profile_(MemoryProfile::ForBudget(options.memory_budget)),
      batch_records_(profile_.batch_records),
      memory_budget_(options.memory_budget),
      sync_(options.sync),
      index_prefetch_left_(profile_.index_prefetch_bytes),
      lookup_cache_on_(options.lookup_cache),
      lookup_cache_(std::make_shared<LookupCache>(LookupCacheCapacity())) {}

StoreImpl::~StoreImpl() {
  if (compaction_retirer_.joinable()) compaction_retirer_.join();
  // A checkpoint in flight is waited for and, if it succeeded, installed:
  // the next open then replays less. Errors cannot be reported from here;
  // an uninstalled checkpoint's files are removed (the indexes stay whole).
  if ((checkpoint_ || MergesInFlight()) && sticky_error_.ok()) {
    try {
      std::lock_guard<std::mutex> g(write_mu_);
      const Status ignored = FinishBackgroundWork();
      (void)ignored;
    } catch (...) {
    }
  }
  AbandonCheckpoint();
}

Status StoreImpl::Open(bool rebuild_indexes) {
  std::lock_guard<std::mutex> g(write_mu_);
  const std::string meta_path = dir_ + "/" + kMetaFile;
  bool exists = false;
  ZC_RETURN_IF_ERROR(env_->FileExists(meta_path, &exists));
  if (exists && options_.error_if_exists)
    return Status::InvalidArgument(dir_ + ": a store already exists here (error_if_exists is set)");
  if (!exists) {
    // Segments or runs without META are a damaged store, not an empty
    // directory: creating a new store here would overwrite them.
    std::vector<std::string> names;
    if (env_->ListDir(dir_, &names).ok()) {
      for (const std::string& name : names) {
        uint32_t kind = 0, number = 0;
        const bool store_file = ParseSegmentFileName(name, &number) || ParseRunFileName(name, &kind, &number);
        if (store_file && name == SegmentFileName(1) && SegmentIsEmpty(env_, dir_ + "/" + name))
          continue;  // an interrupted CreateNew: nothing was ever committed
        if (store_file)
          return Status::Corruption(meta_path + " is missing but " + dir_ + " holds store files (" + name +
                                    "); refusing to open or create a store over them: restore META from a backup");
      }
    }
    if (options_.read_only || !options_.create_if_missing)
      return Status::NotFound(dir_ + ": no zcmedia store here (no META file); create one by opening it for writing");
    ZC_RETURN_IF_ERROR(env_->CreateDir(dir_));
  }
  if (!options_.read_only) ZC_RETURN_IF_ERROR(LockWithTimeout());
  // Check again under the lock: another writer may have created it meanwhile.
  ZC_RETURN_IF_ERROR(env_->FileExists(meta_path, &exists));
  if (!exists) ZC_RETURN_IF_ERROR(CreateNew());

  ZC_RETURN_IF_ERROR(env_->OpenFile(meta_path, options_.read_only ? Env::OpenMode::kReadOnly : Env::OpenMode::kReadWrite,
                                    &meta_file_));
  ZC_RETURN_IF_ERROR(ReadNewestMetaPage(meta_file_.get(), &meta_));
  next_file_number_ = meta_.next_file_number;
  if (options_.read_only) {
    // Best effort: without the mapping GetSnapshot reads META every time.
    if (!env_->Map(meta_file_.get(), 2 * kMetaPageSize, &meta_map_).ok()) meta_map_.reset();
    followed_sequence_.store(meta_.sequence, std::memory_order_relaxed);
  }
  if (!options_.read_only) {
    // A prepared transaction above the committed state may still be
    // committed (CommitPrepared): its files stay. Anything else in PREPARED
    // is stale. An index rebuild commits a new sequence: it discards it.
    MetaPage prepared{};
    bool present = false;
    std::string why;
    ZC_RETURN_IF_ERROR(ReadPreparedFile(env_, dir_, &prepared, &present, &why));
    if (present && why.empty() && prepared.sequence > meta_.sequence && !rebuild_indexes) {
      prepared_ = prepared;
      next_file_number_ = std::max(meta_.next_file_number, prepared.next_file_number);
    } else if (present) {
      ZC_RETURN_IF_ERROR(env_->RemoveFile(dir_ + "/" + kPreparedFile));
      ZC_RETURN_IF_ERROR(env_->SyncDir(dir_));
    }
  }
  ReadView view;
  if (rebuild_indexes) {
    ZC_RETURN_IF_ERROR(RebuildIndexes(&view));
  } else {
    ZC_RETURN_IF_ERROR(LoadView(meta_, nullptr, &view));
  }
  if (!options_.read_only) {
    // Cut whatever a crashed writer appended past the watermark, and drop
    // files a crashed commit created but never committed.
    // A prepared transaction's data lies past the watermark: it stays
    // until the transaction is committed or discarded.
    const MetaSegment& last = meta_.segments[meta_.segment_count - 1];
    if (!prepared_) ZC_RETURN_IF_ERROR(segment_cache_.at(last.number)->file()->Truncate(last.committed_length));
    ZC_RETURN_IF_ERROR(RemoveStrayFiles(prepared_ ? &*prepared_ : nullptr));
  }
  Publish(std::move(view));
  return Status::OK();
}

Status StoreImpl::LockWithTimeout() {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + options_.lock_timeout;
  std::chrono::milliseconds pause(1);
  for (;;) {
    Status s = env_->LockFile(dir_ + "/" + kLockFile, &lock_);
    if (!s.IsBusy()) return s;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) {
      if (options_.lock_timeout.count() == 0) return s;
      return Status::Busy(s.message() + "; gave up after waiting " + std::to_string(options_.lock_timeout.count()) +
                          " ms (Options::lock_timeout, ZCMEDIA_LOCK_TIMEOUT)");
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
  }
}

Status StoreImpl::CreateNew() {
  SegmentPtr seg;
  ZC_RETURN_IF_ERROR(Segment::Create(env_, dir_, 1, options_.segment_max_bytes, &seg));
  MetaPage page{};
  page.next_id = 1;
  page.next_playlist_id = 1;
  page.next_entry_id = 1;
  page.next_file_number = 2;
  page.segment_count = 1;
  page.segments[0] = {1, 0, kSegmentHeaderSize};
  page.checkpoint_segment = 1;
  page.checkpoint_offset = kSegmentHeaderSize;
  return CreateMetaFile(env_, dir_, page);
}

Status StoreImpl::RebuildIndexes(ReadView* view) {
  // Nothing of the old runs is read: the segments are the truth. The new
  // runs become visible only with the meta page written at the end; a crash
  // before that leaves the old state (and stray files the next open removes).
  MetaPage meta = meta_;
  for (uint32_t k = 0; k < kRunKinds; ++k) meta.run_count[k] = 0;
  // Totals are summed again over every batch, like the record count.
  std::fill(std::begin(meta.family_files), std::end(meta.family_files), 0);
  std::fill(std::begin(meta.family_bytes), std::end(meta.family_bytes), 0);
  meta.dead_bytes = 0;
  meta.playlist_count = 0;
  meta.entry_count = 0;
  meta.noncanonical_files = 0;
  meta.null_canonical_files = 0;
  meta.parent_prefix_files = 0;
  meta.checkpoint_segment = meta.segments[0].number;
  meta.checkpoint_offset = kSegmentHeaderSize;
  view->sequence = meta.sequence;
  SetIdSequences(meta, view);
  ZC_RETURN_IF_ERROR(SetSegments(meta, view));
  for (auto& r : view->runs) r.clear();
  ZC_RETURN_IF_ERROR(Replay(view, meta.checkpoint_segment, meta.checkpoint_offset, &meta));
  std::vector<std::pair<uint32_t, uint32_t>> unused;
  ZC_RETURN_IF_ERROR(Checkpoint(view, &meta, /*merge_everything=*/false, &unused));
  RemoveObsoleteRuns(unused);
  // The record count is recomputed from the id index, not trusted.
  uint64_t live = 0;
  MergeRuns(kIdIndex, view->runs[kIdIndex], /*drop_tombstones=*/true, [&](const RunEntry&) { ++live; });
  meta.record_count = live;
  meta.sequence += 1;
  view->sequence = meta.sequence;
  view->record_count = live;
  SetTotals(meta, view);
  ZC_RETURN_IF_ERROR(CommitMeta(&meta));
  meta_ = meta;
  return Status::OK();
}

Status StoreImpl::SetSegments(const MetaPage& meta, ReadView* view) {
  view->segments.clear();
  for (uint32_t i = 0; i < meta.segment_count; ++i) {
    SegmentPtr seg;
    ZC_RETURN_IF_ERROR(OpenSegment(meta.segments[i].number, meta.segments[i].committed_length, &seg));
    view->segments.push_back({seg, meta.segments[i].committed_length});
  }
  return Status::OK();
}

Status StoreImpl::OpenSegment(uint32_t number, uint64_t committed, SegmentPtr* out) {
  auto it = segment_cache_.find(number);
  if (it != segment_cache_.end()) {
    *out = it->second;
    return Status::OK();
  }
  ZC_RETURN_IF_ERROR(Segment::Open(env_, dir_, number, options_.segment_max_bytes, committed, !options_.read_only, out));
  segment_cache_[number] = *out;
  return Status::OK();
}

Status StoreImpl::OpenRun(uint32_t kind, uint32_t number, RunPtr* out) {
  auto key = std::make_pair(kind, number);
  auto it = run_cache_.find(key);
  if (it != run_cache_.end()) {
    *out = it->second;
    return Status::OK();
  }
  ZC_RETURN_IF_ERROR(OpenRunFile(env_, dir_, kind, number, out));
  index_prefetch_left_ -= (*out)->PrefetchFile(index_prefetch_left_);
  run_cache_[key] = *out;
  return Status::OK();
}

Status StoreImpl::LoadView(const MetaPage& meta, const ReadView* previous, ReadView* view) {
  view->sequence = meta.sequence;
  SetIdSequences(meta, view);
  view->record_count = meta.record_count;
  SetTotals(meta, view);
  ZC_RETURN_IF_ERROR(SetSegments(meta, view));
  // Same run files as the previous view: keep its in-memory runs and replay
  // only what was committed since (a reader following the writer).
  bool incremental = previous != nullptr && meta.checkpoint_segment == meta_.checkpoint_segment &&
                     meta.checkpoint_offset == meta_.checkpoint_offset && replayed_segment_ != 0;
  for (uint32_t k = 0; k < kRunKinds && incremental; ++k) {
    size_t files = 0;
    for (const RunPtr& r : previous->runs[k]) files += r->in_memory() ? 0 : 1;
    incremental = files == meta.run_count[k] && files == meta_.run_count[k] &&
                  std::equal(meta.runs[k], meta.runs[k] + files, meta_.runs[k]);
  }
  for (uint32_t k = 0; k < kRunKinds; ++k) {
    view->runs[k].clear();
    if (incremental) {
      view->runs[k] = previous->runs[k];
      continue;
    }
    for (uint32_t i = meta.run_count[k]; i-- > 0;) {  // newest first
      RunPtr run;
      ZC_RETURN_IF_ERROR(OpenRun(k, meta.runs[k][i], &run));
      view->runs[k].push_back(run);
    }
  }
  if (incremental) return Replay(view, replayed_segment_, replayed_offset_);
  return Replay(view, meta.checkpoint_segment, meta.checkpoint_offset);
}

Status StoreImpl::Replay(ReadView* view, uint32_t from_segment, uint64_t from_offset, MetaPage* spill_meta) {
  // Replayed batches only need the state before them: the runs as they grow
  // here. Counts and next id come from the meta page, which is authoritative.
  for (const SegmentRef& ref : view->segments) {
    const uint32_t number = ref.segment->number();
    if (number < from_segment) continue;
    uint64_t pos = number == from_segment ? from_offset : kSegmentHeaderSize;
    while (pos < ref.committed) {
      BatchApplier applier(*view, /*check_constraints=*/false);
      Status apply_status;
      uint64_t seq = 0, next = 0;
      ZC_RETURN_IF_ERROR(ReadBatch(*ref.segment, pos, ref.committed, &seq, &next, [&](const BatchEntry& e) {
        if (apply_status.ok()) apply_status = ApplyLogged(e, MakeLocation(number, e.offset), &applier);
      }));
      ZC_RETURN_IF_ERROR(apply_status);
      ZC_RETURN_IF_ERROR(applier.FinishDirectories());
      AddMemoryRuns(view, applier.TakeAllEntries());
      if (spill_meta != nullptr) AddTotals(applier, spill_meta);
      pos = next;
      if (spill_meta != nullptr &&
          CheckpointDue(*view)) {
        std::vector<std::pair<uint32_t, uint32_t>> merged_away;  // files of this rebuild only
        ZC_RETURN_IF_ERROR(Checkpoint(view, spill_meta, /*merge_everything=*/false, &merged_away));
        spill_meta->checkpoint_segment = number;
        spill_meta->checkpoint_offset = pos;
        RemoveObsoleteRuns(merged_away);
      }
    }
    replayed_segment_ = number;
    replayed_offset_ = pos;
  }
  return Status::OK();
}

Status StoreImpl::ApplyLogged(const BatchEntry& e, uint64_t location, BatchApplier* applier) {
  constexpr auto kReplay = BatchApplier::PutMode::kReplay;
  switch (e.kind) {
    case EntryKind::kPutMedia: return applier->Put(e.id, e.record, location, e.entry_bytes, kReplay);
    case EntryKind::kRemoveMedia: return applier->Remove(e.id, e.entry_bytes);
    case EntryKind::kPutPlaylist: return applier->PutPlaylist(e.id, e.playlist, location, e.entry_bytes, kReplay);
    case EntryKind::kRemovePlaylist: return applier->RemovePlaylist(e.id, e.entry_bytes);
    case EntryKind::kPutPlaylistEntry:
      return applier->PutPlaylistEntry(e.id, e.playlist_entry, location, e.entry_bytes, kReplay);
    case EntryKind::kRemovePlaylistEntry: return applier->RemovePlaylistEntry(e.id, e.entry_bytes);
    case EntryKind::kPutDirectory: return applier->PutDirectoryName(e.directory, location);
  }
  return Status::Corruption("unknown entry kind in a verified batch");  // ReadBatch refuses them
}

void StoreImpl::AddMemoryRuns(ReadView* view, BatchIndexEntries entries,
                              const std::array<size_t, kRunKinds>* frozen) {
  for (uint32_t k = 0; k < kRunKinds; ++k) {
    if (entries[k].empty()) continue;
    auto& runs = view->runs[k];
    runs.insert(runs.begin(), std::make_shared<Run>(k, std::move(entries[k])));
    auto second_is_frozen = [&] {
      return frozen != nullptr && 1 + (*frozen)[k] >= LeadingMemoryRuns(runs);
    };
    // Small in-memory runs (small commits) merge binary-counter fashion: the
    // two newest while the older is at most twice the newer. Runs of bulk
    // batches stay as they are until the checkpoint writes them out: each
    // costs a lookup one directory probe, and merging them in memory would
    // copy every entry again.
    while (runs.size() >= 2 && runs[0]->in_memory() && runs[1]->in_memory() && !second_is_frozen() &&
           runs[1]->size() <= 2 * runs[0]->size() && runs[1]->size() < kSmallMemoryRun) {
      RunPtr merged = MergeInMemory(k, std::span<const RunPtr>(runs.data(), 2), /*drop_tombstones=*/false);
      runs.erase(runs.begin(), runs.begin() + 2);
      runs.insert(runs.begin(), std::move(merged));
    }
  }
}

size_t StoreImpl::MemoryRunCount(const ReadView& view) {
  size_t most = 0;
  for (const auto& kind_runs : view.runs) most = std::max(most, LeadingMemoryRuns(kind_runs));
  return most;
}

Status StoreImpl::WriteCheckpointRuns(std::span<const std::vector<RunPtr>, kRunKinds> all_runs,
                                      bool merge_everything, const MemoryProfile& profile, CheckpointOutput* out) {
  for (uint32_t k = 0; k < kRunKinds; ++k) {
    const auto& runs = all_runs[k];  // newest first: memory runs, then files
    const size_t memory = LeadingMemoryRuns(runs);
    std::vector<RunPtr> files(runs.begin() + static_cast<long>(memory), runs.end());
    // Each step merges runs[0, n) of `pending` (newest first) into one file.
    auto write_merged = [&](std::span<const RunPtr> inputs, bool includes_oldest, RunPtr* merged) -> Status {
      const uint32_t number = next_file_number_.fetch_add(1);
      ZC_RETURN_IF_ERROR(WriteMergedRunFile(env_, dir_, k, number, inputs, includes_oldest,
                                            profile.run_write_buffer, merged, sync_.load(std::memory_order_relaxed)));
      out->created.push_back({k, number});
      for (const RunPtr& r : inputs)
        if (!r->in_memory()) out->obsolete.push_back({k, r->file_number()});
      return Status::OK();
    };
    if (merge_everything) {
      if (runs.size() > 1 || memory > 0) {
        RunPtr merged;
        ZC_RETURN_IF_ERROR(write_merged(runs, /*includes_oldest=*/true, &merged));
        out->files[k] = {merged};
      } else {
        out->files[k] = runs;
      }
      continue;
    }
    if (memory > 0) {
      RunPtr flushed;
      ZC_RETURN_IF_ERROR(write_merged(std::span<const RunPtr>(runs.data(), memory), files.empty(), &flushed));
      files.insert(files.begin(), flushed);
    }
    // Tiered merging: while the newest kMergeFanIn runs share a tier (or
    // there are too many runs for the meta page), merge them.
    for (;;) {
      bool merge = files.size() > kMaxRunsPerKind - kMergeFanIn;
      if (!merge && files.size() >= kMergeFanIn) {
        const size_t tier = Tier(files[0], profile);
        merge = true;
        for (size_t i = 1; i < kMergeFanIn; ++i) merge = merge && Tier(files[i], profile) == tier;
      }
      if (!merge) break;
      RunPtr merged;
      const bool includes_oldest = files.size() == kMergeFanIn;
      ZC_RETURN_IF_ERROR(write_merged(std::span<const RunPtr>(files.data(), kMergeFanIn), includes_oldest, &merged));
      files.erase(files.begin(), files.begin() + kMergeFanIn);
      files.insert(files.begin(), merged);
    }
    out->files[k] = std::move(files);
  }
  return env_->SyncDir(dir_);
}

Status StoreImpl::Checkpoint(ReadView* view, MetaPage* meta, bool merge_everything,
                             std::vector<std::pair<uint32_t, uint32_t>>* obsolete,
                             std::vector<std::pair<uint32_t, uint32_t>>* created) {
  CheckpointOutput out;
  Status s = WriteCheckpointRuns(view->runs, merge_everything, profile_, &out);
  if (!s.ok()) {
    RemoveRunFiles(out.created);
    return s;
  }
  if (created != nullptr) created->insert(created->end(), out.created.begin(), out.created.end());
  for (uint32_t k = 0; k < kRunKinds; ++k) view->runs[k] = std::move(out.files[k]);
  for (uint32_t k = 0; k < kRunKinds; ++k)
    for (const RunPtr& r : view->runs[k])
      if (!r->in_memory()) run_cache_[{k, r->file_number()}] = r;
  obsolete->insert(obsolete->end(), out.obsolete.begin(), out.obsolete.end());
  const MetaSegment& last = meta->segments[meta->segment_count - 1];
  meta->checkpoint_segment = last.number;
  meta->checkpoint_offset = last.committed_length;
  RecordRuns(*view, meta);
  return Status::OK();
}

bool StoreImpl::CheckpointDue(const ReadView& view) const {
  return view.MemoryRunBytes() > profile_.memtable_bytes || MemoryRunCount(view) > kMaxMemoryRuns;
}

Status StoreImpl::MaybeCheckpoint() {
  if (checkpoint_ && checkpoint_->done.load(std::memory_order_acquire)) ZC_RETURN_IF_ERROR(FinishCheckpoint());
  for (size_t lane = 0; lane < kMergeLanes; ++lane)
    if (merges_[lane] && merges_[lane]->done.load(std::memory_order_acquire)) ZC_RETURN_IF_ERROR(FinishMerge(lane));
  ReadView view;
  {
    std::lock_guard<std::mutex> g(snapshot_mu_);
    view = current_->view();
  }
  // In-memory runs not already being written out by the flush in flight.
  auto unfrozen_due = [&] {
    if (!checkpoint_) return CheckpointDue(view);
    ReadView newer;
    for (uint32_t k = 0; k < kRunKinds; ++k) {
      const size_t memory = LeadingMemoryRuns(view.runs[k]);
      const size_t fresh = memory - std::min(memory, checkpoint_->frozen_memory_runs(k));
      newer.runs[k].assign(view.runs[k].begin(), view.runs[k].begin() + static_cast<long>(fresh));
    }
    return CheckpointDue(newer);
  };
  if (!unfrozen_due()) {
    MaybeStartMerges(view);
    return Status::OK();
  }
  if (checkpoint_) ZC_RETURN_IF_ERROR(FinishCheckpoint());  // backpressure: one flush at a time
  {
    std::lock_guard<std::mutex> g(snapshot_mu_);
    view = current_->view();
  }
  // The meta page has kMaxRunsPerKind run slots per index. A flush keeps
  // an index at most kMaxRunsPerKind - kMergeFanIn runs long by merging its
  // newest runs whatever their tier ("forced"), after waiting for the lanes
  // so that they hold none of those.
  auto forced = [&](const std::vector<RunPtr>& runs) {
    return runs.size() - LeadingMemoryRuns(runs) + 1 > kMaxRunsPerKind - kMergeFanIn;
  };
  if (MergesInFlight()) {
    bool tight = false;
    for (uint32_t k = 0; k < kRunKinds; ++k) tight = tight || forced(view.runs[k]);
    if (tight) {
      ZC_RETURN_IF_ERROR(FinishMerges());
      std::lock_guard<std::mutex> g(snapshot_mu_);
      view = current_->view();
    }
  }
  auto job = std::make_unique<CheckpointJob>();
  job->work = CheckpointJob::Work::kFlush;
  for (uint32_t k = 0; k < kRunKinds; ++k) {
    const auto& runs = view.runs[k];
    const size_t memory = LeadingMemoryRuns(runs);
    job->input[k].assign(runs.begin(), runs.begin() + static_cast<long>(memory));
    job->files[k] = runs.size() - memory;
    // What the flush may merge its file with: the newest runs of the lowest
    // tier (and, when forced, the newest kMergeFanIn - 1 whatever their
    // tier), up to the first run a lane holds. The lanes may take the rest.
    const bool force = forced(runs);
    size_t end = memory;
    while (end < runs.size() && !HeldByJob(k, runs[end]) &&
           (Tier(runs[end], profile_) == 0 || (force && end - memory + 1 < kMergeFanIn)))
      ++end;
    job->candidates[k].assign(runs.begin() + static_cast<long>(memory), runs.begin() + static_cast<long>(end));
  }
  const MetaSegment& last = meta_.segments[meta_.segment_count - 1];
  job->checkpoint_segment = last.number;
  job->checkpoint_offset = last.committed_length;
  StartJob(job.get());
  checkpoint_ = std::move(job);
  MaybeStartMerges(view);
  return Status::OK();
}

void StoreImpl::MaybeStartMerges(const ReadView& view) {
  if (!sticky_error_.ok()) return;
  for (size_t lane = 0; lane < kMergeLanes; ++lane) {
    if (merges_[lane]) continue;
    auto job = std::make_unique<CheckpointJob>();
    job->work = CheckpointJob::Work::kMerge;
    bool any = false;
    for (uint32_t k = 0; k < kRunKinds; ++k) {
      const auto& runs = view.runs[k];
      const size_t memory = LeadingMemoryRuns(runs);
      // The lowest tier of the lane with a group; within it the oldest
      // group, so that the merged run lands between the tier's younger runs
      // and the next tier's: the runs stay ordered by size.
      const size_t lowest = lane == 0 ? 1 : 2, highest = lane == 0 ? 1 : 64;
      for (size_t tier = lowest; tier <= highest && job->input[k].empty(); ++tier) {
        for (size_t i = runs.size(); i >= memory + kMergeFanIn; --i) {
          const size_t first = i - kMergeFanIn;
          bool mergeable = true;
          for (size_t j = first; j < i && mergeable; ++j)
            mergeable = Tier(runs[j], profile_) == tier && !HeldByJob(k, runs[j]);
          if (!mergeable) continue;
          job->input[k].assign(runs.begin() + static_cast<long>(first), runs.begin() + static_cast<long>(i));
          job->merges_oldest[k] = i == runs.size();  // none can come after it meanwhile
          any = true;
          break;
        }
      }
    }
    if (!any) continue;
    StartJob(job.get());
    merges_[lane] = std::move(job);
  }
}

void StoreImpl::StartJob(CheckpointJob* job) {
  job->profile = profile_;
  job->retired = std::move(retired_);
  retired_ = ReadView();
  try {
    job->thread = std::thread([this, job] {
      job->retired = ReadView();
      job->status = NoThrow("write an index checkpoint", [&] { return RunJob(job); });
      job->done.store(true, std::memory_order_release);
    });
  } catch (const std::system_error&) {
    // No thread to be had: the work is done on this one.
    job->retired = ReadView();
    job->status = RunJob(job);
    job->done.store(true, std::memory_order_release);
  }
}

Status StoreImpl::RunJob(CheckpointJob* job) {
  CheckpointOutput* out = &job->output;
  // Merges `inputs` (adjacent, newest first) into a new file run.
  auto write_merged = [&](uint32_t k, std::span<const RunPtr> inputs, bool includes_oldest, RunPtr* merged) {
    const uint32_t number = next_file_number_.fetch_add(1);
    ZC_RETURN_IF_ERROR(WriteMergedRunFile(env_, dir_, k, number, inputs, includes_oldest,
                                          job->profile.run_write_buffer, merged, sync_.load(std::memory_order_relaxed)));
    out->created.push_back({k, number});
    for (const RunPtr& r : inputs)
      if (!r->in_memory()) out->obsolete.push_back({k, r->file_number()});
    return Status::OK();
  };
  for (uint32_t k = 0; k < kRunKinds; ++k) {
    const auto& input = job->input[k];
    if (input.empty()) continue;
    job->replaced[k] = input;
    if (job->work == CheckpointJob::Work::kMerge) {
      RunPtr merged;
      ZC_RETURN_IF_ERROR(write_merged(k, input, job->merges_oldest[k], &merged));
      out->files[k] = {std::move(merged)};
      continue;
    }
    // Tombstones go only where no file run holds what they hide.
    RunPtr flushed;
    ZC_RETURN_IF_ERROR(write_merged(k, input, /*includes_oldest=*/job->files[k] == 0, &flushed));
    // The runs at the front of the index: the one this job wrote (each
    // merge below replaces it and the candidates after it), then the
    // candidates it has not merged; `older` file runs follow them.
    std::vector<RunPtr> front = {std::move(flushed)};
    front.insert(front.end(), job->candidates[k].begin(), job->candidates[k].end());
    const size_t older = job->files[k] - job->candidates[k].size();
    while (front.size() >= kMergeFanIn) {
      // The lowest tier only (the merge lanes take the others), or the
      // newest runs whatever their size when the run slots run short.
      bool merge = front.size() + older > kMaxRunsPerKind - kMergeFanIn;
      if (!merge) {
        merge = true;
        for (size_t i = 0; i < kMergeFanIn && merge; ++i) merge = Tier(front[i], job->profile) == 0;
      }
      if (!merge) break;
      RunPtr merged;
      const bool includes_oldest = older == 0 && front.size() == kMergeFanIn;
      ZC_RETURN_IF_ERROR(write_merged(k, std::span<const RunPtr>(front.data(), kMergeFanIn), includes_oldest, &merged));
      const auto group_end = front.begin() + static_cast<long>(kMergeFanIn);
      job->replaced[k].insert(job->replaced[k].end(), front.begin() + 1, group_end);  // the candidates merged
      front.erase(front.begin() + 1, group_end);
      front.front() = std::move(merged);
    }
    out->files[k] = {std::move(front.front())};
  }
  return env_->SyncDir(dir_);
}

Status StoreImpl::FinishCheckpoint() {
  if (!checkpoint_) return Status::OK();
  if (checkpoint_->thread.joinable()) checkpoint_->thread.join();
  return InstallJob(std::move(checkpoint_));
}

Status StoreImpl::FinishMerge(size_t lane) {
  std::unique_ptr<CheckpointJob>& job = merges_[lane];
  if (!job) return Status::OK();
  if (job->thread.joinable()) job->thread.join();
  return InstallJob(std::move(job));
}

Status StoreImpl::FinishMerges() {
  Status first;
  for (size_t lane = 0; lane < kMergeLanes; ++lane) {
    Status s = FinishMerge(lane);
    if (first.ok()) first = s;
  }
  return first;
}

bool StoreImpl::MergesInFlight() const {
  return std::any_of(merges_.begin(), merges_.end(), [](const auto& job) { return job != nullptr; });
}

bool StoreImpl::HeldByJob(uint32_t kind, const RunPtr& run) const {
  auto holds = [&](const std::vector<RunPtr>& runs) { return std::find(runs.begin(), runs.end(), run) != runs.end(); };
  for (const auto& job : merges_)
    if (job && holds(job->input[kind])) return true;
  return checkpoint_ && (holds(checkpoint_->input[kind]) || holds(checkpoint_->candidates[kind]));
}

Status StoreImpl::FinishBackgroundWork() {
  Status flush = FinishCheckpoint();
  Status merge = FinishMerges();
  retired_ = ReadView();  // no job to hand it to
  return flush.ok() ? merge : flush;
}

Status StoreImpl::InstallJob(std::unique_ptr<CheckpointJob> job) {
  const bool flush = job->work == CheckpointJob::Work::kFlush;
  auto remove_created = [&] { RemoveRunFiles(job->output.created); };
  if (!job->status.ok()) {
    // Nothing is lost: the runs it read stay where they are, and a later
    // Write tries again.
    remove_created();
    return Status::IOError(std::string("index ") + (flush ? "checkpoint" : "merge") +
                           " (run in the background) failed: " + job->status.ToString() +
                           "; nothing committed was lost, this call stored nothing, and the next write retries it");
  }
  ReadView view;
  {
    std::lock_guard<std::mutex> g(snapshot_mu_);
    view = current_->view();
  }
  ReadView replaced = view;
  for (uint32_t k = 0; k < kRunKinds; ++k) {
    const auto& old_runs = job->replaced[k];
    if (old_runs.empty()) continue;
    auto& runs = view.runs[k];
    const auto at = std::search(runs.begin(), runs.end(), old_runs.begin(), old_runs.end());
    if (at == runs.end()) {
      remove_created();
      return Status::Corruption(dir_ + ": internal error: the runs a background " +
                                (flush ? "checkpoint" : "merge") + " read changed under it");
    }
    const auto& new_runs = job->output.files[k];
    const auto next = runs.erase(at, at + static_cast<long>(old_runs.size()));
    runs.insert(next, new_runs.begin(), new_runs.end());
  }
  MetaPage meta = meta_;
  if (flush) {
    meta.checkpoint_segment = job->checkpoint_segment;
    meta.checkpoint_offset = job->checkpoint_offset;
  }
  RecordRuns(view, &meta);
  meta.sequence += 1;
  view.sequence = meta.sequence;
  Status s = CommitMeta(&meta);
  if (!s.ok()) {
    if (sticky_error_.ok()) remove_created();  // certainly not committed
    return s;
  }
  meta_ = meta;
  for (uint32_t k = 0; k < kRunKinds; ++k)
    for (const RunPtr& r : job->output.files[k]) run_cache_[{k, r->file_number()}] = r;
  RemoveObsoleteRuns(job->output.obsolete);
  retired_ = std::move(replaced);
  Publish(std::move(view));
  (flush ? counters_->checkpoints : counters_->index_merges).fetch_add(1, std::memory_order_relaxed);
  counters_->commits.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

void StoreImpl::AbandonCheckpoint() {
  auto abandon = [&](std::unique_ptr<CheckpointJob>& job) {
    if (!job) return;
    if (job->thread.joinable()) job->thread.join();
    RemoveRunFiles(job->output.created);
    job.reset();
  };
  abandon(checkpoint_);
  for (auto& job : merges_) abandon(job);
  retired_ = ReadView();
}

void StoreImpl::AddTotals(const BatchApplier& applier, MetaPage* meta) {
  int64_t files[kMimeFamilies];
  for (int f = 0; f < kMimeFamilies; ++f) files[f] = static_cast<int64_t>(meta->family_files[f]);
  applier.ApplyTotals(files, meta->family_bytes, &meta->dead_bytes);
  for (int f = 0; f < kMimeFamilies; ++f) meta->family_files[f] = static_cast<uint64_t>(files[f]);
  meta->playlist_count = static_cast<uint64_t>(static_cast<int64_t>(meta->playlist_count) + applier.playlist_delta());
  meta->entry_count = static_cast<uint64_t>(static_cast<int64_t>(meta->entry_count) + applier.entry_delta());
  meta->noncanonical_files =
      static_cast<uint64_t>(static_cast<int64_t>(meta->noncanonical_files) + applier.noncanonical_delta());
  meta->null_canonical_files =
      static_cast<uint64_t>(static_cast<int64_t>(meta->null_canonical_files) + applier.null_canonical_delta());
  meta->parent_prefix_files =
      static_cast<uint64_t>(static_cast<int64_t>(meta->parent_prefix_files) + applier.parent_prefix_delta());
}

void StoreImpl::SetTotals(const MetaPage& meta, ReadView* view) {
  for (int f = 0; f < kMimeFamilies; ++f) {
    view->totals.files[f] = meta.family_files[f];
    view->totals.bytes[f] = meta.family_bytes[f];
  }
  view->totals.noncanonical_files = meta.noncanonical_files;
  view->totals.null_canonical_files = meta.null_canonical_files;
  view->totals.parent_prefix_files = meta.parent_prefix_files;
  view->dead_bytes = meta.dead_bytes;
  view->playlist_count = meta.playlist_count;
  view->entry_count = meta.entry_count;
}

void StoreImpl::SetIdSequences(const MetaPage& meta, ReadView* view) {
  view->next_id = meta.next_id;
  view->next_playlist_id = meta.next_playlist_id;
  view->next_entry_id = meta.next_entry_id;
}

void StoreImpl::RecordRuns(const ReadView& view, MetaPage* meta) const {
  for (uint32_t k = 0; k < kRunKinds; ++k) {
    uint32_t n = 0;
    for (auto it = view.runs[k].rbegin(); it != view.runs[k].rend(); ++it)  // oldest first
      if (!(*it)->in_memory()) meta->runs[k][n++] = (*it)->file_number();
    meta->run_count[k] = n;
  }
}

void StoreImpl::RemoveObsoleteRuns(const std::vector<std::pair<uint32_t, uint32_t>>& obsolete) {
  // Snapshots still holding these runs keep their mappings; other processes
  // that read an older meta page retry when a run file is gone.
  for (const auto& [kind, number] : obsolete) run_cache_.erase({kind, number});
  RemoveRunFiles(obsolete);
}

void StoreImpl::RemoveRunFiles(const std::vector<std::pair<uint32_t, uint32_t>>& files) {
  for (const auto& [kind, number] : files) env_->RemoveFile(dir_ + "/" + RunFileName(kind, number));
}

Status StoreImpl::RemoveStrayFiles(const MetaPage* also_keep) {
  std::vector<std::string> names;
  ZC_RETURN_IF_ERROR(env_->ListDir(dir_, &names));
  for (const std::string& name : names) {
    uint32_t kind = 0, number = 0;
    bool keep = true;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) {
      keep = false;
    } else if (ParseSegmentFileName(name, &number)) {
      keep = MetaNamesSegment(meta_, number) || (also_keep != nullptr && MetaNamesSegment(*also_keep, number));
    } else if (ParseRunFileName(name, &kind, &number)) {
      keep = MetaNamesRun(meta_, kind, number) || (also_keep != nullptr && MetaNamesRun(*also_keep, kind, number));
    }
    if (!keep) ZC_RETURN_IF_ERROR(env_->RemoveFile(dir_ + "/" + name));
  }
  return Status::OK();
}

void StoreImpl::Publish(ReadView view) {
  auto snap = std::make_shared<const SnapshotImpl>(std::move(view), counters_, lookup_cache_);
  std::lock_guard<std::mutex> g(snapshot_mu_);
  current_ = std::move(snap);
}

bool StoreImpl::MetaMayHaveMoved() const {
  if (!meta_map_ || meta_map_->length() < 2 * kMetaPageSize) return true;
  const uint64_t followed = followed_sequence_.load(std::memory_order_relaxed);
  for (int slot = 0; slot < 2; ++slot) {
    // A hint only (a page being written may be read half old, half new):
    // any change is confirmed by reading META properly.
    uint64_t sequence = 0;
    std::memcpy(&sequence, meta_map_->data() + slot * kMetaPageSize + offsetof(MetaPage, sequence), sizeof(sequence));
    if (sequence > followed) return true;
  }
  return false;
}

std::shared_ptr<const Snapshot> StoreImpl::GetSnapshot() {
  if (options_.read_only && MetaMayHaveMoved()) {
    // Follow the writer: reload when its meta page moved on. A failed reload
    // (e.g. a run file merged away between reading META and opening it)
    // keeps the previous consistent snapshot.
    std::lock_guard<std::mutex> g(write_mu_);
    MetaPage meta;
    if (ReadNewestMetaPage(meta_file_.get(), &meta).ok() && meta.sequence != meta_.sequence) {
      std::shared_ptr<const SnapshotImpl> prev;
      {
        std::lock_guard<std::mutex> s(snapshot_mu_);
        prev = current_;
      }
      for (int attempt = 0; attempt < 3; ++attempt) {
        ReadView view;
        Status loaded = NoThrow("follow the writer", [&] { return LoadView(meta, &prev->view(), &view); });
        if (loaded.ok()) {
          meta_ = meta;
          followed_sequence_.store(meta.sequence, std::memory_order_relaxed);
          // The writer's changes since the last look are not known key by
          // key here: forget every cached location.
          lookup_cache_->InvalidateAll(view.sequence);
          Publish(std::move(view));
          break;
        }
        replayed_segment_ = 0;  // start the next attempt from the checkpoint
        if (!ReadNewestMetaPage(meta_file_.get(), &meta).ok()) break;
      }
    }
  }
  std::lock_guard<std::mutex> g(snapshot_mu_);
  return current_;
}

Status StoreImpl::Write(WriteBatch& batch, std::vector<int64_t>* assigned_ids) {
  return counters_->CountError(NoThrow("write a batch", [&] { return WriteLocked(batch, assigned_ids); }));
}

Status StoreImpl::WriteLocked(WriteBatch& batch, std::vector<int64_t>* assigned_ids) {
  std::unique_lock<std::mutex> g(write_mu_);
  if (options_.read_only) return Status::ReadOnly(dir_ + ": store was opened read-only");
  ZC_RETURN_IF_ERROR(WaitForWriter(g));
  ZC_RETURN_IF_ERROR(sticky_error_);
  ZC_RETURN_IF_ERROR(DiscardPrepared());
  ZC_RETURN_IF_ERROR(MaybeCheckpoint());
  WriteBatch::Rep& rep = *batch.rep_;
  std::shared_ptr<const SnapshotImpl> base;
  {
    std::lock_guard<std::mutex> s(snapshot_mu_);
    base = current_;
  }
  if (rep.items.empty() && rep.raise_next_id <= base->view().next_id &&
      rep.raise_next_playlist_id <= base->view().next_playlist_id &&
      rep.raise_next_entry_id <= base->view().next_entry_id) {
    batch.Clear();
    return Status::OK();
  }

  // 1. Name the directories the batch creates: Directory records in the
  // writer's own buffer, appended after the caller's entries (the caller's
  // batch is not touched, so it neither grows nor needs undoing). Then place
  // the batch (it must know where its records will be: indexes point at
  // locations), rolling to a new segment when it does not fit.
  WriteBatch::Rep& names = directory_names_;
  names.body.clear();
  names.items.clear();
  ZC_RETURN_IF_ERROR(AddDirectoryNames(base->view(), rep, &names));
  MetaPage meta = meta_;
  meta.next_id = std::max<int64_t>(meta.next_id, rep.raise_next_id);
  meta.next_playlist_id = std::max<int64_t>(meta.next_playlist_id, rep.raise_next_playlist_id);
  meta.next_entry_id = std::max<int64_t>(meta.next_entry_id, rep.raise_next_entry_id);
  const uint64_t body_bytes = rep.body.size() + names.body.size();
  const uint64_t batch_bytes = sizeof(BatchHeader) + body_bytes;
  MetaSegment* active = &meta.segments[meta.segment_count - 1];
  SegmentPtr seg = segment_cache_.at(active->number);
  if (!rep.items.empty() && active->committed_length + batch_bytes > options_.segment_max_bytes) {
    if (kSegmentHeaderSize + batch_bytes > options_.segment_max_bytes)
      return Status::InvalidArgument("batch of " + std::to_string(batch_bytes) +
                                     " bytes does not fit in a segment (segment_max_bytes); write smaller batches");
    if (meta.segment_count == kMaxSegments || next_file_number_.load() > kMaxSegmentNumber)
      return Status::IOError(dir_ + ": the store has run out of segment numbers or meta slots (" +
                             std::to_string(meta.segment_count) + " segments); compact it or raise segment_max_bytes");
    // Created (empty) before the checks: if they fail, the file is unused
    // (Open removes it as a stray) and the next attempt takes a new number.
    const uint32_t number = next_file_number_.fetch_add(1);
    ZC_RETURN_IF_ERROR(Segment::Create(env_, dir_, number, options_.segment_max_bytes, &seg));
    ZC_RETURN_IF_ERROR(env_->SyncDir(dir_));
    segment_cache_[number] = seg;
    meta.segments[meta.segment_count++] = {number, 0, kSegmentHeaderSize};
    active = &meta.segments[meta.segment_count - 1];
  }
  const uint64_t batch_offset = active->committed_length;
  const uint64_t body_location = MakeLocation(active->number, batch_offset + sizeof(BatchHeader));

  // 2. Assign ids: after this only the entry checksums change in the body.
  // Until the commit point, any failure gives the batch back as it was.
  std::vector<int64_t> ids;
  ZC_RETURN_IF_ERROR(AssignIds(rep, &meta, &ids));
  bool committed = false;
  struct ResetUnlessCommitted {
    WriteBatch::Rep& rep;
    const bool& committed;
    ~ResetUnlessCommitted() {
      if (!committed) ResetAssignedIds(rep);
    }
  } reset_guard{rep, committed};

  // 3. Append the data and make it durable on a helper thread, while this
  // one checks the entries and works out the index changes. If a check
  // fails, the bytes written lie past the committed length: ignored, and
  // overwritten by the next batch.
  BatchHeader h{};
  h.magic = kBatchMagic;
  h.format_version = kFormatVersion;
  h.sequence = meta.sequence + 1;
  h.entry_count = static_cast<uint32_t>(rep.items.size() + names.items.size());
  h.body_length = body_bytes;
  Status append_status;
  auto append = [&] {
    // Only the checksum fields change here; the checks read ids, lengths
    // and payloads, which are final.
    SealEntries(rep);
    SealEntries(names);
    h.body_checksum = Checksum64(rep.body.data(), rep.body.size(), names.body.data(), names.body.size());
    h.header_checksum = Checksum64(&h, offsetof(BatchHeader, header_checksum));
    append_status = seg->file()->PWrite(batch_offset, &h, sizeof(h));
    if (append_status.ok()) append_status = seg->file()->PWrite(batch_offset + sizeof(h), rep.body.data(), rep.body.size());
    if (append_status.ok() && !names.body.empty())
      append_status = seg->file()->PWrite(batch_offset + sizeof(h) + rep.body.size(), names.body.data(), names.body.size());
    if (append_status.ok() && sync_.load(std::memory_order_relaxed)) append_status = seg->file()->Sync();
  };
  std::thread appender;
  if (!rep.items.empty()) {
    try {
      appender = std::thread(append);
    } catch (const std::system_error&) {
      append();  // no thread to be had: append first, then check
    }
  }
  BatchApplier applier(base->view(), /*check_constraints=*/true, rep.items.size());
  applier.set_names_are_new(true);  // AddDirectoryNames named only unnamed directories
  Status check_status = CheckEntries(rep, body_location, &applier);
  if (check_status.ok()) check_status = CheckEntries(names, body_location + rep.body.size(), &applier);
  if (check_status.ok()) check_status = applier.FinishDirectories();
  if (appender.joinable()) appender.join();
  if (check_status.ok()) check_status = append_status;
  if (!check_status.ok()) return check_status;

  ReadView view = base->view();
  if (!rep.items.empty()) {
    active->committed_length = batch_offset + batch_bytes;
    ZC_RETURN_IF_ERROR(SetSegments(meta, &view));  // all open already: no I/O
    BatchIndexEntries entries = applier.TakeAllEntries();
    // Before the snapshot of this commit can be published (if the commit
    // fails, the next one takes the same sequence: erasing was only early).
    lookup_cache_->InvalidateKeys(entries[kPathIndex], meta.sequence + 1);
    std::array<size_t, kRunKinds> frozen{};
    for (uint32_t k = 0; k < kRunKinds && checkpoint_; ++k) frozen[k] = checkpoint_->frozen_memory_runs(k);
    AddMemoryRuns(&view, std::move(entries), checkpoint_ ? &frozen : nullptr);
  }
  meta.sequence += 1;
  meta.record_count = static_cast<uint64_t>(static_cast<int64_t>(meta.record_count) + applier.record_delta());
  AddTotals(applier, &meta);
  SetTotals(meta, &view);
  view.sequence = meta.sequence;
  SetIdSequences(meta, &view);
  view.record_count = meta.record_count;

  // 4. The in-memory runs are written out in the background (see
  // MaybeCheckpoint, at the start of the next Write); the file runs are
  // those of the base view.
  RecordRuns(view, &meta);

  // 5. The commit point: the new meta page, durable.
  ZC_RETURN_IF_ERROR(CommitMeta(&meta));
  committed = true;
  meta_ = meta;
  replayed_segment_ = active->number;
  replayed_offset_ = active->committed_length;
  Publish(std::move(view));
  CountCommittedBatch(rep, rep.items.empty() ? 0 : batch_bytes);
  if (assigned_ids) *assigned_ids = std::move(ids);
  batch.Clear();
  return Status::OK();
}

namespace {
Status EntryError(size_t i, const Status& s) {
  std::string msg = s.message() + " (batch entry " + std::to_string(i) + "; nothing in this batch was stored)";
  if (s.IsConstraint()) return Status::Constraint(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  return s;
}
}  // namespace

namespace {
using Table = WriteBatch::Rep::Table;
using Op = WriteBatch::Rep::Op;

// The id sequence and the id limit of a table.
int64_t* NextIdOf(Table table, MetaPage* meta) {
  switch (table) {
    case Table::kPlaylist: return &meta->next_playlist_id;
    case Table::kPlaylistEntry: return &meta->next_entry_id;
    case Table::kMedia:
    case Table::kDirectory: break;
  }
  return &meta->next_id;
}
int64_t MaxIdOf(Table table) {
  return table == Table::kMedia ? std::numeric_limits<int64_t>::max() - 1 : kMaxPlaylistId;
}
const char* TableName(Table table) {
  switch (table) {
    case Table::kPlaylist: return "playlist";
    case Table::kPlaylistEntry: return "playlist entry";
    case Table::kDirectory: return "directory";
    case Table::kMedia: break;
  }
  return "media file";
}
// Writes `id` into the record of a Put/Update item (its payload) and header.
void SetItemId(WriteBatch::Rep& rep, const WriteBatch::Rep::Item& item, int64_t id) {
  uint8_t* entry = rep.body.data() + item.offset;
  reinterpret_cast<EntryHeader*>(entry)->id = id;
  uint8_t* payload = entry + sizeof(EntryHeader);
  switch (item.table) {
    case Table::kMedia: flatbuffers::GetMutableRoot<fb::MediaFile>(payload)->mutate_id(id); break;
    case Table::kPlaylist: flatbuffers::GetMutableRoot<fb::Playlist>(payload)->mutate_id(id); break;
    case Table::kPlaylistEntry:
      flatbuffers::GetMutableRoot<fb::PlaylistEntry>(payload)->mutate_id(id);
      break;
    case Table::kDirectory: break;  // no id
  }
}
}  // namespace

Status StoreImpl::AssignIds(WriteBatch::Rep& rep, MetaPage* meta, std::vector<int64_t>* ids) {
  for (size_t i = 0; i < rep.items.size(); ++i) {
    const WriteBatch::Rep::Item& item = rep.items[i];
    if (item.oversized) {
      ResetAssignedIds(rep);
      return EntryError(i, Status::InvalidArgument("record larger than 16 MiB"));
    }
    if (item.table == Table::kDirectory) continue;  // a name, no id
    int64_t* next_id = NextIdOf(item.table, meta);
    int64_t id = item.id;
    if (item.op == Op::kPut && id == 0) id = *next_id;
    if (id <= 0 || id > MaxIdOf(item.table)) {
      ResetAssignedIds(rep);
      return EntryError(i, Status::InvalidArgument(std::string(TableName(item.table)) + " id " + std::to_string(id) +
                                                   " is out of range (1.." + std::to_string(MaxIdOf(item.table)) +
                                                   ")"));
    }
    if (item.op == Op::kRemove) continue;
    SetItemId(rep, item, id);
    if (item.op == Op::kPut) {
      ids->push_back(id);
      if (id >= *next_id) *next_id = id + 1;
    }
  }
  return Status::OK();
}

void StoreImpl::SealEntries(WriteBatch::Rep& rep) {
  for (const WriteBatch::Rep::Item& item : rep.items) {
    uint8_t* entry = rep.body.data() + item.offset;
    auto* header = reinterpret_cast<EntryHeader*>(entry);
    header->checksum = EntryChecksum(header->id, header->length_and_kind, entry + sizeof(EntryHeader));
  }
}

void StoreImpl::ResetAssignedIds(WriteBatch::Rep& rep) {
  // Store-assigned ids go back to 0, so a failed batch is "left as it was".
  for (const WriteBatch::Rep::Item& item : rep.items)
    if (item.op == Op::kPut && item.id == 0 && !item.oversized) SetItemId(rep, item, 0);
}

Status StoreImpl::CheckEntries(const WriteBatch::Rep& rep, uint64_t body_location, BatchApplier* applier) {
  std::vector<uint64_t> path_hashes;
  path_hashes.reserve(rep.items.size());
  for (const WriteBatch::Rep::Item& item : rep.items)
    if (item.table == Table::kMedia && item.op != Op::kRemove) path_hashes.push_back(item.path_hash);
  if (!path_hashes.empty()) applier->PrefilterPaths(std::move(path_hashes));
  for (size_t i = 0; i < rep.items.size(); ++i) {
    Status s = CheckEntry(rep, i, body_location, applier);
    if (!s.ok()) return EntryError(i, s);
  }
  return Status::OK();
}

Status BatchEntryError(size_t i, const Status& s) { return EntryError(i, s); }

Status StoreImpl::CheckEntry(const WriteBatch::Rep& rep, size_t i, uint64_t body_location, BatchApplier* applier) {
  const WriteBatch::Rep::Item& item = rep.items[i];
  const uint8_t* entry = rep.body.data() + item.offset;
  const auto* header = reinterpret_cast<const EntryHeader*>(entry);
  const int64_t id = header->id;
  const auto entry_bytes = static_cast<uint32_t>(sizeof(EntryHeader) + Align8(header->payload_length()));
  const uint64_t location = body_location + item.offset;
  const auto mode = item.op == Op::kPut ? BatchApplier::PutMode::kInsert : BatchApplier::PutMode::kUpdate;
  // Payloads were built by our own encoders in this process (WriteBatch),
  // never read from disk: readers verify them when they read them back.
  const uint8_t* payload = entry + sizeof(EntryHeader);
  switch (item.table) {
    case Table::kMedia:
      if (item.op == Op::kRemove) return applier->Remove(id, entry_bytes);
      {
        const BatchApplier::Keys keys{item.path_hash, item.parent_hash, item.has_parent};
        return applier->Put(id, flatbuffers::GetRoot<fb::MediaFile>(payload), location, entry_bytes, mode,
                            &keys);
      }
    case Table::kPlaylist:
      return item.op == Op::kRemove
                 ? applier->RemovePlaylist(id, entry_bytes)
                 : applier->PutPlaylist(id, flatbuffers::GetRoot<fb::Playlist>(payload), location,
                                        entry_bytes, mode);
    case Table::kPlaylistEntry:
      return item.op == Op::kRemove
                 ? applier->RemovePlaylistEntry(id, entry_bytes)
                 : applier->PutPlaylistEntry(id, flatbuffers::GetRoot<fb::PlaylistEntry>(payload),
                                             location, entry_bytes, mode);
    case Table::kDirectory:
      return applier->PutDirectoryName(flatbuffers::GetRoot<fb::Directory>(payload), location);
  }
  return Status::OK();
}

Status StoreImpl::CommitMeta(MetaPage* meta) {
  meta->next_file_number = std::max(meta->next_file_number, next_file_number_.load());
  Status s = WriteMetaPage(meta_file_.get(), meta, sync_.load(std::memory_order_relaxed));
  if (s.ok()) return s;
  // The page may have reached the disk even though the write or sync failed.
  // Invalidate its slot (the committed page is in the other one) so the
  // commit is certainly not there; only if that fails too is it in doubt.
  std::vector<uint8_t> zero(kMetaPageSize, 0);
  Status undo = meta_file_->PWrite((meta->sequence % 2) * kMetaPageSize, zero.data(), zero.size());
  if (undo.ok()) undo = meta_file_->Sync();
  if (undo.ok()) return Status::IOError(s.message() + " (nothing of this commit was stored)");
  sticky_error_ = Status::IOError(s.message() + "; the last commit is in doubt: reopen the store");
  return sticky_error_;
}

Status StoreImpl::SetOption(std::string_view name, std::string_view value) {
  std::lock_guard<std::mutex> g(write_mu_);
  if (name == "sync") {
    bool on = true;
    ZC_RETURN_IF_ERROR(ParseSwitch(value, "sync", &on));
    sync_.store(on, std::memory_order_relaxed);
    return Status::OK();
  }
  if (name == "memory_budget") {
    uint64_t bytes = 0;
    ZC_RETURN_IF_ERROR(ParseByteSize(value, "memory_budget", &bytes));
    Options check = options_;
    check.memory_budget = static_cast<size_t>(bytes);
    ZC_RETURN_IF_ERROR(ValidateOptions(check));
    profile_ = MemoryProfile::ForBudget(check.memory_budget);
    lookup_cache_->SetCapacity(LookupCacheCapacity());
    batch_records_.store(profile_.batch_records, std::memory_order_relaxed);
    memory_budget_.store(check.memory_budget, std::memory_order_relaxed);
    return Status::OK();
  }
  if (name == "lookup_cache") {
    ZC_RETURN_IF_ERROR(ParseSwitch(value, "lookup_cache", &lookup_cache_on_));
    lookup_cache_->SetCapacity(LookupCacheCapacity());
    return Status::OK();
  }
  return Status::InvalidArgument("setting '" + std::string(name) +
                                 "' cannot change while the store is open; sync, memory_budget and "
                                 "lookup_cache can "
                                 "(reopen the store with the new Options for the others)");
}

Status StoreImpl::CompactIndexes() {
  return counters_->CountError(NoThrow("compact the indexes", [&] { return CompactIndexesLocked(); }));
}

void StoreImpl::CountCommittedBatch(const WriteBatch::Rep& rep, uint64_t appended_bytes) {
  uint64_t stored = 0, updated = 0, removed = 0;
  for (const WriteBatch::Rep::Item& item : rep.items) {
    if (item.table != Table::kMedia) continue;  // the records_* counters are media files
    switch (item.op) {
      case WriteBatch::Rep::Op::kPut: ++stored; break;
      case WriteBatch::Rep::Op::kUpdate: ++updated; break;
      case WriteBatch::Rep::Op::kRemove: ++removed; break;
    }
  }
  auto add = [](std::atomic<uint64_t>& c, uint64_t n) { c.fetch_add(n, std::memory_order_relaxed); };
  add(counters_->records_stored, stored);
  add(counters_->records_updated, updated);
  add(counters_->records_removed, removed);
  add(counters_->bytes_appended, appended_bytes);
  add(counters_->batches, rep.items.empty() ? 0 : 1);
  add(counters_->commits, 1);
}

namespace {
// Sizes of a view's segments and runs, for Info and GetStats.
struct ViewSizes {
  uint64_t segment_bytes = 0, index_bytes = 0, index_runs = 0, memtable_records = 0;
};
ViewSizes SizesOf(const ReadView& view) {
  ViewSizes z;
  for (const SegmentRef& seg : view.segments) z.segment_bytes += seg.committed;
  for (uint32_t k = 0; k < kRunKinds; ++k)
    for (const RunPtr& r : view.runs[k]) {
      if (r->in_memory()) {
        if (k == kIdIndex) z.memtable_records += r->size();
      } else {
        ++z.index_runs;
        z.index_bytes += r->file_bytes();
      }
    }
  return z;
}
}  // namespace

StoreStats StoreImpl::GetStats() {
  std::shared_ptr<const Snapshot> snap = GetSnapshot();
  const ReadView& view = static_cast<const SnapshotImpl&>(*snap).view();
  StoreStats s;
  const StoreCounters& c = *counters_;
  s.records_stored = c.records_stored.load(std::memory_order_relaxed);
  s.records_updated = c.records_updated.load(std::memory_order_relaxed);
  s.records_removed = c.records_removed.load(std::memory_order_relaxed);
  s.bytes_appended = c.bytes_appended.load(std::memory_order_relaxed);
  s.batches = c.batches.load(std::memory_order_relaxed);
  s.commits = c.commits.load(std::memory_order_relaxed);
  s.checkpoints = c.checkpoints.load(std::memory_order_relaxed);
  s.index_merges = c.index_merges.load(std::memory_order_relaxed);
  s.lookups = c.Lookups();
  for (int i = 0; i < kStatusCodeCount; ++i) s.errors[i] = c.errors[i].load(std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> g(stats_mu_);
    const auto now = std::chrono::steady_clock::now();
    const uint64_t records = s.records_stored + s.records_updated + s.records_removed;
    s.interval_seconds = std::chrono::duration<double>(now - stats_interval_start_).count();
    if (s.interval_seconds > 0)
      s.records_per_second = static_cast<double>(records - stats_interval_records_) / s.interval_seconds;
    stats_interval_start_ = now;
    stats_interval_records_ = records;
  }
  s.sequence = view.sequence;
  s.record_count = view.record_count;
  s.playlists = view.playlist_count;
  s.playlist_entries = view.entry_count;
  for (int f = 0; f < kMimeFamilies; ++f) {
    s.files[f] = view.totals.files[f];
    s.bytes[f] = view.totals.bytes[f];
  }
  s.dead_bytes = view.dead_bytes;
  const ViewSizes sizes = SizesOf(view);
  s.segment_bytes = sizes.segment_bytes;
  s.index_bytes = sizes.index_bytes;
  s.index_runs = sizes.index_runs;
  s.memtable_records = sizes.memtable_records;
  s.process_anon_bytes = ProcessAnonBytes();
  s.memory_budget = memory_budget_.load(std::memory_order_relaxed);
  const LookupCacheStats cache = lookup_cache_->Stats();
  s.cache_hits = cache.hits;
  s.cache_misses = cache.misses;
  s.cache_inserts = cache.inserts;
  s.cache_evictions = cache.evictions;
  s.cache_entries = cache.entries;
  s.cache_bytes = cache.bytes;
  s.cache_capacity = cache.capacity;
  return s;
}

Status StoreImpl::Compact(CompactionResult* result) {
  return NoThrow("compact " + dir_, [&] { return CompactLocked(result); });
}

Status StoreImpl::CompactIndexesLocked() {
  std::unique_lock<std::mutex> g(write_mu_);
  if (options_.read_only) return Status::ReadOnly(dir_ + ": store was opened read-only");
  ZC_RETURN_IF_ERROR(WaitForWriter(g));
  ZC_RETURN_IF_ERROR(sticky_error_);
  ZC_RETURN_IF_ERROR(DiscardPrepared());
  ZC_RETURN_IF_ERROR(FinishBackgroundWork());
  ReadView view;
  {
    std::lock_guard<std::mutex> s(snapshot_mu_);
    view = current_->view();
  }
  bool single = true;
  for (uint32_t k = 0; k < kRunKinds; ++k)
    single = single && view.runs[k].size() <= 1 && (view.runs[k].empty() || !view.runs[k][0]->in_memory());
  if (single) return Status::OK();
  MetaPage meta = meta_;
  std::vector<std::pair<uint32_t, uint32_t>> obsolete;
  ZC_RETURN_IF_ERROR(Checkpoint(&view, &meta, /*merge_everything=*/true, &obsolete));
  meta.sequence += 1;
  view.sequence = meta.sequence;
  ZC_RETURN_IF_ERROR(CommitMeta(&meta));
  meta_ = meta;
  RemoveObsoleteRuns(obsolete);
  Publish(std::move(view));
  return Status::OK();
}

StoreInfo StoreImpl::Info() {
  std::shared_ptr<const Snapshot> snap = GetSnapshot();
  std::lock_guard<std::mutex> g(write_mu_);
  const ReadView& view = static_cast<const SnapshotImpl&>(*snap).view();
  StoreInfo info;
  info.sequence = view.sequence;
  info.record_count = view.record_count;
  info.next_id = view.next_id;
  info.segment_count = view.segments.size();
  const ViewSizes sizes = SizesOf(view);
  info.segment_bytes = sizes.segment_bytes;
  info.index_bytes = sizes.index_bytes;
  info.index_runs = sizes.index_runs;
  info.memtable_records = sizes.memtable_records;
  std::vector<std::string> names;
  if (env_->ListDir(dir_, &names).ok()) {
    for (const std::string& name : names) {
      std::unique_ptr<File> f;
      uint64_t size = 0;
      if (env_->OpenFile(dir_ + "/" + name, Env::OpenMode::kReadOnly, &f).ok() && f->Size(&size).ok())
        info.disk_bytes += size;
    }
  }
  return info;
}

}  // namespace zcmedia
