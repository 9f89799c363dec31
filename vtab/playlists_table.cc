// WORK IN PROGRESS: being written (see git log); refuses to be created meanwhile.
#include "tables.h"

namespace zcmedia::vtab {
std::unique_ptr<Table> NewPlaylistsTable(sqlite3*, std::string, std::string, std::shared_ptr<StoreSession>) {
  return nullptr;
}
}  // namespace zcmedia::vtab
