// SharedStore: one open store per directory per process, shared by every
// virtual table and every connection of the process that names it (the
// store's caveat, as LMDB's: open a directory once per process).
//
// Readers and the writer are opened separately. A process first opens the
// store read-only, which takes no lock, so any number of processes can read
// while another writes. The writer (the store's advisory writer lock) is
// opened on the first write, so a process that only reads never blocks one
// that writes. While it is open snapshots come from it (it is never behind).
// It is closed, and the lock released for other processes (`zcmedia scan`
// and `watch` beside a media server that writes through the extension),
// once no transaction uses it and it has been idle for the writer idle time
// (ZCMEDIA_WRITER_IDLE, default 1 s): a burst of one-row writes keeps it,
// an idle server does not hold the library's lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

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
  // naming the holder. The reference is a lease: the writer stays open
  // while any lease is held, and dropping the last one starts its idle
  // time. The caller keeps it for as long as it writes (a transaction's
  // life) and holds this SharedStore longer than the lease.
  Status Writer(std::shared_ptr<Store>* writer);

  // The store to read statistics from and to check: the writer if open (a
  // lease, as Writer's), else the reader.
  Status AnyStore(std::shared_ptr<Store>* store);

 private:
  SharedStore(std::string directory, std::chrono::milliseconds writer_idle)
      : directory_(std::move(directory)), writer_idle_(writer_idle) {}
  Status OpenReaderLocked();
  // Makes `opened` the writer and starts the closer thread (once). mu_ held.
  void AdoptWriterLocked(std::unique_ptr<Store> opened);
  // A lease on writer_ (see Writer). mu_ held.
  std::shared_ptr<Store> LeaseWriterLocked();
  // The closer thread: closes the writer once it is idle (see the top).
  void CloseIdleWriter();

  const std::string directory_;
  const std::chrono::milliseconds writer_idle_;
  std::mutex mu_;
  std::unique_ptr<Store> reader_;  // GUARDED_BY mu_
  // Leases are made under mu_ only, so its use count (1 + the leases)
  // cannot grow without mu_.
  std::shared_ptr<Store> writer_;  // GUARDED_BY mu_
  std::chrono::steady_clock::time_point writer_released_;  // GUARDED_BY mu_
  bool stopping_ = false;                                  // GUARDED_BY mu_
  std::condition_variable writer_cv_;  // a writer opened, a lease dropped, or stopping_
  std::thread closer_;                 // started with the first writer
};

// The directory a store argument names (`store='DIR'` of a table, the DIR of
// zcmedia_stats('DIR')): a relative one is taken relative to the directory
// of the database file `schema` of `db` is, so that a database and its
// store can move together; for an in-memory or temporary database, relative
// to the working directory.
std::string ResolveStoreDir(sqlite3* db, const char* schema, const std::string& dir);

}  // namespace zcmedia::vtab
