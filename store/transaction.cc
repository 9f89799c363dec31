// Transactions (zcmedia/store.h, class Transaction; docs/format.md,
// "Transactions (two-phase commit)").
//
// A transaction is a private writer state: a would-be meta page (meta_) and
// the ReadView it describes (view_), both starting as the committed ones.
// Accepted entries collect in a pending log batch checked by one
// BatchApplier kept across Write calls (its base is view_); the batch is
// appended past the committed watermark, without a sync, when it is full,
// or when a snapshot, a mark or Prepare needs it. Each append adds the
// batch's index entries to view_ as in-memory runs; when they outgrow the
// budget they are written out as run files that only meta_ names. Nothing
// of it reaches the store's published view or META before Commit.
//
// Refusals: every Constraint / InvalidArgument the applier returns comes
// before its first change of state (batch_applier.cc and
// batch_applier_playlists.cc check first, then emit), so a refused entry
// is taken back by dropping its bytes from the pending batch. A failure in
// the middle of an entry (an I/O error or corruption while cascading) fails
// the transaction instead.
#include <algorithm>
#include <cstring>
#include <set>

#include "checksum.h"
#include "directory_tree.h"
#include "meta.h"
#include "record_codec.h"
#include "segment_read.h"
#include "store_impl.h"
#include "write_batch.h"
#include "zcmedia/media_generated.h"

namespace zcmedia {

using namespace format;

namespace {
using Table = WriteBatch::Rep::Table;
using Op = WriteBatch::Rep::Op;

bool IsRefusal(const Status& s) { return s.IsConstraint() || s.IsInvalidArgument(); }
}  // namespace

class TransactionImpl final : public Transaction {
 public:
  TransactionImpl(StoreImpl* store, const ReadView& base, const MetaPage& meta)
      : store_(store), base_meta_(meta), meta_(meta), view_(base) {
    const MemoryProfile& p = store_->profile_;
    max_pending_records_ = std::max<size_t>(p.batch_records, 1);
    pending_capacity_ = std::max<size_t>(p.batch_records * 360, 64 << 10);
    marks_.reserve(4);
  }
  ~TransactionImpl() override { Rollback(); }

  Status Write(WriteBatch& batch, std::vector<int64_t>* assigned_ids) override {
    return NoThrow("write in a transaction", [&] {
      std::lock_guard<std::mutex> g(store_->write_mu_);
      return WriteLocked(batch, assigned_ids);
    });
  }

  std::shared_ptr<const Snapshot> GetSnapshot() override {
    std::lock_guard<std::mutex> g(store_->write_mu_);
    try {
      if (finished_) {
        std::lock_guard<std::mutex> s(store_->snapshot_mu_);
        return store_->current_;
      }
      if (failed_.ok()) Fail(Flush());
      // No lookup cache: its entries are for committed states only.
      return std::make_shared<const SnapshotImpl>(view_, store_->counters_, nullptr);
    } catch (...) {
      return nullptr;
    }
  }

  uint64_t Mark() override {
    std::lock_guard<std::mutex> g(store_->write_mu_);
    const uint64_t token = ++last_token_;
    try {
      if (failed_.ok() && !finished_ && !prepared_) Fail(Flush());
      marks_.push_back(SaveState(token));
    } catch (...) {
      Fail(Status::IOError("out of memory while setting a savepoint"));
    }
    return token;
  }

  Status RollbackTo(uint64_t token) override {
    return NoThrow("roll back to a savepoint", [&] {
      std::lock_guard<std::mutex> g(store_->write_mu_);
      ZC_RETURN_IF_ERROR(Usable("RollbackTo"));
      auto it = std::find_if(marks_.begin(), marks_.end(), [&](const State& m) { return m.token == token; });
      if (it == marks_.end())
        return Status::InvalidArgument("savepoint token " + std::to_string(token) +
                                       " is not valid (never given, or discarded by a rollback to an earlier one)");
      marks_.erase(it + 1, marks_.end());
      return Fail(Restore(marks_.back()));
    });
  }

