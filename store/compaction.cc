// StoreImpl::Compact (store.h): the live records rewritten into new
// segments, the indexes built again from them, all committed by one meta
// page. docs/format.md, "Compaction", has the protocol; this file is it.
//
// Why a full rewrite rather than segment-by-segment relocation: index
// entries point at record locations, so every moved record needs new
// entries in every index. Relocating through the write path would tombstone
// and re-add each of them (index growth until the next merge) and read the
// indexes once per record; rewriting everything in id order produces each
// index once, without tombstones, and leaves the records in id order on
// disk (sequential full scans). Its cost is proportional to the live data;
// `zcmedia stats` shows dead_bytes so that a user compacts when it pays.
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "directory_tree.h"
#include "playlist_codec.h"
#include "store_impl.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

using namespace format;

namespace {

// One live record to copy: the verified entry (its record in the base
// view's mapping, as replay gets it from ReadBatch) and where it lies there.
struct LiveEntry {
  BatchEntry entry;
  uint64_t location;
};
LiveEntry Live(uint64_t location, uint32_t bytes, const fb::MediaFile* r) {
  LiveEntry e{{EntryKind::kPutMedia, r->id(), LocationOffset(location), bytes}, location};
  e.entry.record = r;
  return e;
}
LiveEntry Live(uint64_t location, uint32_t bytes, const fb::Playlist* r) {
  LiveEntry e{{EntryKind::kPutPlaylist, r->id(), LocationOffset(location), bytes}, location};
  e.entry.playlist = r;
  return e;
}
LiveEntry Live(uint64_t location, uint32_t bytes, const fb::PlaylistEntry* r) {
  LiveEntry e{{EntryKind::kPutPlaylistEntry, r->id(), LocationOffset(location), bytes}, location};
  e.entry.playlist_entry = r;
  return e;
}
LiveEntry Live(uint64_t location, uint32_t bytes, const fb::Directory* r) {
  LiveEntry e{{EntryKind::kPutDirectory, 0, LocationOffset(location), bytes}, location};
  e.entry.directory = r;
  return e;
}

}  // namespace

// Appends live entries to new segments batch by batch and works out their
// index entries as each batch is written (the entries are the base view's,
// verified when read, copied byte for byte: an entry's checksum does not
// depend on where it lies). Index entries are gathered in memory up to the
// profile's memtable size, sorted and written out as one run file per
// index (a spill); Finish merges each index's spills into its one file.
// Every entry is written twice (spill, merge) and never merged in tiers.
// The id index and the tree index are the exceptions: their entries come
// in run order already (records in id order; the tree's counts and links,
// then its names, each in key order), so they are streamed straight into
// their final run files (RunFileWriter): no sort, no spill, no merge.
//
// Two threads share the work: this one reads, verifies and copies the
// records and writes the batches; the indexer thread works out each
// written batch's index entries (the applier), gathers them and writes the
// spills. Batches go to it through a short queue (kQueuedBatches), so
// neither waits for the other unless it is ahead by that much. The final
// merges then run on both threads.
class StoreImpl::SegmentRewriter {
 public:
  SegmentRewriter(StoreImpl* store, MetaPage* meta, const ReadView& empty_view, const MemoryProfile& profile,
                  size_t batch_bytes)
      : store_(store), meta_(meta), empty_view_(empty_view), profile_(profile), batch_bytes_(batch_bytes) {
    body_.reserve(batch_bytes_);
    try {
      indexer_ = std::thread([this] { IndexerLoop(); });
    } catch (const std::system_error&) {
      // No thread to be had: Submit indexes each batch on this thread.
    }
  }

