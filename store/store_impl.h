// StoreImpl: the Store behind the public API. Owns the lock, the META file,
// the segments and index runs, and the current ReadView. See store.h for the
// contract and docs/format.md for the commit protocol it implements.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <optional>
#include <mutex>
#include <span>
#include <thread>

#include "batch_applier.h"
#include "format.h"
#include "lookup_cache.h"
#include "snapshot.h"
#include "stats.h"
#include "write_batch.h"
#include "zcmedia/store.h"

namespace zcmedia {

// Runs `body`, turning an escaping C++ exception (out of memory, or a
// thread that cannot be started) into a Status: none crosses the public API.
template <typename Body>
Status NoThrow(const std::string& what, Body&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Status::IOError("out of memory while trying to " + what);
  } catch (const std::exception& e) {
    return Status::IOError("failed to " + what + ": " + e.what());
  }
}

// The error of batch entry `i`, as Store::Write reports it.
Status BatchEntryError(size_t i, const Status& s);

// Sizes derived from Options::memory_budget (docs/format.md, "Memory").
struct MemoryProfile {
  size_t batch_records;      // recommended WriteBatch size
  size_t memtable_bytes;     // in-memory runs before a checkpoint writes them out
  size_t run_write_buffer;   // buffer of a run file being written
  size_t cache_bytes;        // LookupCache capacity (lookup_cache.h)
  // Read-ahead: how many bytes of index run files Open asks the kernel to
  // load into the page cache in the background (0: the kernel's own
  // read-around only; docs/configuration.md).
  uint64_t index_prefetch_bytes;
  static MemoryProfile ForBudget(size_t budget);
};

// The run files a checkpoint wrote: computed from immutable runs alone, so
// that it can be done on the checkpoint thread.
struct CheckpointOutput {
  std::array<std::vector<RunPtr>, format::kRunKinds> files;  // the new file runs, newest first
  std::vector<std::pair<uint32_t, uint32_t>> created;   // (kind, number) of each file written
  std::vector<std::pair<uint32_t, uint32_t>> obsolete;  // input files merged away
};

// Background index work (one job of each kind at a time). The writer owns
// a job; its thread writes only `output`, `replaced`, `status` and `done`.
//   kFlush: writes the in-memory runs it froze out as one file run per
//           index, then merges the small runs at the front of the index as
//           a checkpoint always did (groups of kMergeFanIn runs of the
//           lowest size tier, and the newest kMergeFanIn when the meta
//           page's run slots run short). Installing it moves the replay
//           start (the checkpoint). A few milliseconds.
//   kMerge: merges one group of kMergeFanIn adjacent file runs of a higher
//           tier per index while flushes go on, in one of two lanes: tier 1
//           (tens of milliseconds) and the tiers above (up to seconds), so
//           that a long merge does not hold up the short ones behind it
//           (the runs would pile up, and every lookup of the writer pays
//           for each run).
// The jobs touch disjoint runs: a flush replaces its in-memory runs and
// some of its `candidates`, the newest file runs up to the first one a
// merge in flight holds; a merge never picks a run another job holds or
// may merge; nothing else adds or removes runs while any is in flight. So
// each installs into whatever the view holds by then, by finding the runs
// it replaced (adjacent, in order) and putting its output in their place.
inline constexpr size_t kMergeLanes = 2;  // tier 1; tiers 2 and up

struct CheckpointJob {
  enum class Work { kFlush, kMerge };
  Work work = Work::kFlush;
  // Per index, newest first. kFlush: the in-memory runs it froze; kMerge:
  // the group it merges.
  std::array<std::vector<RunPtr>, format::kRunKinds> input;
  // kFlush: the file runs right after `input` it may merge with.
  std::array<std::vector<RunPtr>, format::kRunKinds> candidates;
  std::array<size_t, format::kRunKinds> files{};  // kFlush: file runs of each index when started
  std::array<bool, format::kRunKinds> merges_oldest{};  // kMerge: the group ends with the oldest run
  MemoryProfile profile;                           // the writer's when started
  uint32_t checkpoint_segment = 0;                 // kFlush: the committed end when frozen:
  uint64_t checkpoint_offset = 0;                  // replay starts here once installed
  // Written by the job: its runs (output.files) and the adjacent runs of the
  // view they replace (the input, and the candidates it merged).
  CheckpointOutput output;
  std::array<std::vector<RunPtr>, format::kRunKinds> replaced;
  Status status;
  std::atomic<bool> done{false};
  std::thread thread;
  // The writer's last references to the runs an earlier job replaced,
  // dropped first thing on the job's thread: the last munmap of an unlinked
  // run file frees its blocks (a synchronous discard on some file systems),
  // which the writer should not wait for.
  ReadView retired;
  size_t frozen_memory_runs(uint32_t kind) const { return work == Work::kFlush ? input[kind].size() : 0; }
};