  Status Prepare(uint64_t* commit_sequence) override {
    return NoThrow("prepare a transaction", [&] {
      std::lock_guard<std::mutex> g(store_->write_mu_);
      return PrepareLocked(commit_sequence);
    });
  }

  Status Commit() override {
    return NoThrow("commit a transaction", [&] {
      std::lock_guard<std::mutex> g(store_->write_mu_);
      return CommitLocked();
    });
  }

  void Rollback() override {
    try {
      std::lock_guard<std::mutex> g(store_->write_mu_);
      RollbackLocked();
    } catch (...) {
    }
  }

 private:
  // What a savepoint restores: the would-be meta page (it names the log's
  // end, the checkpoint and the run files) and how many files had been made.
  struct State {
    uint64_t token;
    MetaPage meta;
    size_t created_runs, obsolete_runs, created_segments;
  };

  Status Usable(const char* what) const {
    if (finished_) return Status::InvalidArgument(std::string(what) + ": the transaction has ended");
    ZC_RETURN_IF_ERROR(failed_);
    if (prepared_) return Status::InvalidArgument(std::string(what) + ": the transaction is prepared; commit or roll it back");
    return Status::OK();
  }

  // Records a failure that leaves the transaction unusable (not a refusal).
  Status Fail(Status s) {
    if (!s.ok() && failed_.ok())
      failed_ = Status::IOError("the transaction failed and can only be rolled back: " + s.ToString());
    return s;
  }

  State SaveState(uint64_t token) const {
    return State{token, meta_, created_runs_.size(), obsolete_runs_.size(), created_segments_.size()};
  }

  Status WriteLocked(WriteBatch& batch, std::vector<int64_t>* assigned_ids) {
    ZC_RETURN_IF_ERROR(Usable("Write"));
    WriteBatch::Rep& rep = *batch.rep_;
    // Ids are assigned as Store::Write assigns them (on a copy of the id
    // sequences: a refusal leaves them), into the caller's batch, which is
    // given back as it was unless everything is accepted.
    // (AssignIds reads and advances only the three id sequences: a scratch
    // page with those, not a 4 KiB copy per call.)
    MetaPage& ids_meta = ids_scratch_;
    ids_meta.next_id = std::max<int64_t>(meta_.next_id, rep.raise_next_id);
    ids_meta.next_playlist_id = std::max<int64_t>(meta_.next_playlist_id, rep.raise_next_playlist_id);
    ids_meta.next_entry_id = std::max<int64_t>(meta_.next_entry_id, rep.raise_next_entry_id);
    std::vector<int64_t> ids;
    ZC_RETURN_IF_ERROR(store_->AssignIds(rep, &ids_meta, &ids));
    struct ResetIds {
      WriteBatch::Rep& rep;
      ~ResetIds() { StoreImpl::ResetAssignedIds(rep); }
    } reset{rep};

    Status s;
    if (rep.items.size() == 1) {
      s = AddEntry(rep, 0);
    } else if (!rep.items.empty()) {
      // Several entries: all or nothing. They start a pending batch of
      // their own (a fresh applier), dropped whole on a refusal, or, if it
      // had to be appended midway, undone like a savepoint.
      Fail(Flush());
      ZC_RETURN_IF_ERROR(failed_);
      const State before = SaveState(0);
      const uint64_t flushes = flushes_;
      for (size_t i = 0; i < rep.items.size() && s.ok(); ++i) s = AddEntry(rep, i);
      if (!s.ok() && failed_.ok()) {
        if (flushes == flushes_ && meta_.segment_count == before.meta.segment_count) {
          DiscardPending();
        } else {
          Fail(Restore(before));
        }
      }
    }
    if (!s.ok()) return s;
    meta_.next_id = ids_meta.next_id;
    meta_.next_playlist_id = ids_meta.next_playlist_id;
    meta_.next_entry_id = ids_meta.next_entry_id;
    if (assigned_ids) *assigned_ids = std::move(ids);
    batch.Clear();
    return Status::OK();
  }

