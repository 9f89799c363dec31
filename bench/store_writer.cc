#include "store_writer.h"

#include <algorithm>
#include <string>

#include "bench_util.h"

namespace zcmedia::bench {

BatchedStoreWriter::BatchedStoreWriter(Store* store, CommitCallback on_commit, bool pipelined)
    : store_(store),
      on_commit_(std::move(on_commit)),
      // A commit callback sees the producer's state (e.g. which samples wait
      // for their ids): it runs on the caller's thread, so no pipelining.
      pipelined_(pipelined && !on_commit_),
      batch_records_(std::max<size_t>(1, store->recommended_batch_records() / (pipelined_ ? 2 : 1))) {
  if (pipelined_) committer_ = std::thread([this] { CommitterLoop(); });
}

BatchedStoreWriter::~BatchedStoreWriter() {
  if (!pipelined_) return;
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  committer_.join();
}

void BatchedStoreWriter::Put(const MediaFileFields& f) {
  filling_.Put(f);
  ++records_put_;
  if (filling_.size() >= batch_records_) HandOver();
}

void BatchedStoreWriter::Flush() {
  if (!filling_.empty()) HandOver();
  if (pipelined_) WaitIdle();
}

void BatchedStoreWriter::Commit(WriteBatch& batch, uint64_t first_ordinal) {
  const size_t entries = batch.size();
  Status status = store_->Write(batch, on_commit_ ? &assigned_ids_ : nullptr);
  if (!status.ok()) {
    throw BenchError("Store::Write of a batch of " + std::to_string(entries) + " records (records " +
                     std::to_string(first_ordinal) + ".." + std::to_string(first_ordinal + entries - 1) +
                     "): " + status.ToString());
  }
  ++batches_written_;
  if (on_commit_) {
    if (assigned_ids_.size() != entries) {
      throw BenchError("Store::Write returned " + std::to_string(assigned_ids_.size()) +
                       " assigned ids for a batch of " + std::to_string(entries) + " puts");
    }
    on_commit_(first_ordinal, assigned_ids_);
  }
}

void BatchedStoreWriter::HandOver() {
  const uint64_t first = first_ordinal_in_batch_;
  first_ordinal_in_batch_ += filling_.size();
  if (!pipelined_) {
    Commit(filling_, first);
    return;
  }
  WaitIdle();
  {
    std::lock_guard<std::mutex> g(mu_);
    std::swap(committing_, filling_);  // filling_ gets the committed (cleared) batch back
    committing_first_ = first;
    busy_ = true;
  }
  cv_.notify_all();
}

void BatchedStoreWriter::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !busy_; });
  if (!error_.empty()) throw BenchError(error_);
}

void BatchedStoreWriter::CommitterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return busy_ || stop_; });
    if (!busy_) return;  // stop_ with nothing pending
    lock.unlock();
    std::string error;
    try {
      Commit(committing_, committing_first_);
    } catch (const std::exception& e) {
      error = e.what();
    }
    lock.lock();
    if (!error.empty() && error_.empty()) error_ = error;
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace zcmedia::bench