  const std::vector<uint32_t>& created_segments() const { return created_segments_; }
  // Call only after Finish or after a failure (it stops the indexer).
  std::vector<std::pair<uint32_t, uint32_t>> created_runs() {
    (void)StopIndexer();
    return created_runs_;
  }
  // The spill runs (merged away and unlinked by Finish: their last close
  // frees their blocks), for the caller to drop where it pleases.
  std::vector<RunPtr> TakeSpills() {
    std::vector<RunPtr> all;
    for (auto& runs : spills_) {
      all.insert(all.end(), runs.begin(), runs.end());
      runs.clear();
    }
    return all;
  }
  uint64_t records() const { return records_; }          // media files, playlists, entries
  uint64_t directories() const { return directories_; }  // Directory records kept

  Status Add(const ReadView& base, const LiveEntry& e) {
    if (body_.size() + e.entry.entry_bytes > batch_bytes_ && !pending_.empty()) ZC_RETURN_IF_ERROR(Flush());
    Status s;
    const SegmentRef* ref = base.SegmentOf(e.location, &s);
    if (ref == nullptr) return s;
    const uint8_t* bytes = ref->segment->base() + LocationOffset(e.location);
    const size_t at = body_.size();
    body_.insert(body_.end(), bytes, bytes + e.entry.entry_bytes);
    pending_.push_back({e, at});
    return Status::OK();
  }

  // An index entry that does not depend on where records lie (the tree's
  // counts and links), taken over as it is. They reach the indexer before
  // any record Added after them.
  Status AddIndexEntry(uint32_t kind, const RunEntry& e) {
    taken_.taken.push_back({kind, e});
    return taken_.taken.size() < kTakenPerJob ? Status::OK() : Submit(std::move(taken_));
  }

  // Writes the batch being built and hands it to the indexer.
  Status Flush() {
    if (pending_.empty()) return Status::OK();
    const uint64_t batch_bytes = sizeof(BatchHeader) + body_.size();
    if (segments_.empty() || active_length_ + batch_bytes > store_->options_.segment_max_bytes)
      ZC_RETURN_IF_ERROR(NewSegment(batch_bytes));
    BatchHeader h{};
    h.magic = kBatchMagic;
    h.format_version = kFormatVersion;
    h.sequence = meta_->sequence + 1;  // the commit that installs the rewrite
    h.entry_count = static_cast<uint32_t>(pending_.size());
    h.body_length = body_.size();
    h.body_checksum = Checksum64(body_.data(), body_.size());
    h.header_checksum = Checksum64(&h, offsetof(BatchHeader, header_checksum));
    File* file = segments_.back()->file();
    ZC_RETURN_IF_ERROR(file->PWrite(active_length_, &h, sizeof(h)));
    ZC_RETURN_IF_ERROR(file->PWrite(active_length_ + sizeof(h), body_.data(), body_.size()));
    const uint32_t number = segments_.back()->number();
    const uint64_t body_offset = active_length_ + sizeof(h);
    active_length_ += batch_bytes;
    meta_->segments[meta_->segment_count - 1].committed_length = active_length_;
    if (active_length_ - written_back_ >= kWriteBackBytes) {  // the final Sync then waits for the tail only
      file->StartWriteBack(written_back_, active_length_ - written_back_);
      written_back_ = active_length_;
    }

    if (!taken_.taken.empty()) ZC_RETURN_IF_ERROR(Submit(std::move(taken_)));  // first, as they came first
    IndexJob job;
    job.puts.reserve(pending_.size());
    for (const Pending& p : pending_) {
      job.puts.push_back({p.entry.entry, MakeLocation(number, body_offset + p.body_offset)});
      (p.entry.entry.kind == EntryKind::kPutDirectory ? directories_ : records_) += 1;
    }
    pending_.clear();
    body_.clear();
    return Submit(std::move(job));
  }

  ~SegmentRewriter() { (void)StopIndexer(); }