  // The Directory records item `i` of `rep` needs (directories named
  // neither in view_ nor earlier in the pending batch) into names_.
  Status NameDirectories(const WriteBatch::Rep& rep, size_t i) {
    names_.body.clear();
    names_.items.clear();
    new_known_.clear();
    const WriteBatch::Rep::Item& item = rep.items[i];
    if (item.table != Table::kMedia || item.op == Op::kRemove || !item.has_parent) return Status::OK();
    const auto* record =
        flatbuffers::GetRoot<fb::MediaFile>(rep.body.data() + item.offset + sizeof(EntryHeader));
    const std::string_view parent = *MediaFileView(record).parent_path();
    if (parent == last_parent_) return Status::OK();
    Status status;
    ForEachDirectoryUp(parent, [&](std::string_view dir) {
      if (known_.find(dir) != known_.end()) return false;
      bool named = false;
      status = DirectoryNamed(view_, dir, &named);
      if (!status.ok()) return false;
      new_known_.emplace_back(dir);
      if (named) return false;
      EncodeDirectory(dir, &names_.builder);
      names_.AppendBuilt(Op::kPut, Table::kDirectory, 0, EntryKind::kPutDirectory);
      return true;
    });
    return status;
  }

  // Checks item `i` of `rep` (ids assigned) and adds it to the pending
  // batch, or refuses it leaving the transaction as it was.
  Status AddEntry(const WriteBatch::Rep& rep, size_t i) {
    const WriteBatch::Rep::Item& item = rep.items[i];
    const size_t end = i + 1 < rep.items.size() ? rep.items[i + 1].offset : rep.body.size();
    const size_t entry_bytes = end - item.offset;
    ZC_RETURN_IF_ERROR(Fail(NameDirectories(rep, i)));
    for (int attempt = 0;; ++attempt) {
      const size_t need = entry_bytes + names_.body.size();
      const MetaSegment& active = meta_.segments[meta_.segment_count - 1];
      auto fits_segment = [&] {
        return active.committed_length + sizeof(BatchHeader) + pending_.body.size() + need <=
               store_->options_.segment_max_bytes;
      };
      const bool room = pending_.items.size() < max_pending_records_ &&
                        pending_.body.size() + need <= std::max(pending_capacity_, need) && fits_segment();
      if (room) break;
      if (attempt > 0 || pending_.items.empty()) {
        // An empty pending batch that does not fit: a new segment.
        if (!fits_segment()) {
          if (kSegmentHeaderSize + sizeof(BatchHeader) + need > store_->options_.segment_max_bytes)
            return BatchEntryError(i, Status::InvalidArgument(
                                          "entry of " + std::to_string(need) +
                                          " bytes does not fit in a segment (segment_max_bytes)"));
          ZC_RETURN_IF_ERROR(RollSegment());
        }
        if (pending_.body.capacity() < need) pending_.body.reserve(need);  // nothing points into it yet
        break;
      }
      ZC_RETURN_IF_ERROR(Fail(Flush()));
      ZC_RETURN_IF_ERROR(Fail(NameDirectories(rep, i)));  // against the view with the batch appended
    }
    if (!applier_ || pending_.items.empty()) {
      // The applier keeps pointers into the pending body: reserve it whole
      // now so that it never moves while the applier lives.
      if (pending_.body.capacity() < pending_capacity_) pending_.body.reserve(pending_capacity_);
      const MetaSegment& active = meta_.segments[meta_.segment_count - 1];
      pending_location_ = MakeLocation(active.number, active.committed_length + sizeof(BatchHeader));
      applier_ = std::make_unique<BatchApplier>(view_, /*check_constraints=*/true, max_pending_records_);
    }
    // The entry's bytes (id assigned) go to the end of the pending batch.
    const size_t offset = pending_.body.size();
    const size_t first_item = pending_.items.size();
    auto append = [&](const WriteBatch::Rep& from, const WriteBatch::Rep::Item& it, size_t bytes) {
      const size_t at = pending_.body.size();
      pending_.body.resize(at + bytes);  // within the reserved capacity: no move
      std::memcpy(pending_.body.data() + at, from.body.data() + it.offset, bytes);
      WriteBatch::Rep::Item copy = it;
      copy.offset = at;
      pending_.items.push_back(copy);
    };
    append(rep, item, entry_bytes);
    Status s = StoreImpl::CheckEntry(pending_, first_item, pending_location_, applier_.get());
    if (!s.ok()) {
      pending_.body.resize(offset);
      pending_.items.resize(first_item);
      if (!IsRefusal(s)) Fail(s);
      return BatchEntryError(i, s);
    }
    for (size_t n = 0; n < names_.items.size(); ++n) {
      const size_t name_end = n + 1 < names_.items.size() ? names_.items[n + 1].offset : names_.body.size();
      append(names_, names_.items[n], name_end - names_.items[n].offset);
      ZC_RETURN_IF_ERROR(Fail(StoreImpl::CheckEntry(pending_, pending_.items.size() - 1, pending_location_,
                                                    applier_.get())));
    }
    for (std::string& dir : new_known_) known_.insert(std::move(dir));
    if (item.table == Table::kMedia && item.op != Op::kRemove && item.has_parent) {
      const auto* record = flatbuffers::GetRoot<fb::MediaFile>(pending_.body.data() + offset +
                                                                            sizeof(EntryHeader));
      last_parent_.assign(*MediaFileView(record).parent_path());
    }
    switch (item.table == Table::kMedia ? item.op : Op::kRemove) {
      case Op::kPut: ++stored_; break;
      case Op::kUpdate: ++updated_; break;
      case Op::kRemove: removed_ += item.table == Table::kMedia ? 1 : 0; break;
    }
    return Status::OK();
  }

