#include "shared_store.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

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

}  // namespace

SharedStore::~SharedStore() {
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
    shared.reset(new SharedStore(key));
    slot = shared;
  }
  if (writer) {
    std::lock_guard<std::mutex> s(shared->mu_);
    if (!shared->writer_) shared->writer_ = std::move(writer);
  }
  *out = std::move(shared);
  return Status::OK();
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
  *snapshot = (writer_ ? writer_ : reader_)->GetSnapshot();
  return Status::OK();
}

Status SharedStore::Writer(Store** writer) {
  std::lock_guard<std::mutex> g(mu_);
  if (!writer_) {
    Options options;
    options.create_if_missing = false;
    ZC_RETURN_IF_ERROR(Store::Open(directory_, options, &writer_));
  }
  *writer = writer_.get();
  return Status::OK();
}

Status SharedStore::AnyStore(Store** store) {
  std::lock_guard<std::mutex> g(mu_);
  if (!writer_) ZC_RETURN_IF_ERROR(OpenReaderLocked());
  *store = (writer_ ? writer_ : reader_).get();
  return Status::OK();
}

}  // namespace zcmedia::vtab
