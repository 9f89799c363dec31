// Registration of the zcmedia module on a connection (module.cc).
#pragma once

#include "sqlite_api.h"

namespace zcmedia::vtab {
int RegisterModule(sqlite3* db);
}  // namespace zcmedia::vtab

namespace zcmedia::vtab {
// zcmedia_stats('DIR') and zcmedia_check('DIR') (table_functions.cc).
int RegisterTableFunctions(sqlite3* db);
}  // namespace zcmedia::vtab
