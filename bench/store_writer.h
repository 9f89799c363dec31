// BatchedStoreWriter: how a bulk load should feed a Store. Records go into a
// WriteBatch, and each full batch is one durable Store::Write.
//
// Pipelined (the default): two batches of half the recommended size each, so
// the heap stays as it would be with one full batch; while a helper thread
// commits one batch, the caller encodes records into the other. This is what
// "both cores" means for a bulk load: encoding (FlatBuffers) on one, the
// store's checks, appends and syncs on the other. Commit order is Put order.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "zcmedia/store.h"

namespace zcmedia::bench {

class BatchedStoreWriter {
 public:
  // Called after each successful Write with the ordinal (0-based, in Put
  // order) of the batch's first record and the ids the store assigned.
  using CommitCallback =
      std::function<void(uint64_t first_ordinal, const std::vector<int64_t>& assigned_ids)>;

  // `store` must outlive the writer. `on_commit` may be empty; asking for the
  // assigned ids costs a little, so it is only done when it is set. With an
  // `on_commit` the writer does not pipeline: the callback runs on the
  // caller's thread, between its Puts.
  explicit BatchedStoreWriter(Store* store, CommitCallback on_commit = {}, bool pipelined = true);
  ~BatchedStoreWriter();

  // Adds a record (copied into the batch); hands the batch over when full.
  // Throws BenchError if a Write failed.
  void Put(const MediaFileFields& f);
  // Writes what is left and waits until every batch is committed.
  void Flush();

  size_t batch_records() const { return batch_records_; }
  uint64_t records_put() const { return records_put_; }
  uint64_t batches_written() const { return batches_written_; }

 private:
  void Commit(WriteBatch& batch, uint64_t first_ordinal);  // throws BenchError
  void HandOver();         // the filling batch goes to the committer
  void WaitIdle();         // until no batch is being committed; rethrows its error
  void CommitterLoop();

  Store* store_;
  CommitCallback on_commit_;
  const bool pipelined_;
  size_t batch_records_;
  WriteBatch filling_;
  uint64_t records_put_ = 0;
  uint64_t first_ordinal_in_batch_ = 0;
  uint64_t batches_written_ = 0;
  std::vector<int64_t> assigned_ids_;

  // Pipelined mode: the committer thread and the batch it owns.
  std::thread committer_;
  std::mutex mu_;
  std::condition_variable cv_;
  WriteBatch committing_;          // GUARDED_BY mu_ while busy_
  uint64_t committing_first_ = 0;
  bool busy_ = false;
  bool stop_ = false;
  std::string error_;              // first failure, rethrown to the caller
};

}  // namespace zcmedia::bench