  Status RollSegment() {
    if (meta_.segment_count == kMaxSegments || store_->next_file_number_.load() > kMaxSegmentNumber)
      return Fail(Status::IOError(store_->dir_ + ": the store has run out of segment numbers or meta slots (" +
                                  std::to_string(meta_.segment_count) +
                                  " segments); compact it or raise segment_max_bytes"));
    const uint32_t number = store_->next_file_number_.fetch_add(1);
    SegmentPtr seg;
    created_segments_.push_back(number);
    ZC_RETURN_IF_ERROR(Fail(Segment::Create(store_->env_, store_->dir_, number,
                                            store_->options_.segment_max_bytes, &seg)));
    ZC_RETURN_IF_ERROR(Fail(store_->env_->SyncDir(store_->dir_)));
    store_->segment_cache_[number] = seg;
    meta_.segments[meta_.segment_count++] = {number, 0, kSegmentHeaderSize};
    return Fail(store_->SetSegments(meta_, &view_));
  }

  void DiscardPending() {
    applier_.reset();
    pending_.body.clear();
    pending_.items.clear();
    known_.clear();
    last_parent_.clear();
  }

  // Appends the pending batch (no sync) and adds it to view_ and meta_;
  // writes the in-memory runs out when they have outgrown their budget.
  Status Flush() {
    if (pending_.items.empty()) {
      DiscardPending();
      StoreImpl::SetIdSequences(meta_, &view_);
      return Status::OK();
    }
    ZC_RETURN_IF_ERROR(applier_->FinishDirectories());
    MetaSegment* active = &meta_.segments[meta_.segment_count - 1];
    SegmentPtr seg = store_->segment_cache_.at(active->number);
    StoreImpl::SealEntries(pending_);
    BatchHeader h{};
    h.magic = kBatchMagic;
    h.format_version = kFormatVersion;
    h.sequence = base_meta_.sequence + 1;  // every batch of the transaction carries its commit's sequence
    h.entry_count = static_cast<uint32_t>(pending_.items.size());
    h.body_length = pending_.body.size();
    h.body_checksum = Checksum64(pending_.body.data(), pending_.body.size());
    h.header_checksum = Checksum64(&h, offsetof(BatchHeader, header_checksum));
    const uint64_t offset = active->committed_length;
    ZC_RETURN_IF_ERROR(seg->file()->PWrite(offset, &h, sizeof(h)));
    ZC_RETURN_IF_ERROR(seg->file()->PWrite(offset + sizeof(h), pending_.body.data(), pending_.body.size()));
    bytes_appended_ += sizeof(h) + pending_.body.size();
    ++batches_;
    active->committed_length = offset + sizeof(h) + pending_.body.size();
    ZC_RETURN_IF_ERROR(store_->SetSegments(meta_, &view_));
    BatchIndexEntries entries = applier_->TakeAllEntries();
    // Erased early (as Store::Write does): the commit takes this sequence.
    store_->lookup_cache_->InvalidateKeys(entries[kPathIndex], base_meta_.sequence + 1);
    meta_.record_count = static_cast<uint64_t>(static_cast<int64_t>(meta_.record_count) + applier_->record_delta());
    StoreImpl::AddTotals(*applier_, &meta_);
    applier_.reset();  // before view_ changes: it reads it
    StoreImpl::AddMemoryRuns(&view_, std::move(entries));
    StoreImpl::SetTotals(meta_, &view_);
    StoreImpl::SetIdSequences(meta_, &view_);
    view_.record_count = meta_.record_count;
    DiscardPending();
    ++flushes_;
    if (store_->CheckpointDue(view_))
      ZC_RETURN_IF_ERROR(store_->Checkpoint(&view_, &meta_, /*merge_everything=*/false, &obsolete_runs_, &created_runs_));
    return Status::OK();
  }

