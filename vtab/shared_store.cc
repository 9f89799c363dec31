#include "shared_store.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

#include "zcmedia/options.h"

namespace zcmedia::vtab {
namespace {

// Live SharedStores by canonical directory. Weak: a store closes when the
// last table using it disconnects.
std::mutex registry_mu;
std::map<std::string, std::weak_ptr<SharedStore>>& Registry() {
  static auto* registry = new std::map<std::string, std::weak_ptr<SharedStore>>();
  return *registry;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string Canonical(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) return path;
  return resolved;
}

// ZCMEDIA_WRITER_IDLE parsed (duration, 0 .. 24 h; unset: 1 s), or the
// InvalidArgument naming the variable.
Status WriterIdleFromEnvironment(std::chrono::milliseconds* idle) {
  *idle = std::chrono::seconds(1);
  const char* value = std::getenv("ZCMEDIA_WRITER_IDLE");
  if (value == nullptr || value[0] == '\0') return Status::OK();
  return ParseDuration(value, "ZCMEDIA_WRITER_IDLE", idle);  // which refuses more than 24 hours
}

}  // namespace

SharedStore::~SharedStore() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
  }
  writer_cv_.notify_all();
  if (closer_.joinable()) closer_.join();
  std::lock_guard<std::mutex> g(registry_mu);
  auto it = Registry().find(directory_);
  if (it != Registry().end() && it->second.expired()) Registry().erase(it);
}

Status SharedStore::Acquire(const std::string& directory, bool create, std::shared_ptr<SharedStore>* out) {
  std::lock_guard<std::mutex> g(registry_mu);
  const bool exists = IsDirectory(directory) &&
                      access((directory + "/META").c_str(), F_OK) == 0;
  if (!exists && !create)
    return Status::NotFound("no zcmedia store in " + directory +
                            " (the directory or its META file is missing); check the store= path of the table, "
                            "which a relative path resolves against the database file's directory");
  std::unique_ptr<Store> writer;
  if (!exists) {
    Options options;
    options.create_if_missing = true;
    ZC_RETURN_IF_ERROR(Store::Open(directory, options, &writer));
  }
  const std::string key = Canonical(directory);
  auto& slot = Registry()[key];
  std::shared_ptr<SharedStore> shared = slot.lock();
  if (!shared) {
    std::chrono::milliseconds idle;
    ZC_RETURN_IF_ERROR(WriterIdleFromEnvironment(&idle));
    shared.reset(new SharedStore(key, idle));
    slot = shared;
  }
  if (writer) {
    {
      std::lock_guard<std::mutex> s(shared->mu_);
      if (!shared->writer_) shared->AdoptWriterLocked(std::move(writer));
    }
    shared->writer_cv_.notify_all();
  }
  *out = std::move(shared);
  return Status::OK();
}

void SharedStore::AdoptWriterLocked(std::unique_ptr<Store> opened) {
  writer_ = std::move(opened);
  writer_released_ = std::chrono::steady_clock::now();
  if (!closer_.joinable()) closer_ = std::thread([this] { CloseIdleWriter(); });
}

std::shared_ptr<Store> SharedStore::LeaseWriterLocked() {
  // The deleter holds a reference to writer_ (the count CloseIdleWriter
  // reads) and, when the last copy of the lease goes, drops it and starts
  // the idle time.
  return std::shared_ptr<Store>(writer_.get(), [held = writer_, this](Store*) mutable {
    held.reset();
    {
      std::lock_guard<std::mutex> g(mu_);
      writer_released_ = std::chrono::steady_clock::now();
    }
    writer_cv_.notify_all();
  });
}

void SharedStore::CloseIdleWriter() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (!writer_) {
      writer_cv_.wait(lock);
      continue;
    }
    const auto due = writer_released_ + writer_idle_;
    // Held by nobody else (copies are made under mu_ only, so the count
    // cannot grow behind this check) and idle long enough: close it here,
    // under mu_, so that no one can open a second writer meanwhile (the
    // store's destructor finishes a background checkpoint and unlocks).
    if (writer_.use_count() == 1 && std::chrono::steady_clock::now() >= due) {
      writer_.reset();
      continue;
    }
    // Idle: until due. Leased: until a lease is dropped.
    if (writer_.use_count() == 1) writer_cv_.wait_until(lock, due);
    else writer_cv_.wait(lock);
  }
}

std::string ResolveStoreDir(sqlite3* db, const char* schema, const std::string& dir) {
  if (!dir.empty() && dir.front() == '/') return dir;
  const char* file = sqlite3_db_filename(db, schema);
  if (file == nullptr || file[0] == '\0') return dir;  // in-memory or temporary database: the working directory
  std::string base = file;
  const size_t slash = base.rfind('/');
  base = slash == std::string::npos ? "." : base.substr(0, slash == 0 ? 1 : slash);
  return base + "/" + dir;
}

Status SharedStore::OpenReaderLocked() {
  if (reader_) return Status::OK();
  Options options;
  options.read_only = true;
  options.create_if_missing = false;
  return Store::Open(directory_, options, &reader_);
}

Status SharedStore::LatestSnapshot(std::shared_ptr<const Snapshot>* snapshot) {
  std::lock_guard<std::mutex> g(mu_);
  if (!writer_) ZC_RETURN_IF_ERROR(OpenReaderLocked());
  *snapshot = writer_ ? writer_->GetSnapshot() : reader_->GetSnapshot();
  return Status::OK();
}

Status SharedStore::Writer(std::shared_ptr<Store>* writer) {
  std::shared_ptr<Store> lease;  // assigned outside mu_: dropping a lease takes it
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!writer_) {
      Options options;
      options.create_if_missing = false;
      std::unique_ptr<Store> opened;
      ZC_RETURN_IF_ERROR(Store::Open(directory_, options, &opened));
      AdoptWriterLocked(std::move(opened));
    }
    lease = LeaseWriterLocked();
  }
  writer_cv_.notify_all();
  *writer = std::move(lease);
  return Status::OK();
}

Status SharedStore::AnyStore(std::shared_ptr<Store>* store) {
  std::shared_ptr<Store> lease;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (writer_) lease = LeaseWriterLocked();
  }
  if (lease) {
    *store = std::move(lease);
    return Status::OK();
  }
  std::lock_guard<std::mutex> g(mu_);
  ZC_RETURN_IF_ERROR(OpenReaderLocked());
  // The reader lives as long as this SharedStore, which the caller holds:
  // an aliasing reference that owns nothing.
  *store = std::shared_ptr<Store>(std::shared_ptr<Store>(), reader_.get());
  return Status::OK();
}

}  // namespace zcmedia::vtab
