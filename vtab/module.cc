// The zcmedia module: SQLite's C callbacks, each in one place, each turning
// into a call on the Table or Cursor (table.h) inside GuardCall (guard.h),
// which keeps C++ exceptions out of SQLite.
#include "module.h"

#include <new>
#include <string>
#include <utility>
#include <vector>

#include "guard.h"
#include "table.h"
#include "tables.h"
#include "zcmedia/table_arguments.h"

namespace zcmedia::vtab {
namespace {


struct CreateArgs {
  std::string store;
  std::string kind;
};

Status ParseArgs(int argc, const char* const* argv, const std::string& table, CreateArgs* out) {
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (eq == std::string::npos)
      return Status::InvalidArgument("zcmedia table " + table + ": argument '" + arg +
                                     "' is not key=value (expected store='DIR', kind='media_files')");
    const std::string key = UnquoteArgument(arg.substr(0, eq));
    const std::string value = UnquoteArgument(arg.substr(eq + 1));
    if (key == "store") out->store = value;
    else if (key == "kind") out->kind = value;
    else
      return Status::InvalidArgument("zcmedia table " + table + ": unknown argument '" + key +
                                     "' (known: store, kind)");
  }
  if (out->store.empty())
    return Status::InvalidArgument("zcmedia table " + table + ": store='DIR' is required");
  if (out->kind.empty()) out->kind = table;  // CREATE VIRTUAL TABLE media_files USING zcmedia(store=...)
  return Status::OK();
}

int CreateOrConnect(bool create, sqlite3* db, int argc, const char* const* argv, sqlite3_vtab** out,
                    char** err) {
  *out = nullptr;
  auto fail = [&](const Status& s) {
    *err = sqlite3_mprintf("%s", s.message().c_str());
    return SqliteCode(s) == SQLITE_OK ? SQLITE_ERROR : SqliteCode(s);
  };
  const std::string schema = argv[1];
  const std::string table = argv[2];
  CreateArgs args;
  Status s = ParseArgs(argc, argv, table, &args);
  if (!s.ok()) return fail(s);
  std::optional<TableKind> kind = TableKindNamed(args.kind);
  if (!kind)
    return fail(Status::InvalidArgument("zcmedia table " + table + ": unknown kind '" + args.kind +
                                        "' (kinds: media_files, playlists, playlist_entries)"));
  std::shared_ptr<SharedStore> store;
  s = SharedStore::Acquire(ResolveStoreDir(db, argv[1], args.store), create, &store);
  if (!s.ok()) {
    *err = sqlite3_mprintf("zcmedia table %s: %s", table.c_str(), s.message().c_str());
    return SqliteCode(s);
  }
  if (create) {
    s = StoreSession::CreateWatermarkTable(db, schema);
    if (!s.ok()) return fail(s);
  }
  std::shared_ptr<StoreSession> session = StoreSession::For(db, std::move(store));
  session->AddTable(schema, args.store);
  std::unique_ptr<Table> t = NewTable(*kind, db, schema, table, std::move(session));
  if (!t) return fail(Status::InvalidArgument("zcmedia table " + table + ": kind '" + args.kind + "' is not available yet"));
  int rc = sqlite3_declare_vtab(db, t->Declaration());
  if (rc != SQLITE_OK) return rc;
  sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  *out = t.release();
  return SQLITE_OK;
}

int xCreate(sqlite3* db, void*, int argc, const char* const* argv, sqlite3_vtab** out, char** err) {
  return GuardCall(nullptr, [&] { return CreateOrConnect(true, db, argc, argv, out, err); });
}
int xConnect(sqlite3* db, void*, int argc, const char* const* argv, sqlite3_vtab** out, char** err) {
  return GuardCall(nullptr, [&] { return CreateOrConnect(false, db, argc, argv, out, err); });
}
int xBestIndex(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  return GuardCall(vtab, [&] { return static_cast<Table*>(vtab)->BestIndex(info); });
}
int xDisconnect(sqlite3_vtab* vtab) {
  delete static_cast<Table*>(vtab);
  return SQLITE_OK;
}
int xOpen(sqlite3_vtab* vtab, sqlite3_vtab_cursor** out) {
  return GuardCall(vtab, [&] {
    *out = static_cast<Table*>(vtab)->NewCursor().release();
    return SQLITE_OK;
  });
}
int xClose(sqlite3_vtab_cursor* cursor) {
  delete static_cast<Cursor*>(cursor);
  return SQLITE_OK;
}
int xFilter(sqlite3_vtab_cursor* cursor, int idx_num, const char* idx_str, int argc, sqlite3_value** argv) {
  return GuardCall(cursor->pVtab, [&] { return static_cast<Cursor*>(cursor)->Filter(idx_num, idx_str, argc, argv); });
}
int xNext(sqlite3_vtab_cursor* cursor) {
  return GuardCall(cursor->pVtab, [&] { return static_cast<Cursor*>(cursor)->Next(); });
}
int xEof(sqlite3_vtab_cursor* cursor) { return static_cast<Cursor*>(cursor)->Eof() ? 1 : 0; }
int xColumn(sqlite3_vtab_cursor* cursor, sqlite3_context* ctx, int column) {
  return GuardCall(cursor->pVtab, [&] { return static_cast<Cursor*>(cursor)->Column(ctx, column); });
}
int xRowid(sqlite3_vtab_cursor* cursor, sqlite3_int64* rowid) {
  return GuardCall(cursor->pVtab, [&] { return static_cast<Cursor*>(cursor)->Rowid(rowid); });
}
// xUpdate: argc == 1: DELETE argv[0]. argc > 1 and argv[0] NULL: INSERT
// (argv[1] the new rowid or NULL to assign one, which goes to *rowid).
// argc > 1 otherwise: UPDATE of row argv[0], new rowid argv[1]. argv[2..] are
// the columns in declaration order.
int xUpdate(sqlite3_vtab* vtab, int argc, sqlite3_value** argv, sqlite3_int64* rowid) {
  return GuardCall(vtab, [&] { return static_cast<Table*>(vtab)->Update(argc, argv, rowid); });
}

// Transactions: the session of the table (shared by the connection's
// tables on one store) does the work; session.h has the protocol. SQLite
// ignores what xCommit and xRollback return (vtab.c callFinaliser).
int xBegin(sqlite3_vtab* vtab) {
  return GuardCall(vtab, [&] { return static_cast<Table*>(vtab)->Fail(static_cast<Table*>(vtab)->session().Begin()); });
}
int xSync(sqlite3_vtab* vtab) {
  return GuardCall(vtab, [&] { return static_cast<Table*>(vtab)->Fail(static_cast<Table*>(vtab)->session().Sync()); });
}
int xCommit(sqlite3_vtab* vtab) {
  return GuardCall(vtab, [&] { return static_cast<Table*>(vtab)->Fail(static_cast<Table*>(vtab)->session().Commit()); });
}
int xRollback(sqlite3_vtab* vtab) {
  return GuardCall(vtab, [&] {
    static_cast<Table*>(vtab)->session().Rollback();
    return SQLITE_OK;
  });
}
int xSavepoint(sqlite3_vtab* vtab, int level) {
  return GuardCall(vtab, [&] {
    static_cast<Table*>(vtab)->session().Savepoint(level);
    return SQLITE_OK;
  });
}
int xRelease(sqlite3_vtab* vtab, int level) {
  return GuardCall(vtab, [&] {
    static_cast<Table*>(vtab)->session().Release(level);
    return SQLITE_OK;
  });
}
int xRollbackTo(sqlite3_vtab* vtab, int level) {
  return GuardCall(vtab, [&] {
    return static_cast<Table*>(vtab)->Fail(static_cast<Table*>(vtab)->session().RollbackTo(level));
  });
}
int xRename(sqlite3_vtab*, const char*) { return SQLITE_OK; }  // nothing is named after the table

sqlite3_module& Module() {
  static sqlite3_module module = [] {
    sqlite3_module m{};
    m.iVersion = 2;
    m.xCreate = xCreate;
    m.xConnect = xConnect;
    m.xBestIndex = xBestIndex;
    m.xDisconnect = xDisconnect;
    m.xDestroy = xDisconnect;
    m.xOpen = xOpen;
    m.xClose = xClose;
    m.xFilter = xFilter;
    m.xNext = xNext;
    m.xEof = xEof;
    m.xColumn = xColumn;
    m.xRowid = xRowid;
    m.xUpdate = xUpdate;
    m.xBegin = xBegin;
    m.xSync = xSync;
    m.xCommit = xCommit;
    m.xRollback = xRollback;
    m.xRename = xRename;
    m.xSavepoint = xSavepoint;
    m.xRelease = xRelease;
    m.xRollbackTo = xRollbackTo;
    return m;
  }();
  return module;
}

}  // namespace

int RegisterModule(sqlite3* db) { return sqlite3_create_module_v2(db, "zcmedia", &Module(), nullptr, nullptr); }

}  // namespace zcmedia::vtab
