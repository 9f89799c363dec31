// StoreSession: what one SQLite connection knows of one store. Shared by the
// connection's virtual tables on that store (media_files, playlists and
// playlist_entries of one database share one session).
//
// Read snapshots. A statement reads one snapshot from its first xFilter to
// its end, whatever other connections commit meanwhile, and the snapshot
// stays alive until that statement is done: text handed to SQLite as
// SQLITE_STATIC (a view into the store's mapping) can outlive the row that
// produced it (an aggregate such as max(path) keeps it), so the mapping
// behind it must stay too. SQLite closes a statement's virtual-table
// cursors only when the statement ends (halts, is reset or finalized), and
// each cursor keeps the snapshot it read until it is closed, so the session
// pins the snapshot it handed out while any cursor still holds it, and
// takes a newer one once none does. (A statement is not known by its
// pointer: a finalized statement's memory is reused by the next one
// prepared, which then looked like the old one still running and kept
// reading the old snapshot. DEVELOPERS.md rule 3.)
//
// Write transactions (transaction.cc) read their own writes instead.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "shared_store.h"
#include "sqlite_api.h"

namespace zcmedia::vtab {

class StoreSession {
 public:
  // The session of (db, store), created on first use.
  static std::shared_ptr<StoreSession> For(sqlite3* db, std::shared_ptr<SharedStore> store);
  ~StoreSession();

  SharedStore& store() { return *store_; }
  sqlite3* db() const { return db_; }

  // The snapshot a cursor of the calling statement reads. *committed is true
  // when every byte it shows is committed (text may then be SQLITE_STATIC).
  // REQUIRES: the cursor keeps *snapshot until it is closed (xClose), so
  // that the pin counts it.
  Status ReadSnapshot(std::shared_ptr<const Snapshot>* snapshot, bool* committed);

 private:
  StoreSession(sqlite3* db, std::shared_ptr<SharedStore> store) : db_(db), store_(std::move(store)) {}

  sqlite3* const db_;
  const std::shared_ptr<SharedStore> store_;
  // The pinned snapshot. Cursors get aliases of this pointer (sharing its
  // count), so use_count() > 1 while an open cursor holds the snapshot.
  std::shared_ptr<std::shared_ptr<const Snapshot>> pinned_;
};

}  // namespace zcmedia::vtab