  // After the last Flush: the data made durable, each index merged into
  // one run file, the result in view->runs and the meta page (with the
  // checkpoint at the end of the new log).
  Status Finish(ReadView* view) {
    if (!taken_.taken.empty()) ZC_RETURN_IF_ERROR(Submit(std::move(taken_)));
    ZC_RETURN_IF_ERROR(StopIndexer());  // every batch indexed; this thread owns gathered_ and spills_ now
    ZC_RETURN_IF_ERROR(EnsureSegment());
    ZC_RETURN_IF_ERROR(segments_.back()->file()->Sync());  // earlier ones were synced when full
    ZC_RETURN_IF_ERROR(SpillNow(gathered_));
    RunPtr streamed[kRunKinds];
    for (uint32_t k = 0; k < kRunKinds; ++k)
      if (streams_[k]) ZC_RETURN_IF_ERROR(streams_[k]->Finish(/*sync=*/true, &streamed[k]));
    // The final merges, shared between this thread and another: each takes
    // the largest index not yet taken (the category index alone is about
    // as large as the path and directory indexes together), so the two
    // finish close together.
    std::array<uint32_t, kRunKinds> order;
    std::array<uint64_t, kRunKinds> entries{};
    for (uint32_t k = 0; k < kRunKinds; ++k) {
      order[k] = k;
      for (const RunPtr& r : spills_[k]) entries[k] += r->size();
    }
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return entries[a] > entries[b]; });
    std::atomic<uint32_t> next_kind{0};
    Status merge_status[kRunKinds];
    auto merge_kind = [&](uint32_t k) {
      view->runs[k].clear();
      if (!NeedsMerge(k)) {
        view->runs[k] = spills_[k];
        return;
      }
      RunPtr merged;
      merge_status[k] = NoThrowStatus([&] {
        return WriteMergedRunFile(store_->env_, store_->dir_, k, ReserveRunNumber(k), spills_[k],
                                  /*drop_tombstones=*/true, profile_.run_write_buffer, &merged);
      });
      if (merge_status[k].ok()) view->runs[k] = {merged};
    };
    auto merge_kinds = [&] {
      for (uint32_t i = next_kind.fetch_add(1); i < kRunKinds; i = next_kind.fetch_add(1)) merge_kind(order[i]);
    };
    std::thread helper;
    try {
      helper = std::thread(merge_kinds);
    } catch (const std::system_error&) {
      // No thread to be had: this one merges them all.
    }
    merge_kinds();
    if (helper.joinable()) helper.join();
    for (uint32_t k = 0; k < kRunKinds; ++k)
      if (streamed[k]) view->runs[k] = {streamed[k]};  // (nothing of these kinds was spilled)
    ZC_RETURN_IF_ERROR(SyncSoleSpills());
    for (uint32_t k = 0; k < kRunKinds; ++k) {
      ZC_RETURN_IF_ERROR(merge_status[k]);
      if (!NeedsMerge(k)) continue;
      std::vector<std::pair<uint32_t, uint32_t>> merged_away;
      for (const RunPtr& r : spills_[k]) merged_away.push_back({k, r->file_number()});
      store_->RemoveRunFiles(merged_away);
    }
    ZC_RETURN_IF_ERROR(store_->env_->SyncDir(store_->dir_));
    for (uint32_t k = 0; k < kRunKinds; ++k)
      for (const RunPtr& r : view->runs[k]) store_->run_cache_[{k, r->file_number()}] = r;
    const MetaSegment& last = meta_->segments[meta_->segment_count - 1];
    meta_->checkpoint_segment = last.number;
    meta_->checkpoint_offset = last.committed_length;
    store_->RecordRuns(*view, meta_);
    return store_->SetSegments(*meta_, view);
  }

 private:
  struct Pending {
    LiveEntry entry;
    size_t body_offset;
  };

  // Whether kind k's spills go through a final merge: when there are
  // several, and when a single one lacks the Bloom filter its index keeps.
  bool NeedsMerge(uint32_t k) const { return spills_[k].size() > 1 || (spills_[k].size() == 1 && HasFilter(k)); }

  // The spill files that are their index's only run (not merged) made
  // durable before the commit names them.
  Status SyncSoleSpills() {
    for (uint32_t k = 0; k < kRunKinds; ++k) {
      if (NeedsMerge(k) || spills_[k].empty()) continue;
      std::unique_ptr<File> file;
      ZC_RETURN_IF_ERROR(store_->env_->OpenFile(store_->dir_ + "/" + RunFileName(k, spills_[k][0]->file_number()),
                                               Env::OpenMode::kReadWrite, &file));
      ZC_RETURN_IF_ERROR(file->Sync());
    }
    return Status::OK();
  }

  // An empty store still needs its one (empty) segment.
  Status EnsureSegment() { return segments_.empty() ? NewSegment(0) : Status::OK(); }

  Status NewSegment(uint64_t batch_bytes) {
    if (kSegmentHeaderSize + batch_bytes > store_->options_.segment_max_bytes)
      return Status::InvalidArgument("a record does not fit in a segment (segment_max_bytes)");
    if (segments_.empty()) meta_->segment_count = 0;  // the new list replaces the old one
    if (meta_->segment_count == kMaxSegments)
      return Status::IOError(store_->dir_ + ": compaction needs more than " + std::to_string(kMaxSegments) +
                             " segments; raise segment_max_bytes");
    const uint32_t number = store_->next_file_number_.fetch_add(1);
    if (number > kMaxSegmentNumber) return Status::IOError(store_->dir_ + ": the store has run out of segment numbers");
    SegmentPtr seg;
    created_segments_.push_back(number);
    ZC_RETURN_IF_ERROR(Segment::Create(store_->env_, store_->dir_, number, store_->options_.segment_max_bytes, &seg));
    if (!segments_.empty()) ZC_RETURN_IF_ERROR(segments_.back()->file()->Sync());  // full: durable now
    segments_.push_back(seg);
    store_->segment_cache_[number] = seg;
    meta_->segments[meta_->segment_count++] = {number, 0, kSegmentHeaderSize};
    active_length_ = kSegmentHeaderSize;
    written_back_ = 0;
    return Status::OK();
  }

  // ---- the indexer ----

  // A written batch's entries with their new locations, and index entries
  // taken over as they are; the records stay in the base view's mapping.
  struct IndexJob {
    std::vector<std::pair<BatchEntry, uint64_t>> puts;
    std::vector<std::pair<uint32_t, RunEntry>> taken;
  };

  // Queues `job` for the indexer (waiting while kQueuedBatches are queued);
  // the indexer's first failure is returned by the next Submit.
  Status Submit(IndexJob&& job) {
    if (!indexer_.joinable()) {
      IndexJob local = std::move(job);  // the caller's job is spent either way
      return Index(local);
    }
    std::unique_lock<std::mutex> l(jobs_mu_);
    jobs_cv_.wait(l, [&] { return jobs_.size() < kQueuedBatches || !indexer_status_.ok(); });
    if (!indexer_status_.ok()) return indexer_status_;
    jobs_.push_back(std::move(job));
    jobs_cv_.notify_all();
    return Status::OK();
  }

  // Lets the indexer finish the queued jobs and joins it; its status.
  Status StopIndexer() {
    if (indexer_.joinable()) {
      {
        std::lock_guard<std::mutex> l(jobs_mu_);
        no_more_jobs_ = true;
      }
      jobs_cv_.notify_all();
      indexer_.join();
    }
    return indexer_status_;
  }

  void IndexerLoop() {
    for (;;) {
      IndexJob job;
      {
        std::unique_lock<std::mutex> l(jobs_mu_);
        jobs_cv_.wait(l, [&] { return !jobs_.empty() || no_more_jobs_; });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
        if (!indexer_status_.ok()) continue;  // failed: the rest is dropped
      }
      jobs_cv_.notify_all();  // room in the queue
      Status s = NoThrowStatus([&] { return Index(job); });
      if (!s.ok()) {
        std::lock_guard<std::mutex> l(jobs_mu_);
        indexer_status_ = s;
        jobs_cv_.notify_all();
      }
    }
  }

  // The index entries of `job`, gathered; a spill when the gathered
  // entries fill their share of the budget. The applier is the one replay
  // uses: every id is new to it (its base is empty), so it reads nothing,
  // it only emits keys and sums the totals. Only the indexer touches the
  // totals of meta_ (record_count, family counts); this thread the segment
  // list.
  Status Index(IndexJob& job) {
    for (const auto& [kind, e] : job.taken) ZC_RETURN_IF_ERROR(Gather(kind, &e, 1));
    if (!job.puts.empty()) {
      BatchApplier applier(empty_view_, /*check_constraints=*/false, job.puts.size());
      applier.set_track_directories(false);  // the tree's counts are taken over (AddIndexEntry)
      for (const auto& [entry, location] : job.puts) ZC_RETURN_IF_ERROR(ApplyLogged(entry, location, &applier));
      meta_->record_count =
          static_cast<uint64_t>(static_cast<int64_t>(meta_->record_count) + applier.record_delta());
      AddTotals(applier, meta_);
      for (uint32_t k = 0; k < kRunKinds; ++k) {
        const std::vector<RunEntry> entries = applier.TakeUnsortedEntries(k);
        ZC_RETURN_IF_ERROR(Gather(k, entries.data(), entries.size()));
      }
    }
    // Counted by capacity, not size: vectors grow by doubling, and the heap
    // holds what they reserved.
    size_t reserved = 0;
    for (const auto& g : gathered_) reserved += g.capacity() * sizeof(RunEntry);
    return reserved > profile_.memtable_bytes ? SpillNow(gathered_) : Status::OK();
  }

  // Sorts `entries` and writes them as one run file per index. Every
  // identity occurs once, and no entry is a tombstone, so (key, value)
  // order is the runs' (key, identity) order. Spills are temporary:
  // written unsynced and without a Bloom filter, they are merged into a
  // synced file with one and removed before the commit, except a sole
  // spill of an index without a filter, which Finish syncs
  // (SyncSoleSpills) and keeps.
  Status SpillNow(std::vector<RunEntry> (&entries)[kRunKinds]) {
    for (uint32_t k = 0; k < kRunKinds; ++k) {
      if (entries[k].empty()) continue;
      SortByKeyAndValue(entries[k].data(), entries[k].data() + entries[k].size());
      std::unique_ptr<RunFileWriter> writer;
      ZC_RETURN_IF_ERROR(RunFileWriter::Create(store_->env_, store_->dir_, k, ReserveRunNumber(k),
                                               profile_.run_write_buffer, &writer, /*with_filter=*/false));
      for (const RunEntry& e : entries[k]) ZC_RETURN_IF_ERROR(writer->Add(e));
      std::vector<RunEntry>().swap(entries[k]);  // its capacity back to the heap (and out of the count)
      RunPtr file;
      ZC_RETURN_IF_ERROR(writer->Finish(/*sync=*/false, &file));
      spills_[k].insert(spills_[k].begin(), file);  // newest first, as runs are kept
    }
    return Status::OK();
  }

  static bool Streamed(uint32_t kind) { return kind == kIdIndex || kind == kTreeIndex; }

  // Index entries of `kind`: to the kind's stream, or gathered for a spill.
  Status Gather(uint32_t kind, const RunEntry* entries, size_t n) {
    if (n == 0) return Status::OK();
    if (!Streamed(kind)) {
      gathered_[kind].insert(gathered_[kind].end(), entries, entries + n);
      return Status::OK();
    }
    if (!streams_[kind])
      ZC_RETURN_IF_ERROR(RunFileWriter::Create(store_->env_, store_->dir_, kind, ReserveRunNumber(kind),
                                               profile_.run_write_buffer, &streams_[kind]));
    for (size_t i = 0; i < n; ++i) ZC_RETURN_IF_ERROR(streams_[kind]->Add(entries[i]));
    return Status::OK();
  }

  // A new run file number, recorded so that a failed compaction removes
  // the file. Thread-safe: the indexer and the final merges call it.
  uint32_t ReserveRunNumber(uint32_t kind) {
    const uint32_t number = store_->next_file_number_.fetch_add(1);
    std::lock_guard<std::mutex> g(created_mu_);
    created_runs_.push_back({kind, number});
    return number;
  }

  // A Status for an exception escaping `body` (allocation failure on a
  // helper thread must not terminate the process).
  template <typename Body>
  static Status NoThrowStatus(Body&& body) {
    try {
      return body();
    } catch (const std::exception& e) {
      return Status::IOError(std::string("compaction: ") + e.what());
    }
  }

  StoreImpl* const store_;
  MetaPage* const meta_;
  const ReadView& empty_view_;
  const MemoryProfile profile_;
  const size_t batch_bytes_;
  std::vector<uint8_t> body_;
  std::vector<Pending> pending_;
  std::vector<SegmentPtr> segments_;
  std::vector<uint32_t> created_segments_;
  std::vector<std::pair<uint32_t, uint32_t>> created_runs_;
  IndexJob taken_;  // AddIndexEntry's entries not yet submitted
  // The indexer owns gathered_, spills_ and streams_ until StopIndexer.
  std::vector<RunEntry> gathered_[kRunKinds];
  std::vector<RunPtr> spills_[kRunKinds];
  std::unique_ptr<RunFileWriter> streams_[kRunKinds];  // of the Streamed kinds
  std::thread indexer_;
  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::deque<IndexJob> jobs_;     // GUARDED_BY jobs_mu_
  bool no_more_jobs_ = false;     // GUARDED_BY jobs_mu_
  Status indexer_status_;         // GUARDED_BY jobs_mu_ while the indexer runs
  static constexpr size_t kQueuedBatches = 2;
  static constexpr size_t kTakenPerJob = 4096;
  std::mutex created_mu_;
  uint64_t active_length_ = 0;
  uint64_t written_back_ = 0;  // of the active segment, handed to StartWriteBack
  uint64_t records_ = 0;
  uint64_t directories_ = 0;
  static constexpr uint64_t kWriteBackBytes = 8 << 20;
};