class TransactionImpl;

class StoreImpl final : public Store {
 public:
  StoreImpl(std::string dir, const Options& options);
  ~StoreImpl() override;

  // `rebuild_indexes`: ignore the run files META lists and build the indexes
  // again from every segment (RepairIndexes).
  Status Open(bool rebuild_indexes = false);

  Status Write(WriteBatch& batch, std::vector<int64_t>* assigned_ids) override;
  std::shared_ptr<const Snapshot> GetSnapshot() override;
  Status CompactIndexes() override;
  Status Compact(CompactionResult* result) override;
  size_t recommended_batch_records() const override { return batch_records_.load(std::memory_order_relaxed); }
  Status SetOption(std::string_view name, std::string_view value) override;
  Status BeginTransaction(std::unique_ptr<Transaction>* txn) override;
  Status CommitPrepared(uint64_t sequence) override;
  StoreInfo Info() override;
  StoreStats GetStats() override;
  const std::string& directory() const override { return dir_; }

 private:
  friend class TransactionImpl;
  // Transactions (transaction.cc). Waits (holding `lock` on write_mu_) until
  // no transaction of this process holds the writer, up to
  // Options::lock_timeout: Busy then.
  Status WaitForWriter(std::unique_lock<std::mutex>& lock);
  // Called by a transaction (write_mu_ held) when it ends.
  void EndTransaction();
  // Removes a PREPARED that Open found (or a transaction left) and the files
  // only it names; after this it can never be committed. write_mu_ held.
  Status DiscardPrepared();
  Status CommitPreparedLocked(uint64_t sequence);
  // Checks one item of `rep` (at index i) against the applier's state.
  static Status CheckEntry(const WriteBatch::Rep& rep, size_t i, uint64_t body_location, BatchApplier* applier);
  // Compaction (compaction.cc): the live records rewritten into new
  // segments and indexed as they are written, committed by one meta page.
  class SegmentRewriter;
  Status CompactLocked(CompactionResult* result);
  // Feeds every live media file, playlist and entry of `base` to the
  // rewriter, each table in id order.
  static Status RewriteLive(const ReadView& base, SegmentRewriter* rewriter);
  Status WriteLocked(WriteBatch& batch, std::vector<int64_t>* assigned_ids);
  Status CompactIndexesLocked();
  Status CreateNew();
  void CountCommittedBatch(const WriteBatch::Rep& rep, uint64_t appended_bytes);
  // Takes the writer lock, waiting up to Options::lock_timeout.
  Status LockWithTimeout();
  // Replays every segment into new run files and commits them (see Open).
  Status RebuildIndexes(ReadView* view);
  // Builds the view `meta` describes: segments and run files opened (reusing
  // those already open), then the batches after the checkpoint replayed into
  // in-memory runs. `previous` lets a reader continue a replay incrementally.
  Status LoadView(const format::MetaPage& meta, const ReadView* previous, ReadView* view);
  // Replays batches from (from_segment, from_offset) to the committed end
  // into in-memory runs. With `spill_meta` (index rebuild, writer only), runs
  // are written out as files whenever they pass the memtable budget, and the
  // checkpoint in *spill_meta advances with them.
  Status Replay(ReadView* view, uint32_t from_segment, uint64_t from_offset,
                format::MetaPage* spill_meta = nullptr);
  Status OpenSegment(uint32_t number, uint64_t committed, SegmentPtr* out);
  // view->segments := the segments `meta` lists, with its committed lengths.
  Status SetSegments(const format::MetaPage& meta, ReadView* view);
  Status OpenRun(uint32_t kind, uint32_t number, RunPtr* out);
  // Adds one batch's index entries as in-memory runs and merges small ones,
  // never into the `frozen` oldest in-memory runs of each index (those a
  // background checkpoint is writing out; null: none).
  static void AddMemoryRuns(ReadView* view, BatchIndexEntries entries,
                            const std::array<size_t, format::kRunKinds>* frozen = nullptr);
  // The most in-memory runs any index has.
  static size_t MemoryRunCount(const ReadView& view);
  // Whether the in-memory runs of `view` have outgrown their budget.
  bool CheckpointDue(const ReadView& view) const;
  // Writes the in-memory runs of `view` out as run files and applies the
  // merge policy; fills `obsolete` with run files no longer needed.
  // Sets the checkpoint to the committed end of the log (a replay that
  // spills moves it back to where it stands).
  // `created`, when given, receives the run files it wrote.
  Status Checkpoint(ReadView* view, format::MetaPage* meta, bool merge_everything,
                    std::vector<std::pair<uint32_t, uint32_t>>* obsolete,
                    std::vector<std::pair<uint32_t, uint32_t>>* created = nullptr);
  // The work of a checkpoint on `runs` (an index's runs, newest first:
  // in-memory, then files): writes, syncs and returns the new file runs.
  // Touches no StoreImpl state but the file-number counter: thread-safe.
  Status WriteCheckpointRuns(std::span<const std::vector<RunPtr>, format::kRunKinds> runs,
                             bool merge_everything, const MemoryProfile& profile, CheckpointOutput* out);
  // Background checkpoints (CheckpointJob). Bulk loads spend a fifth of the
  // writer's time writing run files; this moves that work off the commit
  // path, and the merges of the larger tiers off the flushes' path (the
  // writer used to wait for them: a tenth of a 1M-record load). Called by
  // each Write before its batch, MaybeCheckpoint installs finished jobs;
  // starts a flush when the in-memory runs have outgrown their budget
  // (waiting for the flush in flight first, so at most two budgets' worth
  // of in-memory runs exist); and starts a merge when a higher tier has a
  // group to merge and no merge is in flight.
  Status MaybeCheckpoint();
  // Waits for the flush in flight (if any) and installs it.
  Status FinishCheckpoint();
  // Waits for the merges in flight (if any) and installs them.
  Status FinishMerges();
  Status FinishMerge(size_t lane);
  bool MergesInFlight() const;
  // Whether a merge in flight (or the flush in flight) holds `run`.
  bool HeldByJob(uint32_t kind, const RunPtr& run) const;
  // Both: what every caller that needs the runs to hold still calls.
  Status FinishBackgroundWork();
  // Starts `job` on a thread of its own (or runs it on this one when no
  // thread can be had).
  void StartJob(CheckpointJob* job);
  // The job's work (thread-safe, like WriteCheckpointRuns).
  Status RunJob(CheckpointJob* job);
  // Replaces the runs the job replaced by its output in the current view,
  // in a meta page committed on its own.
  Status InstallJob(std::unique_ptr<CheckpointJob> job);
  // Starts, in each idle lane, a merge per index of the oldest group of
  // kMergeFanIn adjacent file runs in the lowest of the lane's tiers that
  // has one. Groups holding a run another job holds are left alone.
  void MaybeStartMerges(const ReadView& view);
  // Joins the threads; removes the files of jobs never installed.
  void AbandonCheckpoint();
  // Gives each Put without an id the next id (advancing meta->next_id) and
  // writes ids into the records and entry headers.
  Status AssignIds(WriteBatch::Rep& rep, format::MetaPage* meta, std::vector<int64_t>* ids);
  // Computes every entry's checksum (after AssignIds).
  static void SealEntries(WriteBatch::Rep& rep);
  static void ResetAssignedIds(WriteBatch::Rep& rep);
  // Verifies and checks each entry against the committed state, feeding the
  // applier; the first refused entry's error names it.
  static Status CheckEntries(const WriteBatch::Rep& rep, uint64_t body_location, BatchApplier* applier);
  // Writes `meta` as the commit point. On failure makes sure it did not
  // take effect (or, if even that fails, refuses writes until reopen).
  Status CommitMeta(format::MetaPage* meta);
  void RecordRuns(const ReadView& view, format::MetaPage* meta) const;
  // meta += the batch's changes to the library totals and dead space.
  static void AddTotals(const BatchApplier& applier, format::MetaPage* meta);
  static void SetTotals(const format::MetaPage& meta, ReadView* view);
  // view's next ids := meta's (media files, playlists, entries).
  static void SetIdSequences(const format::MetaPage& meta, ReadView* view);
  // Feeds one logged entry (replay) to the applier.
  static Status ApplyLogged(const BatchEntry& e, uint64_t location, BatchApplier* applier);
  void RemoveObsoleteRuns(const std::vector<std::pair<uint32_t, uint32_t>>& obsolete);
  // Deletes run files (kind, number) that no META names (best effort).
  void RemoveRunFiles(const std::vector<std::pair<uint32_t, uint32_t>>& files);
  // Keeps the files `also_keep` names (a PREPARED meta page) besides meta_'s.
  Status RemoveStrayFiles(const format::MetaPage* also_keep = nullptr);
  void Publish(ReadView view);

