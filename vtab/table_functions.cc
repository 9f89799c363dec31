// WORK IN PROGRESS: zcmedia_stats / zcmedia_check are being written.
#include "module.h"

namespace zcmedia::vtab {
int RegisterTableFunctions(sqlite3*) { return SQLITE_OK; }
}  // namespace zcmedia::vtab
