#include "store_writer.h"

#include <algorithm>
#include <string>

#include "bench_util.h"

namespace zcmedia::bench {

BatchedStoreWriter::BatchedStoreWriter(Store* store, CommitCallback on_commit)
    : store_(store),
      on_commit_(std::move(on_commit)),
      batch_records_(std::max<size_t>(1, store->recommended_batch_records())) {}

void BatchedStoreWriter::Put(const MediaFileFields& f) {
  batch_.Put(f);
  ++records_put_;
  if (batch_.size() >= batch_records_) Flush();
}

void BatchedStoreWriter::Flush() {
  if (batch_.empty()) return;
  const size_t entries = batch_.size();
  Status status = store_->Write(batch_, on_commit_ ? &assigned_ids_ : nullptr);
  if (!status.ok()) {
    throw BenchError("Store::Write of a batch of " + std::to_string(entries) +
                     " records (records " + std::to_string(first_ordinal_in_batch_) + ".." +
                     std::to_string(first_ordinal_in_batch_ + entries - 1) +
                     "): " + status.ToString());
  }
  ++batches_written_;
  if (on_commit_) {
    if (assigned_ids_.size() != entries) {
      throw BenchError("Store::Write returned " + std::to_string(assigned_ids_.size()) +
                       " assigned ids for a batch of " + std::to_string(entries) + " puts");
    }
    on_commit_(first_ordinal_in_batch_, assigned_ids_);
  }
  first_ordinal_in_batch_ += entries;
}

}  // namespace zcmedia::bench
