// StoreSession: what one SQLite connection knows of one store. Shared by the
// connection's virtual tables on that store (media_files, playlists and
// playlist_entries of one database share one session).
//
// Read snapshots. A cursor reads one snapshot from its first xFilter to its
// close, and the cursors of the session that are open together share one
// (a self-join, an inner loop, a subquery see one state). A new cursor with
// no other open takes the newest committed state. Retired snapshots stay
// alive while a statement that read them may still be running: text handed
// to SQLite as SQLITE_STATIC (a view into the store's mapping) can outlive
// the cursor that produced it (an aggregate such as max(path) keeps it), so
// the mapping behind it must stay too (DEVELOPERS.md rule 3). When a newer
// snapshot replaces the pinned one, the statements running at that moment
// are the only ones that can hold its text; a statement is known by its
// pointer and run count (sqlite3_stmt_status RUN), and the retired snapshot
// goes once none of them is still on that run.
//
// Between statements each sees the newest committed state, also inside
// BEGIN ... COMMIT of a read-only transaction (docs/porting.md).
//
// Write transactions (transaction.cc). The first xBegin of any table of
// the session starts a store Transaction; every xUpdate writes through it
// (checked row by row, nothing synced); reads of the connection then see
// its writes. Two-phase commit with SQLite: the first xSync prepares the
// store transaction (data durable past the committed watermark, the
// would-be meta page in DIR/PREPARED) and records the sequence it will
// commit in the row of the store in the ordinary table zcmedia_watermarks,
// inside the user's SQLite transaction; xCommit then commits the store.
// After a crash between the two commits, SQLite holds a watermark above
// the store's sequence: the session's first use commits the prepared
// transaction (Store::CommitPrepared) before anything is read or written.
// Savepoints map to store marks (xSavepoint / xRollbackTo / xRelease).
#pragma once

#include <map>
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

  // The snapshot a cursor reads (at its first xFilter; in a write
  // transaction at every xFilter, to see the latest writes). *committed is
  // true when every byte it shows is committed (text may then be
  // SQLITE_STATIC).
  Status ReadSnapshot(std::shared_ptr<const Snapshot>* snapshot, bool* committed);
  // Cursor lifetimes (xOpen / xClose).
  void CursorOpened() { ++open_cursors_; }
  void CursorClosed() { --open_cursors_; }

  // Each table of the session registers the schema it lives in and its
  // store= argument as written: the keys of the watermark rows.
  void AddTable(const std::string& schema, const std::string& store_arg);

  // ---- Write transactions (transaction.cc).
  // xBegin: starts the store transaction unless one is open (takes the
  // store's writer, waiting up to its lock timeout).
  Status Begin();
  // Writes through the open transaction.
  Status Write(WriteBatch& batch, std::vector<int64_t>* assigned_ids = nullptr);
  bool in_transaction() const { return txn_ != nullptr; }
  // xSync (the first of the session's tables prepares; the rest find it
  // done), xCommit, xRollback.
  Status Sync();
  Status Commit();
  void Rollback();
  // xSavepoint, xRollbackTo, xRelease: SQLite's savepoint levels.
  void Savepoint(int level);
  Status RollbackTo(int level);
  void Release(int level);

  // Creates zcmedia_watermarks in `schema` if it is missing (xCreate).
  static Status CreateWatermarkTable(sqlite3* db, const std::string& schema);

 private:
  StoreSession(sqlite3* db, std::shared_ptr<SharedStore> store) : db_(db), store_(std::move(store)) {}
  using StatementRuns = std::vector<std::pair<sqlite3_stmt*, int>>;
  // The statements running now, with their run counts.
  StatementRuns RunningStatements() const;
  // Once per session, before its first read or write: commits a store
  // transaction that SQLite committed but the store did not (a crash
  // between the two commits).
  Status RecoverOnce();
  // The highest watermark the connection's databases hold for this store.
  Status WatermarkInDatabase(uint64_t* sequence);
  Status WriteWatermarks(uint64_t sequence);

  sqlite3* const db_;
  const std::shared_ptr<SharedStore> store_;
  std::vector<std::pair<std::string, std::string>> tables_;  // (schema, store= as written)
  int open_cursors_ = 0;
  std::shared_ptr<const Snapshot> pinned_;  // the newest snapshot handed out
  struct Retired {
    std::shared_ptr<const Snapshot> snapshot;
    StatementRuns users;
  };
  std::vector<Retired> retired_;

  // Ends the use of the writer: the transaction (if any) first, then the
  // lease that kept the writer open (SharedStore::Writer).
  void ReleaseWriter();

  bool recovered_ = false;
  std::shared_ptr<Store> writer_;  // a lease, held from Begin to Commit / Rollback; outlives txn_
  std::unique_ptr<Transaction> txn_;
  uint64_t begin_mark_ = 0;
  std::map<int, uint64_t> savepoints_;  // SQLite savepoint level -> store mark
  bool prepared_ = false;
};

}  // namespace zcmedia::vtab
