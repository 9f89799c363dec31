// StoreLoader: streams WriteBatches into a store on a thread of its own, so
// that reading the legacy rows (SQLite, the calling thread) and committing
// them (the store: encode, index, sync) overlap on two cores.
//
// The caller fills batch() and calls Submit(); while one batch commits the
// next one fills. Two batches of half the store's recommended size are in
// memory at once, so the pair stays inside the store's memory budget.
// Not thread-safe: one caller thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "zcmedia/store.h"

namespace zcmedia::migrate {

class StoreLoader {
 public:
  explicit StoreLoader(Store* store);
  ~StoreLoader();  // waits for the batch being written; discards the rest
  StoreLoader(const StoreLoader&) = delete;
  StoreLoader& operator=(const StoreLoader&) = delete;

  // The batch being filled. Valid until the next Submit or Finish.
  WriteBatch& batch() { return filling_; }

  // Once batch() holds a full batch, hands it to the writer thread (waiting
  // for the one before to commit); otherwise does nothing. Returns the
  // first error of an earlier batch.
  Status SubmitIfFull();
  // Submits what is left and waits for every batch to commit.
  Status Finish();

 private:
  void WriterLoop();
  Status Submit();
  Status WaitIdleLocked(std::unique_lock<std::mutex>& lock);

  Store* store_;
  size_t batch_records_;
  WriteBatch filling_;
  WriteBatch writing_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool has_work_ = false;  // writing_ holds a batch to commit
  bool stop_ = false;
  Status error_;
  std::thread writer_;
};

}  // namespace zcmedia::migrate
