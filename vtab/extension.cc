// Entry points: sqlite3_zcmedia_init (the loadable extension's, found by
// SQLite from the file name zcmedia.so) and zcmedia_register (static
// linking). Both register everything on one connection.
#include "sqlite_api.h"
SQLITE_EXTENSION_INIT1

#include "module.h"
#include "zcmedia/sqlite_extension.h"

#if defined(ZCMEDIA_LOADABLE)
#define ZCMEDIA_EXPORT __attribute__((visibility("default")))
#else
#define ZCMEDIA_EXPORT
#endif

namespace {
int RegisterAll(sqlite3* db, char** error_message) {
  int rc = zcmedia::vtab::RegisterModule(db);
  if (rc == SQLITE_OK) rc = zcmedia::vtab::RegisterTableFunctions(db);
  if (rc != SQLITE_OK && error_message != nullptr)
    *error_message = sqlite3_mprintf("zcmedia: registering the module failed: %s", sqlite3_errstr(rc));
  return rc;
}
}  // namespace

extern "C" {

#if defined(ZCMEDIA_LOADABLE)
ZCMEDIA_EXPORT int sqlite3_zcmedia_init(sqlite3* db, char** error_message, const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  // Features the module relies on: IN all at once, distinct, rhs values (3.38).
  if (sqlite3_libversion_number() < 3038000) {
    if (error_message != nullptr)
      *error_message = sqlite3_mprintf("zcmedia needs SQLite 3.38 or newer (this is %s)", sqlite3_libversion());
    return SQLITE_ERROR;
  }
  return RegisterAll(db, error_message);
}
#else
int zcmedia_register(sqlite3* db, char** error_message) { return RegisterAll(db, error_message); }

int zcmedia_register_auto(sqlite3* db, char** error_message, const void*) { return RegisterAll(db, error_message); }
#endif

}  // extern "C"