  // Removes the files made after `m` and rebuilds view_ from its meta page.
  Status Restore(const State& m) {
    DiscardPending();
    for (size_t i = m.created_runs; i < created_runs_.size(); ++i) store_->run_cache_.erase(created_runs_[i]);
    store_->RemoveRunFiles(std::vector<std::pair<uint32_t, uint32_t>>(
        created_runs_.begin() + static_cast<long>(m.created_runs), created_runs_.end()));
    created_runs_.resize(m.created_runs);
    obsolete_runs_.resize(m.obsolete_runs);
    for (size_t i = m.created_segments; i < created_segments_.size(); ++i) {
      store_->segment_cache_.erase(created_segments_[i]);
      (void)store_->env_->RemoveFile(store_->dir_ + "/" + SegmentFileName(created_segments_[i]));
    }
    created_segments_.resize(m.created_segments);
    meta_ = m.meta;
    // The mark's runs and the log up to its end: replayed from its
    // checkpoint (at most a budget's worth of in-memory runs).
    const uint32_t replayed_segment = store_->replayed_segment_;
    const uint64_t replayed_offset = store_->replayed_offset_;
    view_ = ReadView();
    Status s = store_->LoadView(meta_, nullptr, &view_);
    store_->replayed_segment_ = replayed_segment;
    store_->replayed_offset_ = replayed_offset;
    return s;
  }

  Status PrepareLocked(uint64_t* commit_sequence) {
    if (prepared_) {
      ZC_RETURN_IF_ERROR(failed_);
      *commit_sequence = meta_.sequence;
      return Status::OK();
    }
    ZC_RETURN_IF_ERROR(Usable("Prepare"));
    ZC_RETURN_IF_ERROR(Fail(Flush()));
    if (std::memcmp(&meta_, &base_meta_, sizeof(MetaPage)) == 0) {
      empty_ = true;
      prepared_ = true;
      *commit_sequence = base_meta_.sequence;
      return Status::OK();
    }
    // 1. Data durable: every segment the transaction appended to.
    const uint32_t first = base_meta_.segments[base_meta_.segment_count - 1].number;
    if (store_->sync_.load(std::memory_order_relaxed)) {
      for (uint32_t i = 0; i < meta_.segment_count; ++i) {
        if (meta_.segments[i].number < first) continue;
        ZC_RETURN_IF_ERROR(Fail(store_->segment_cache_.at(meta_.segments[i].number)->file()->Sync()));
      }
    }
    // (Run files were synced, and the directory, by the checkpoints that
    // wrote them; new segments' names by RollSegment.)
    // 2. The would-be meta page, durably, in PREPARED.
    meta_.sequence = base_meta_.sequence + 1;
    meta_.next_file_number = std::max(meta_.next_file_number, store_->next_file_number_.load());
    store_->RecordRuns(view_, &meta_);
    wrote_prepared_ = true;  // from here on a rollback removes it
    ZC_RETURN_IF_ERROR(Fail(WritePreparedFile(store_->env_, store_->dir_, &meta_)));
    store_->prepared_ = meta_;
    view_.sequence = meta_.sequence;
    prepared_ = true;
    *commit_sequence = meta_.sequence;
    return Status::OK();
  }