  const std::string dir_;
  const Options options_;
  Env* const env_;
  // Settings SetOption may change: profile_ under write_mu_ (a background
  // checkpoint works with the copy it was started with); the others atomic.
  MemoryProfile profile_;
  std::atomic<size_t> batch_records_;
  std::atomic<size_t> memory_budget_;
  std::atomic<bool> sync_;

  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<File> meta_file_;
  // Read-only stores: META mapped (shared, so it shows the writer's pwrites
  // as they land in the page cache) and the sequence this store follows.
  // GetSnapshot compares the two pages' sequence fields with it in memory
  // and reads META with a system call only when one moved on.
  std::unique_ptr<Mapping> meta_map_;
  std::atomic<uint64_t> followed_sequence_{0};
  bool MetaMayHaveMoved() const;

  std::mutex write_mu_;   // one Write / CompactIndexes / refresh at a time
  format::MetaPage meta_{};  // the committed meta page (GUARDED_BY write_mu_)
  Status sticky_error_;      // set when a commit may be half-done: writes refused until reopen
  // A transaction of this process holds the writer (GUARDED_BY write_mu_;
  // writer_free_ is signalled when it ends).
  bool in_transaction_ = false;
  std::condition_variable writer_free_;
  // A valid DIR/PREPARED above the committed sequence that no transaction
  // of this object wrote (found by Open), or this object's own transaction's
  // once prepared: discarded before anything else is written.
  std::optional<format::MetaPage> prepared_;
  std::map<uint32_t, SegmentPtr> segment_cache_;                    // by number
  std::map<std::pair<uint32_t, uint32_t>, RunPtr> run_cache_;       // by (kind, number)
  // Index read-ahead left for the run files Open maps (GUARDED_BY write_mu_).
  uint64_t index_prefetch_left_;
  // Read-only stores: where the last replay stopped.
  uint32_t replayed_segment_ = 0;
  uint64_t replayed_offset_ = 0;

