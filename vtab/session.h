// StoreSession: what one SQLite connection knows of one store. Shared by the
// connection's virtual tables on that store (media_files, playlists and
// playlist_entries of one database share one session).
//
// Read snapshots. A statement reads one snapshot from its first xFilter to
// its end, whatever other connections commit meanwhile, and the snapshot
// stays alive until that statement is done: text handed to SQLite as
// SQLITE_STATIC (a view into the store's mapping) can outlive the cursor
// that produced it (an aggregate such as max(path) keeps it), so the
// mapping behind it must stay too. A statement is known by its pointer and
// run count (sqlite3_stmt_status RUN): the session pins a snapshot together
// with the statements running when it was taken or used, and takes a newer
// one only once none of them is still on that run. (DEVELOPERS.md rule 3.)
//
// Write transactions (transaction.cc) read their own writes instead.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

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
  Status ReadSnapshot(std::shared_ptr<const Snapshot>* snapshot, bool* committed);

 private:
  StoreSession(sqlite3* db, std::shared_ptr<SharedStore> store) : db_(db), store_(std::move(store)) {}
  // The statements running now, with their run counts.
  std::vector<std::pair<sqlite3_stmt*, int>> RunningStatements() const;

  sqlite3* const db_;
  const std::shared_ptr<SharedStore> store_;
  std::shared_ptr<const Snapshot> pinned_;
  std::vector<std::pair<sqlite3_stmt*, int>> pinned_users_;
};

}  // namespace zcmedia::vtab
