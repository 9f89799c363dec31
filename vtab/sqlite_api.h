// The one way vtab/ sources include SQLite.
//
// The same sources are built twice (vtab/CMakeLists.txt): into the loadable
// extension zcmedia.so, where every sqlite3_* call goes through the
// sqlite3_api table the host hands to the entry point (sqlite3ext.h), and
// into the static library zcmedia_vtab with SQLITE_CORE defined, where the
// calls are direct (programs that link SQLite themselves register the
// module with zcmedia_register). extension.cc holds SQLITE_EXTENSION_INIT1.
#pragma once

#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
