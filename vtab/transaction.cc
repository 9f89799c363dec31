// StoreSession's write transactions: two-phase commit between the store and
// the SQLite transaction around it (session.h has the protocol).
#include <algorithm>

#include "session.h"

namespace zcmedia::vtab {
namespace {

std::string Quoted(const std::string& identifier) {
  std::string out = "\"";
  for (char c : identifier) {
    out.push_back(c);
    if (c == '"') out.push_back('"');
  }
  return out + "\"";
}

Status SqliteError(sqlite3* db, const std::string& what) {
  return Status::IOError("zcmedia: " + what + ": " + sqlite3_errmsg(db));
}

}  // namespace

Status StoreSession::CreateWatermarkTable(sqlite3* db, const std::string& schema) {
  const std::string sql = "CREATE TABLE IF NOT EXISTS " + Quoted(schema) +
                          ".zcmedia_watermarks(store TEXT PRIMARY KEY, sequence INTEGER NOT NULL)";
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    return SqliteError(db, "creating " + schema + ".zcmedia_watermarks");
  return Status::OK();
}

void StoreSession::AddTable(const std::string& schema, const std::string& store_arg) {
  const std::pair<std::string, std::string> key{schema, store_arg};
  if (std::find(tables_.begin(), tables_.end(), key) == tables_.end()) tables_.push_back(key);
}

Status StoreSession::WatermarkInDatabase(uint64_t* sequence) {
  *sequence = 0;
  for (const auto& [schema, store_arg] : tables_) {
    const std::string sql = "SELECT sequence FROM " + Quoted(schema) + ".zcmedia_watermarks WHERE store = ?1";
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      sqlite3_finalize(stmt);
      continue;  // no watermark table in that database: nothing was committed through it
    }
    sqlite3_bind_text(stmt, 1, store_arg.data(), static_cast<int>(store_arg.size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) *sequence = std::max(*sequence, static_cast<uint64_t>(sqlite3_column_int64(stmt, 0)));
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteError(db_, "reading " + schema + ".zcmedia_watermarks");
  }
  return Status::OK();
}

Status StoreSession::WriteWatermarks(uint64_t sequence) {
  // The user's last_insert_rowid() is theirs, not this row's.
  const sqlite3_int64 last_rowid = sqlite3_last_insert_rowid(db_);
  struct Restore {
    sqlite3* db;
    sqlite3_int64 rowid;
    ~Restore() { sqlite3_set_last_insert_rowid(db, rowid); }
  } restore{db_, last_rowid};
  for (const auto& [schema, store_arg] : tables_) {
    const std::string sql =
        "INSERT OR REPLACE INTO " + Quoted(schema) + ".zcmedia_watermarks(store, sequence) VALUES (?1, ?2)";
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return SqliteError(db_, "recording the store's commit in " + schema +
                                  ".zcmedia_watermarks (recreate it with CREATE TABLE zcmedia_watermarks(store TEXT "
                                  "PRIMARY KEY, sequence INTEGER NOT NULL))");
    }
    sqlite3_bind_text(stmt, 1, store_arg.data(), static_cast<int>(store_arg.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, static_cast<sqlite3_int64>(sequence));
    const int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return SqliteError(db_, "recording the store's commit in " + schema + ".zcmedia_watermarks");
  }
  return Status::OK();
}

Status StoreSession::RecoverOnce() {
  if (recovered_) return Status::OK();
  uint64_t watermark = 0;
  ZC_RETURN_IF_ERROR(WatermarkInDatabase(&watermark));
  std::shared_ptr<const Snapshot> latest;
  ZC_RETURN_IF_ERROR(store_->LatestSnapshot(&latest));
  if (watermark > latest->sequence()) {
    std::shared_ptr<Store> writer;
    Status s = store_->Writer(&writer);
    // Another process holds the writer: it is alive and will finish (or
    // recover) that commit itself; look again next time.
    if (s.IsBusy()) return Status::OK();
    ZC_RETURN_IF_ERROR(s);
    s = writer->CommitPrepared(watermark);
    writer.reset();  // the lease: the writer's idle time starts
    if (!s.ok())
      return Status::Corruption("the database " + std::string(sqlite3_db_filename(db_, "main")) +
                                " records store commit " + std::to_string(watermark) + " but the store in " +
                                store_->directory() + " cannot provide it: " + s.message());
    pinned_.reset();
  }
  recovered_ = true;
  return Status::OK();
}

Status StoreSession::Begin() {
  ZC_RETURN_IF_ERROR(RecoverOnce());
  if (txn_) return Status::OK();
  ZC_RETURN_IF_ERROR(store_->Writer(&writer_));
  if (Status s = writer_->BeginTransaction(&txn_); !s.ok()) {
    ReleaseWriter();
    return s;
  }
  begin_mark_ = txn_->Mark();
  savepoints_.clear();
  prepared_ = false;
  return Status::OK();
}

Status StoreSession::Write(WriteBatch& batch, std::vector<int64_t>* assigned_ids) {
  if (!txn_) ZC_RETURN_IF_ERROR(Begin());
  return txn_->Write(batch, assigned_ids);
}

Status StoreSession::Sync() {
  if (!txn_ || prepared_) return Status::OK();
  uint64_t sequence = 0;
  ZC_RETURN_IF_ERROR(txn_->Prepare(&sequence));
  prepared_ = true;
  std::shared_ptr<const Snapshot> latest;
  ZC_RETURN_IF_ERROR(store_->LatestSnapshot(&latest));
  // A transaction that changed nothing commits nothing: no watermark.
  if (sequence > latest->sequence()) ZC_RETURN_IF_ERROR(WriteWatermarks(sequence));
  return Status::OK();
}

Status StoreSession::Commit() {
  if (!txn_) return Status::OK();
  Status s = txn_->Commit();
  if (!s.ok()) {
    // SQLite has committed (its xCommit result is ignored): the store's
    // transaction stays prepared, and the next use of the session commits
    // it from the watermark (the transaction, destroyed below, removes no
    // file of a commit in doubt).
    recovered_ = false;
  }
  ReleaseWriter();
  savepoints_.clear();
  prepared_ = false;
  pinned_.reset();
  return s;
}

void StoreSession::Rollback() {
  if (txn_) txn_->Rollback();
  ReleaseWriter();
  savepoints_.clear();
  prepared_ = false;
}

void StoreSession::ReleaseWriter() {
  txn_.reset();
  writer_.reset();  // the lease: the writer's idle time starts
}

void StoreSession::Savepoint(int level) {
  // Every table of the session is told; the first call marks the level. A
  // table joining later is told of the levels already open: no new mark.
  if (txn_ && savepoints_.count(level) == 0) savepoints_[level] = txn_->Mark();
}

Status StoreSession::RollbackTo(int level) {
  if (!txn_) return Status::OK();
  // A level without a mark was opened before the transaction began.
  auto it = savepoints_.find(level);
  const uint64_t token = it != savepoints_.end() ? it->second : begin_mark_;
  savepoints_.erase(savepoints_.upper_bound(level), savepoints_.end());
  return txn_->RollbackTo(token);
}

void StoreSession::Release(int level) { savepoints_.erase(savepoints_.lower_bound(level), savepoints_.end()); }

}  // namespace zcmedia::vtab