  Status CommitLocked() {
    if (finished_) return Status::InvalidArgument("Commit: the transaction has ended");
    if (!prepared_) {
      uint64_t ignored = 0;
      ZC_RETURN_IF_ERROR(PrepareLocked(&ignored));
    }
    ZC_RETURN_IF_ERROR(failed_);
    if (empty_) {
      Finish();
      return Status::OK();
    }
    ZC_RETURN_IF_ERROR(store_->sticky_error_);
    // 3. The commit point.
    Status s = store_->CommitMeta(&meta_);
    if (!s.ok()) {
      if (!store_->sticky_error_.ok()) commit_in_doubt_ = true;  // reopen decides; Rollback removes nothing
      return Fail(s);
    }
    store_->meta_ = meta_;
    const MetaSegment& last = meta_.segments[meta_.segment_count - 1];
    store_->replayed_segment_ = last.number;
    store_->replayed_offset_ = last.committed_length;
    view_.sequence = meta_.sequence;
    store_->Publish(view_);
    // 4. Tidying, best effort: a crash here leaves a stale PREPARED and
    // stray run files, which the next Open removes.
    store_->prepared_.reset();
    (void)store_->env_->RemoveFile(store_->dir_ + "/" + kPreparedFile);
    store_->RemoveObsoleteRuns(obsolete_runs_);
    StoreCounters& c = *store_->counters_;
    c.records_stored.fetch_add(stored_, std::memory_order_relaxed);
    c.records_updated.fetch_add(updated_, std::memory_order_relaxed);
    c.records_removed.fetch_add(removed_, std::memory_order_relaxed);
    c.bytes_appended.fetch_add(bytes_appended_, std::memory_order_relaxed);
    c.batches.fetch_add(batches_, std::memory_order_relaxed);
    c.commits.fetch_add(1, std::memory_order_relaxed);
    Finish();
    return Status::OK();
  }

  void RollbackLocked() {
    if (finished_) return;
    DiscardPending();
    if (!commit_in_doubt_) {
      for (const auto& run : created_runs_) store_->run_cache_.erase(run);
      store_->RemoveRunFiles(created_runs_);
      for (uint32_t number : created_segments_) {
        store_->segment_cache_.erase(number);
        (void)store_->env_->RemoveFile(store_->dir_ + "/" + SegmentFileName(number));
      }
      if (wrote_prepared_) {
        // If this fails, store_->prepared_ stays and the next write
        // discards it before writing anything.
        Status s = store_->env_->RemoveFile(store_->dir_ + "/" + kPreparedFile);
        bool exists = true;
        if (!s.ok() && store_->env_->FileExists(store_->dir_ + "/" + kPreparedFile, &exists).ok() && !exists)
          s = Status::OK();
        if (s.ok()) s = store_->env_->SyncDir(store_->dir_);
        if (s.ok()) store_->prepared_.reset();
      }
    }
    Finish();
  }

  void Finish() {
    finished_ = true;
    marks_.clear();
    view_ = ReadView();
    store_->EndTransaction();
  }

  StoreImpl* const store_;
  const MetaPage base_meta_;  // the committed page at BeginTransaction
  MetaPage meta_;             // the would-be page: base + this transaction
  MetaPage ids_scratch_{};    // WriteLocked's id sequences
  ReadView view_;             // what meta_ describes (in-memory runs included)
  Status failed_;
  bool prepared_ = false, empty_ = false, finished_ = false;
  bool wrote_prepared_ = false, commit_in_doubt_ = false;

