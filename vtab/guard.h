// GuardCall: every SQLite callback of the extension runs its body through
// it, so that no C++ exception crosses into SQLite (DEVELOPERS.md rule 6):
// std::bad_alloc becomes SQLITE_NOMEM, any other exception SQLITE_ERROR
// with its message in the table's zErrMsg.
#pragma once

#include <exception>
#include <new>

#include "sqlite_api.h"

namespace zcmedia::vtab {

template <typename Fn>
int GuardCall(sqlite3_vtab* vtab, Fn&& fn) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  } catch (const std::exception& e) {
    if (vtab != nullptr) {
      sqlite3_free(vtab->zErrMsg);
      vtab->zErrMsg = sqlite3_mprintf("%s", e.what());
    }
    return SQLITE_ERROR;
  } catch (...) {
    return SQLITE_ERROR;
  }
}

}  // namespace zcmedia::vtab