Status StoreImpl::CompactLocked(CompactionResult* result) {
  std::unique_lock<std::mutex> g(write_mu_);
  if (options_.read_only) return Status::ReadOnly(dir_ + ": store was opened read-only");
  ZC_RETURN_IF_ERROR(WaitForWriter(g));
  ZC_RETURN_IF_ERROR(sticky_error_);
  ZC_RETURN_IF_ERROR(DiscardPrepared());
  ZC_RETURN_IF_ERROR(FinishBackgroundWork());
  if (compaction_retirer_.joinable()) compaction_retirer_.join();
  std::shared_ptr<const SnapshotImpl> base_snapshot;
  {
    std::lock_guard<std::mutex> s(snapshot_mu_);
    base_snapshot = current_;
  }
  const ReadView& base = base_snapshot->view();
  CompactionResult res;
  for (const SegmentRef& ref : base.segments) res.bytes_before += ref.committed;

  // The new state: same ids, sequences and counters to come from the
  // rewrite; no runs yet; totals summed again as the records are indexed.
  MetaPage meta = meta_;
  for (uint32_t k = 0; k < kRunKinds; ++k) meta.run_count[k] = 0;
  meta.record_count = 0;
  std::fill(std::begin(meta.family_files), std::end(meta.family_files), 0);
  std::fill(std::begin(meta.family_bytes), std::end(meta.family_bytes), 0);
  meta.dead_bytes = 0;
  meta.playlist_count = 0;
  meta.entry_count = 0;
  meta.noncanonical_files = 0;
  meta.null_canonical_files = 0;
  meta.parent_prefix_files = 0;
  ReadView view;
  view.sequence = meta.sequence;
  SetIdSequences(meta, &view);

  // The budget goes to the index build: no caller holds a WriteBatch now,
  // so the gathered index entries get a quarter of it (one set, which the
  // indexer sorts and writes out in place) and the batch being copied a
  // sixteenth. (Writing the batches on a third thread while the next is
  // copied was measured slower: 1.56 s against 1.42 s, on two cores.)
  const size_t budget = memory_budget_.load();
  MemoryProfile profile = MemoryProfile::ForBudget(budget);
  profile.memtable_bytes = std::max<size_t>(budget / 4, profile.memtable_bytes);
  const size_t batch_bytes = std::clamp<size_t>(budget / 16, 64 << 10, 4 << 20);
  ReadView empty = view;  // ids and sequences only: what the applier's base needs
  SegmentRewriter rewriter(this, &meta, empty, profile, batch_bytes);
  Status s = RewriteLive(base, &rewriter);
  if (s.ok()) s = rewriter.Flush();
  // Data durable, indexes written out whole, then the commit point.
  if (s.ok()) s = rewriter.Finish(&view);
  if (s.ok()) {
    meta.sequence += 1;
    view.sequence = meta.sequence;
    view.record_count = meta.record_count;
    SetTotals(meta, &view);
    s = CommitMeta(&meta);
  }
  if (!s.ok()) {
    // Nothing references the new files (CommitMeta makes sure a failed
    // commit did not take effect): remove them; the old state stands.
    for (uint32_t number : rewriter.created_segments()) {
      segment_cache_.erase(number);
      (void)env_->RemoveFile(dir_ + "/" + SegmentFileName(number));
    }
    const auto created_runs = rewriter.created_runs();
    RemoveRunFiles(created_runs);
    for (const auto& run : created_runs) run_cache_.erase(run);
    return s;
  }

  // Committed. The old files go; snapshots still holding them keep their
  // mappings (an unlinked file stays readable while mapped).
  const MetaPage old = meta_;
  meta_ = meta;
  replayed_segment_ = meta.segments[meta.segment_count - 1].number;
  replayed_offset_ = meta.segments[meta.segment_count - 1].committed_length;
  std::vector<std::pair<uint32_t, uint32_t>> old_runs;
  for (uint32_t k = 0; k < kRunKinds; ++k)
    for (uint32_t i = 0; i < old.run_count[k]; ++i) old_runs.push_back({k, old.runs[k][i]});
  RemoveObsoleteRuns(old_runs);
  for (uint32_t i = 0; i < old.segment_count; ++i) {
    segment_cache_.erase(old.segments[i].number);
    (void)env_->RemoveFile(dir_ + "/" + SegmentFileName(old.segments[i].number));
  }
  for (uint32_t i = 0; i < meta.segment_count; ++i) res.bytes_after += meta.segments[i].committed_length;
  res.records = rewriter.records();
  res.directories = rewriter.directories();
  res.segments_before = old.segment_count;
  res.segments_after = meta.segment_count;
  Publish(std::move(view));
  counters_->commits.fetch_add(1, std::memory_order_relaxed);
  if (result != nullptr) *result = res;
  // The old files and the merged-away spills go on another thread
  // (compaction_retirer_); readers' snapshots may still hold the old files,
  // and then the last of those frees them.
  try {
    compaction_retirer_ =
        std::thread([old = std::move(base_snapshot), spills = rewriter.TakeSpills()]() mutable {
          old.reset();
          spills.clear();
        });
  } catch (const std::system_error&) {
    // No thread to be had: freed here, when base_snapshot and rewriter go.
  }
  return Status::OK();
}

