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
  std::lock_guard<std::mutex> g(sessions_mu);
  auto it = Sessions().find({db_, store_.get()});
  if (it != Sessions().end() && it->second.expired()) Sessions().erase(it);
}

std::vector<std::pair<sqlite3_stmt*, int>> StoreSession::RunningStatements() const {
  std::vector<std::pair<sqlite3_stmt*, int>> running;
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
  std::vector<std::pair<sqlite3_stmt*, int>> running = RunningStatements();
  bool still_used = false;
  for (const auto& user : pinned_users_) {
    if (std::find(running.begin(), running.end(), user) != running.end()) {
      still_used = true;
      break;
    }
  }
  if (!pinned_ || !still_used) {
    std::shared_ptr<const Snapshot> latest;
    ZC_RETURN_IF_ERROR(store_->LatestSnapshot(&latest));
    pinned_ = std::move(latest);
    pinned_users_ = std::move(running);
  } else {
    for (const auto& r : running)
      if (std::find(pinned_users_.begin(), pinned_users_.end(), r) == pinned_users_.end()) pinned_users_.push_back(r);
  }
  *snapshot = pinned_;
  *committed = true;
  return Status::OK();
}

}  // namespace zcmedia::vtab
