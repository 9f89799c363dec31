#include "session.h"

#include <algorithm>
#include <map>
#include <mutex>

namespace zcmedia::vtab {
namespace {

std::mutex sessions_mu;
std::map<std::pair<sqlite3*, const SharedStore*>, std::weak_ptr<StoreSession>>& Sessions() {
  static auto* sessions = new std::map<std::pair<sqlite3*, const SharedStore*>, std::weak_ptr<StoreSession>>();
  return *sessions;
}

}  // namespace

std::shared_ptr<StoreSession> StoreSession::For(sqlite3* db, std::shared_ptr<SharedStore> store) {
  std::lock_guard<std::mutex> g(sessions_mu);
  auto& slot = Sessions()[{db, store.get()}];
  std::shared_ptr<StoreSession> session = slot.lock();
  if (!session) {
    session.reset(new StoreSession(db, std::move(store)));
    slot = session;
  }
  return session;
}

StoreSession::~StoreSession() {
  ReleaseWriter();
  std::lock_guard<std::mutex> g(sessions_mu);
  auto it = Sessions().find({db_, store_.get()});
  if (it != Sessions().end() && it->second.expired()) Sessions().erase(it);
}

StoreSession::StatementRuns StoreSession::RunningStatements() const {
  StatementRuns running;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db_, nullptr); s != nullptr; s = sqlite3_next_stmt(db_, s)) {
    if (sqlite3_stmt_busy(s)) running.emplace_back(s, sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0));
  }
  return running;
}

Status StoreSession::ReadSnapshot(std::shared_ptr<const Snapshot>* snapshot, bool* committed) {
  ZC_RETURN_IF_ERROR(RecoverOnce());
  if (txn_) {
    // The connection's own writes are visible; their bytes are not
    // committed (a rollback reuses them), so SQLite must copy text.
    *snapshot = txn_->GetSnapshot();
    *committed = false;
    return Status::OK();
  }
  // Walking the connection's statements takes SQLite's mutex per
  // statement: done only when a retired snapshot waits for its statements
  // or the pinned one is about to be replaced.
  if (!retired_.empty()) {
    const StatementRuns running = RunningStatements();
    std::erase_if(retired_, [&](const Retired& r) {
      for (const auto& u : r.users)
        if (std::find(running.begin(), running.end(), u) != running.end()) return false;
      return true;
    });
  }
  // Another cursor of this session is open (the caller's own counts one):
  // share its snapshot.
  if (!pinned_ || open_cursors_ <= 1) {
    std::shared_ptr<const Snapshot> latest;
    ZC_RETURN_IF_ERROR(store_->LatestSnapshot(&latest));
    if (pinned_ != latest) {
      // Statements running now may hold text of the old snapshot (they are
      // the only ones that can): it lives until they are done.
      if (pinned_) {
        StatementRuns running = RunningStatements();
        if (!running.empty()) retired_.push_back({std::move(pinned_), std::move(running)});
      }
      pinned_ = std::move(latest);
    }
  }
  *snapshot = pinned_;
  *committed = true;
  return Status::OK();
}

}  // namespace zcmedia::vtab
