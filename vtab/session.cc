#include "session.h"

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

Status StoreSession::ReadSnapshot(std::shared_ptr<const Snapshot>* snapshot, bool* committed) {
  if (!pinned_ || pinned_.use_count() == 1) {  // no open cursor holds it
    std::shared_ptr<const Snapshot> latest;
    ZC_RETURN_IF_ERROR(store_->LatestSnapshot(&latest));
    pinned_ = std::make_shared<std::shared_ptr<const Snapshot>>(std::move(latest));
  }
  // An alias: owns a share of pinned_, points at the snapshot.
  *snapshot = std::shared_ptr<const Snapshot>(pinned_, pinned_->get());
  *committed = true;
  return Status::OK();
}

}  // namespace zcmedia::vtab
