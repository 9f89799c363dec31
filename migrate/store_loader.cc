#include "store_loader.h"

#include <algorithm>

namespace zcmedia::migrate {

StoreLoader::StoreLoader(Store* store)
    : store_(store), batch_records_(std::max<size_t>(1, store->recommended_batch_records() / 2)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

StoreLoader::~StoreLoader() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

void StoreLoader::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return has_work_ || stop_; });
    if (!has_work_) return;
    lock.unlock();
    Status status = store_->Write(writing_);
    lock.lock();
    if (!status.ok() && error_.ok()) error_ = status;
    writing_.Clear();
    has_work_ = false;
    cv_.notify_all();
  }
}

Status StoreLoader::WaitIdleLocked(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [&] { return !has_work_; });
  return error_;
}

Status StoreLoader::Submit() {
  if (filling_.empty()) return Status::OK();
  std::unique_lock<std::mutex> lock(mu_);
  ZC_RETURN_IF_ERROR(WaitIdleLocked(lock));
  std::swap(filling_, writing_);  // writing_ was cleared: filling_ starts empty
  has_work_ = true;
  cv_.notify_all();
  return Status::OK();
}

Status StoreLoader::SubmitIfFull() {
  return filling_.size() >= batch_records_ ? Submit() : Status::OK();
}

Status StoreLoader::Finish() {
  ZC_RETURN_IF_ERROR(Submit());
  std::unique_lock<std::mutex> lock(mu_);
  return WaitIdleLocked(lock);
}

}  // namespace zcmedia::migrate
