// BatchedStoreWriter: how a bulk load should feed a Store. Records go into a
// WriteBatch of Store::recommended_batch_records() entries (so the batch stays
// inside the store's memory budget), and each full batch is one durable
// Store::Write.
#pragma once

#include <cstdint>
#include <functional>
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
  // assigned ids costs a little, so it is only done when it is set.
  explicit BatchedStoreWriter(Store* store, CommitCallback on_commit = {});

  // Adds a record (copied into the batch); writes the batch when it is full.
  // Throws BenchError if a Write fails.
  void Put(const MediaFileFields& f);
  // Writes what is left in the batch.
  void Flush();

  size_t batch_records() const { return batch_records_; }
  uint64_t records_put() const { return records_put_; }
  uint64_t batches_written() const { return batches_written_; }

 private:
  Store* store_;
  CommitCallback on_commit_;
  WriteBatch batch_;
  size_t batch_records_;
  uint64_t records_put_ = 0;
  uint64_t first_ordinal_in_batch_ = 0;
  uint64_t batches_written_ = 0;
  std::vector<int64_t> assigned_ids_;
};

}  // namespace zcmedia::bench