Status StoreImpl::RewriteLive(const ReadView& base, SegmentRewriter* rewriter) {
  // Media files in id order: the id index merged (newest wins, removals
  // dropped), every run verified first because the walk reads all of it.
  for (const RunPtr& run : base.runs[kIdIndex]) ZC_RETURN_IF_ERROR(run->VerifyAll());
  for (const RunPtr& run : base.runs[kPlaylistIndex]) ZC_RETURN_IF_ERROR(run->VerifyAll());
  Status status;
  MergeRuns(kIdIndex, base.runs[kIdIndex], /*drop_tombstones=*/true, [&](const RunEntry& e) {
    if (!status.ok()) return;
    const fb::MediaFile* rec = nullptr;
    uint32_t bytes = 0;
    status = base.RecordAt(e.value, &rec, &bytes);
    if (status.ok() && rec->id() != static_cast<int64_t>(e.key))
      status = Status::Corruption("id index entry for " + std::to_string(e.key) + " points at record " +
                                  std::to_string(rec->id()) + "; run `zcmedia check --repair`");
    if (status.ok()) status = rewriter->Add(base, Live(e.value, bytes, rec));
  });
  ZC_RETURN_IF_ERROR(status);
  // Then playlists and entries, each in id order (their id key spaces).
  for (const PlaylistKeySpace space : {PlaylistKeySpace::kPlaylistById, PlaylistKeySpace::kEntryById}) {
    const uint64_t first = PlaylistIdKey(space, 0), last = PlaylistIdKey(space, kMaxPlaylistId);
    std::vector<EntryRange> ranges;
    for (const RunPtr& run : base.runs[kPlaylistIndex]) {
      ranges.push_back({run->LowerBound(first), run->LowerBound(last + 1)});
    }
    MergeRanges(kPlaylistIndex, ranges, /*drop_tombstones=*/true, [&](const RunEntry& e) {
      if (!status.ok()) return;
      const uint64_t location = e.value;
      uint32_t bytes = 0;
      if (space == PlaylistKeySpace::kPlaylistById) {
        const fb::Playlist* rec = nullptr;
        status = base.PlaylistAt(location, &rec, &bytes);
        if (status.ok()) status = rewriter->Add(base, Live(location, bytes, rec));
      } else {
        const fb::PlaylistEntry* rec = nullptr;
        status = base.PlaylistEntryAt(location, &rec, &bytes);
        if (status.ok())
          status = rewriter->Add(base, Live(location, bytes, rec));
      }
    });
    ZC_RETURN_IF_ERROR(status);
  }
  // The directory tree: counts and links as they are; the names of the
  // directories that still hold files copied like records (a directory
  // that is empty has only empty ones below it, so every named directory's
  // ancestors stay named).
  for (const RunPtr& run : base.runs[kTreeIndex]) ZC_RETURN_IF_ERROR(run->VerifyAll());
  const uint64_t first_name = TreeKey(TreeSpace::kName, 0);
  std::vector<EntryRange> counts_and_links, names;
  for (const RunPtr& run : base.runs[kTreeIndex]) {
    counts_and_links.push_back({run->begin(), run->LowerBound(first_name)});
    names.push_back({run->LowerBound(first_name), run->LowerBound(TreeKey(TreeSpace::kName, ~uint64_t{0}) + 1)});
  }
  MergeRanges(kTreeIndex, counts_and_links, /*drop_tombstones=*/true, [&](const RunEntry& e) {
    if (status.ok()) status = rewriter->AddIndexEntry(kTreeIndex, e);
  });
  ZC_RETURN_IF_ERROR(status);
  DirectoryFilesWalk files_below(base.runs[kTreeIndex]);
  MergeRanges(kTreeIndex, names, /*drop_tombstones=*/true, [&](const RunEntry& e) {
    if (!status.ok()) return;
    const fb::Directory* rec = nullptr;
    uint32_t bytes = 0;
    status = base.DirectoryAt(e.value, &rec, &bytes);
    if (!status.ok()) return;
    constexpr uint64_t kHash60 = (uint64_t{1} << kTreeSpaceShift) - 1;
    const uint64_t h60 = e.key & kHash60;
    if ((rec->hash() & kHash60) != h60) {
      status = Status::Corruption("directory name entry " + std::to_string(e.key) +
                                  " points at another directory's record; run `zcmedia check --repair`");
      return;
    }
    if (files_below.Files(h60) == 0) return;  // empty: its name goes
    status = rewriter->Add(base, Live(e.value, bytes, rec));
  });
  return status;
}

}  // namespace zcmedia
