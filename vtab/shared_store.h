// SharedStore: one open store per directory per process, shared by every
// virtual table and every connection of the process that names it (the
// store's caveat, as LMDB's: open a directory once per process).
//
// Readers and the writer are opened separately. A process first opens the
// store read-only, which takes no lock, so any number of processes can read
// while another writes. The writer (the store's advisory writer lock) is
// opened on the first write, so a process that only reads never blocks one
// that writes; once opened it is kept until the last table using the store
// disconnects, and snapshots then come from it (it is never behind).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "sqlite_api.h"
#include "zcmedia/store.h"

namespace zcmedia::vtab {

class SharedStore {
 public:
  // The store in `directory` (made absolute and canonical). With `create`, a
  // missing store is created (and this process becomes its writer);
  // otherwise a missing store is NotFound with a message saying so.
  static Status Acquire(const std::string& directory, bool create, std::shared_ptr<SharedStore>* out);

  ~SharedStore();
  const std::string& directory() const { return directory_; }

  // The newest committed state this process can see: the writer's when it
  // has one, else the reader's (which first catches up with what a writer
  // process committed).
  Status LatestSnapshot(std::shared_ptr<const Snapshot>* snapshot);

  // The writer, opened on first use: waits up to Options::lock_timeout
  // (ZCMEDIA_LOCK_TIMEOUT) for another process's writer lock, then Busy
  // naming the holder.
  Status Writer(Store** writer);

  // The store to read statistics from and to check: the writer if open,
  // else the reader.
  Status AnyStore(Store** store);

 private:
  explicit SharedStore(std::string directory) : directory_(std::move(directory)) {}
  Status OpenReaderLocked();

  const std::string directory_;
  std::mutex mu_;
  std::unique_ptr<Store> reader_;  // GUARDED_BY mu_
  std::unique_ptr<Store> writer_;  // GUARDED_BY mu_
};

// The directory a store argument names (`store='DIR'` of a table, the DIR of
// zcmedia_stats('DIR')): a relative one is taken relative to the directory
// of the database file `schema` of `db` is, so that a database and its
// store can move together; for an in-memory or temporary database, relative
// to the working directory.
std::string ResolveStoreDir(sqlite3* db, const char* schema, const std::string& dir);

}  // namespace zcmedia::vtab