  // File numbers for segments and run files, shared with the checkpoint
  // thread; each commit records it as meta.next_file_number.
  std::atomic<uint32_t> next_file_number_{0};
  std::unique_ptr<CheckpointJob> checkpoint_;  // the flush in flight, GUARDED_BY write_mu_
  // The merges in flight, by lane (kMergeLanes), GUARDED_BY write_mu_.
  std::array<std::unique_ptr<CheckpointJob>, kMergeLanes> merges_;
  // The view an install replaced, for the next job's thread to drop.
  ReadView retired_;  // GUARDED_BY write_mu_
  // Drops the snapshot a compaction replaced and the compaction's spills.
  // Their files are unlinked; the last munmap and close of such a file
  // frees its blocks and page cache (about 0.4 s for 600 MB of segments),
  // which Compact's caller should not wait for. Joined by the next
  // compaction and by ~StoreImpl.
  std::thread compaction_retirer_;  // GUARDED_BY write_mu_ (and ~StoreImpl)
  // The Directory records a Write adds (AddDirectoryNames), reused. GUARDED_BY write_mu_
  WriteBatch::Rep directory_names_;

  std::shared_ptr<StoreCounters> counters_ = std::make_shared<StoreCounters>();
  // Shared with every snapshot (they may outlive the store). Invalidated
  // before each Publish that changes what a key finds (lookup_cache.h).
  // Sized profile_.cache_bytes, or 0 while lookup_cache_on_ is false
  // (GUARDED_BY write_mu_, like profile_).
  bool lookup_cache_on_;  // (declared first: it sizes lookup_cache_)
  std::shared_ptr<LookupCache> lookup_cache_;
  size_t LookupCacheCapacity() const { return lookup_cache_on_ ? profile_.cache_bytes : 0; }
  std::mutex stats_mu_;  // the records_per_second interval
  std::chrono::steady_clock::time_point stats_interval_start_ = std::chrono::steady_clock::now();
  uint64_t stats_interval_records_ = 0;

  std::mutex snapshot_mu_;
  std::shared_ptr<const SnapshotImpl> current_;  // GUARDED_BY snapshot_mu_
};

}  // namespace zcmedia