  // The pending log batch.
  WriteBatch::Rep pending_;
  std::unique_ptr<BatchApplier> applier_;  // base: view_; null while pending_ is empty
  uint64_t pending_location_ = 0;          // of pending_.body[0] once appended
  size_t pending_capacity_ = 0, max_pending_records_ = 0;
  uint64_t flushes_ = 0;
  // Directories named in view_ or the pending batch, as far as known.
  std::set<std::string, std::less<>> known_;
  std::string last_parent_;
  WriteBatch::Rep names_;               // one entry's Directory records
  std::vector<std::string> new_known_;  // ... and the directories it found

  // Files made by this transaction; run files it merged away (removed after commit).
  std::vector<std::pair<uint32_t, uint32_t>> created_runs_, obsolete_runs_;
  std::vector<uint32_t> created_segments_;
  std::vector<State> marks_;
  uint64_t last_token_ = 0;
  uint64_t stored_ = 0, updated_ = 0, removed_ = 0, bytes_appended_ = 0, batches_ = 0;
};

// ---- StoreImpl ---------------------------------------------------------------

Status StoreImpl::WaitForWriter(std::unique_lock<std::mutex>& lock) {
  if (!in_transaction_) return Status::OK();
  if (options_.lock_timeout.count() > 0 &&
      writer_free_.wait_for(lock, options_.lock_timeout, [&] { return !in_transaction_; }))
    return Status::OK();
  return Status::Busy(dir_ + ": store is in a transaction of this process; gave up after waiting " +
                      std::to_string(options_.lock_timeout.count()) + " ms (Options::lock_timeout)");
}

void StoreImpl::EndTransaction() {
  in_transaction_ = false;
  writer_free_.notify_all();
}

Status StoreImpl::DiscardPrepared() {
  if (!prepared_) return Status::OK();
  const std::string path = dir_ + "/" + kPreparedFile;
  bool exists = false;
  ZC_RETURN_IF_ERROR(env_->FileExists(path, &exists));
  if (exists) ZC_RETURN_IF_ERROR(env_->RemoveFile(path));
  // Durably gone before anything overwrites its data.
  ZC_RETURN_IF_ERROR(env_->SyncDir(dir_));
  const MetaPage p = *prepared_;
  prepared_.reset();
  for (uint32_t i = 0; i < p.segment_count; ++i) {
    const uint32_t number = p.segments[i].number;
    if (MetaNamesSegment(meta_, number)) continue;
    segment_cache_.erase(number);
    (void)env_->RemoveFile(dir_ + "/" + SegmentFileName(number));
  }
  std::vector<std::pair<uint32_t, uint32_t>> runs;
  for (uint32_t k = 0; k < kRunKinds; ++k)
    for (uint32_t i = 0; i < p.run_count[k]; ++i)
      if (!MetaNamesRun(meta_, k, p.runs[k][i])) runs.push_back({k, p.runs[k][i]});
  RemoveObsoleteRuns(runs);
  return Status::OK();
}

Status StoreImpl::BeginTransaction(std::unique_ptr<Transaction>* txn) {
  return counters_->CountError(NoThrow("begin a transaction", [&]() -> Status {
    std::unique_lock<std::mutex> g(write_mu_);
    if (options_.read_only) return Status::ReadOnly(dir_ + ": store was opened read-only");
    ZC_RETURN_IF_ERROR(WaitForWriter(g));
    ZC_RETURN_IF_ERROR(sticky_error_);
    ZC_RETURN_IF_ERROR(FinishBackgroundWork());
    ZC_RETURN_IF_ERROR(DiscardPrepared());
    std::shared_ptr<const SnapshotImpl> base;
    {
      std::lock_guard<std::mutex> s(snapshot_mu_);
      base = current_;
    }
    auto t = std::make_unique<TransactionImpl>(this, base->view(), meta_);
    in_transaction_ = true;
    *txn = std::move(t);
    return Status::OK();
  }));
}

Status StoreImpl::CommitPrepared(uint64_t sequence) {
  return counters_->CountError(NoThrow("commit a prepared transaction", [&] { return CommitPreparedLocked(sequence); }));
}

Status StoreImpl::CommitPreparedLocked(uint64_t sequence) {
  std::unique_lock<std::mutex> g(write_mu_);
  if (options_.read_only) return Status::ReadOnly(dir_ + ": store was opened read-only");
  ZC_RETURN_IF_ERROR(WaitForWriter(g));
  ZC_RETURN_IF_ERROR(sticky_error_);
  if (meta_.sequence >= sequence) return Status::OK();
  const std::string lost = dir_ + ": store lost a prepared transaction: sequence " + std::to_string(sequence) +
                           " is not committed (the store is at " + std::to_string(meta_.sequence) + ") and ";
  MetaPage page{};
  bool present = false;
  std::string why;
  ZC_RETURN_IF_ERROR(ReadPreparedFile(env_, dir_, &page, &present, &why));
  if (!present) return Status::Corruption(lost + std::string(kPreparedFile) + " is missing");
  if (!why.empty()) return Status::Corruption(lost + std::string(kPreparedFile) + " is unusable (" + why + ")");
  if (page.sequence != sequence)
    return Status::Corruption(lost + std::string(kPreparedFile) + " holds sequence " + std::to_string(page.sequence));
  if (page.sequence != meta_.sequence + 1)
    return Status::Corruption(lost + std::string(kPreparedFile) + " was prepared on sequence " +
                              std::to_string(page.sequence - 1));
  // It must extend the committed log: the same segments, the last one no
  // shorter, then segments of its own.
  const uint32_t n = meta_.segment_count;
  bool extends = page.segment_count >= n;
  for (uint32_t i = 0; extends && i < n; ++i)
    extends = page.segments[i].number == meta_.segments[i].number &&
              (i + 1 < n ? page.segments[i].committed_length == meta_.segments[i].committed_length
                         : page.segments[i].committed_length >= meta_.segments[i].committed_length);
  if (!extends) return Status::Corruption(lost + std::string(kPreparedFile) + " does not extend the committed log");
  // Its data must be intact: every batch past the watermark verified.
  for (uint32_t i = n - 1; i < page.segment_count; ++i) {
    const MetaSegment& ms = page.segments[i];
    SegmentPtr seg;
    Status s = OpenSegment(ms.number, ms.committed_length, &seg);
    uint64_t size = 0;
    if (s.ok()) s = seg->file()->Size(&size);
    if (s.ok() && size < ms.committed_length)
      s = Status::Corruption(seg->path() + " is shorter (" + std::to_string(size) + " bytes) than prepared (" +
                             std::to_string(ms.committed_length) + ")");
    uint64_t pos = i == n - 1 ? meta_.segments[i].committed_length : kSegmentHeaderSize;
    while (s.ok() && pos < ms.committed_length) {
      uint64_t seq = 0, next = 0;
      s = ReadBatch(*seg, pos, ms.committed_length, &seq, &next, [](const BatchEntry&) {});
      pos = next;
    }
    if (!s.ok()) return Status::Corruption(lost + "its data is damaged: " + s.ToString());
  }
  ReadView view;
  {
    const uint32_t replayed_segment = replayed_segment_;
    const uint64_t replayed_offset = replayed_offset_;
    Status s = LoadView(page, nullptr, &view);
    if (!s.ok()) {
      replayed_segment_ = replayed_segment;
      replayed_offset_ = replayed_offset;
      return Status::Corruption(lost + "its state cannot be loaded: " + s.ToString());
    }
  }
  next_file_number_ = std::max(next_file_number_.load(), page.next_file_number);
  ZC_RETURN_IF_ERROR(CommitMeta(&page));
  meta_ = page;
  lookup_cache_->InvalidateAll(page.sequence);
  Publish(std::move(view));
  prepared_.reset();
  (void)env_->RemoveFile(dir_ + "/" + kPreparedFile);
  if (!checkpoint_ && !MergesInFlight()) (void)RemoveStrayFiles();  // run files the transaction merged away
  counters_->commits.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

}  // namespace zcmedia
