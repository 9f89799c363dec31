// StoreImpl: the Store behind the public API. Owns the lock, the META file,
// the segments and index runs, and the current ReadView. See store.h for the
// contract and docs/format.md for the commit protocol it implements.
#pragma once

#include <map>
#include <mutex>

#include "batch_applier.h"
#include "format.h"
#include "snapshot.h"
#include "write_batch.h"
#include "zcmedia/store.h"

namespace zcmedia {

// Sizes derived from Options::memory_budget (docs/format.md, "Memory").
struct MemoryProfile {
  size_t batch_records;      // recommended WriteBatch size
  size_t memtable_bytes;     // in-memory runs before a checkpoint writes them out
  size_t run_write_buffer;   // buffer of a run file being written
  static MemoryProfile ForBudget(size_t budget);
};

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
  size_t recommended_batch_records() const override { return profile_.batch_records; }
  StoreInfo Info() override;
  const std::string& directory() const override { return dir_; }

 private:
  Status WriteLocked(WriteBatch& batch, std::vector<int64_t>* assigned_ids);
  Status CompactIndexesLocked();
  Status CreateNew();
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
  // Adds one batch's index entries as in-memory runs and merges small ones.
  static void AddMemoryRuns(ReadView* view, BatchIndexEntries entries);
  // The most in-memory runs any index has.
  static size_t MemoryRunCount(const ReadView& view);
  // Writes the in-memory runs of `view` out as run files and applies the
  // merge policy; fills `obsolete` with run files no longer needed.
  // Sets the checkpoint to the committed end of the log (a replay that
  // spills moves it back to where it stands).
  Status Checkpoint(ReadView* view, format::MetaPage* meta, bool merge_everything,
                    std::vector<std::pair<uint32_t, uint32_t>>* obsolete);
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
  void RemoveObsoleteRuns(const std::vector<std::pair<uint32_t, uint32_t>>& obsolete);
  Status RemoveStrayFiles();
  void Publish(ReadView view);

  const std::string dir_;
  const Options options_;
  Env* const env_;
  const MemoryProfile profile_;

  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<File> meta_file_;

  std::mutex write_mu_;   // one Write / CompactIndexes / refresh at a time
  format::MetaPage meta_{};  // the committed meta page (GUARDED_BY write_mu_)
  Status sticky_error_;      // set when a commit may be half-done: writes refused until reopen
  std::map<uint32_t, SegmentPtr> segment_cache_;                    // by number
  std::map<std::pair<uint32_t, uint32_t>, RunPtr> run_cache_;       // by (kind, number)
  // Read-only stores: where the last replay stopped.
  uint32_t replayed_segment_ = 0;
  uint64_t replayed_offset_ = 0;

  std::mutex snapshot_mu_;
  std::shared_ptr<const SnapshotImpl> current_;  // GUARDED_BY snapshot_mu_
};

}  // namespace zcmedia
