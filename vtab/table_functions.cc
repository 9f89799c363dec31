// zcmedia_stats('DIR') and zcmedia_check('DIR' [, 'deep']): eponymous-only
// table-valued functions (xCreate NULL, as SQLite's ext/misc/series.c), one
// module each, for monitoring a store from SQL:
//
//   SELECT * FROM zcmedia_stats('/srv/media.zc');         -- name, value
//   SELECT * FROM zcmedia_check('/srv/media.zc', 'deep');  -- kind, file, offset, message
//
// The arguments are HIDDEN columns (dir, then mode) that SQLite hands to
// xBestIndex as `=` constraints. DIR resolves as a table's store= does
// (ResolveStoreDir: relative to the main database file's directory). The
// store is opened through SharedStore, so a store this process already has
// open (a table, another statement) is the one asked; a missing store is
// an error naming the directory, never created.
//
// zcmedia_stats: one row per figure of Store::GetStats (zcmedia/stats.h:
// the JSON export's keys, nested ones as `files.audio`, `errors.corruption`)
// and the snapshot's next ids. Values are INTEGER except the two REAL rates.
// zcmedia_check: one row per problem of CheckStore (zcmedia/check.h): kind
// 'index' (derived index state: RepairIndexes fixes it) or 'data' (records
// or META damaged), the file, the byte offset (0 when none applies) and the
// message; a sound store gives one row of kind 'ok' whose message sums up
// what was verified.
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "module.h"
#include "shared_store.h"
#include "guard.h"
#include "table.h"
#include "values.h"
#include "zcmedia/check.h"

namespace zcmedia::vtab {
namespace {

// Which function a module instance is.
enum class Function { kStats, kCheck };

struct FunctionInfo {
  const char* name;
  const char* declaration;
  int dir_column;   // HIDDEN: the first argument
  int mode_column;  // HIDDEN: the second argument, or -1
  int columns;      // visible ones
};

const FunctionInfo kStatsInfo = {"zcmedia_stats", "CREATE TABLE x(name TEXT, value, dir HIDDEN)", 2, -1, 2};
const FunctionInfo kCheckInfo = {
    "zcmedia_check", "CREATE TABLE x(kind TEXT, file TEXT, offset INTEGER, message TEXT, dir HIDDEN, mode HIDDEN)",
    4, 5, 4};

const FunctionInfo& InfoOf(Function f) { return f == Function::kStats ? kStatsInfo : kCheckInfo; }

// One output cell: NULL, INTEGER, REAL or TEXT (owned: the rows are built
// in xFilter from values that do not outlive it).
using Cell = std::variant<std::monostate, int64_t, double, std::string>;

struct FunctionTable : sqlite3_vtab {
  FunctionTable(sqlite3* connection, Function f) : db(connection), function(f) {
    pModule = nullptr;
    nRef = 0;
    zErrMsg = nullptr;
  }
  sqlite3* const db;
  const Function function;

  int Fail(int code, const std::string& message) {
    sqlite3_free(zErrMsg);
    zErrMsg = sqlite3_mprintf("%s", message.c_str());
    return code;
  }
};

struct FunctionCursor : sqlite3_vtab_cursor {
  explicit FunctionCursor(FunctionTable* table) { pVtab = table; }
  FunctionTable* table() const { return static_cast<FunctionTable*>(pVtab); }

  std::vector<std::vector<Cell>> rows;
  size_t row = 0;
  Cell dir, mode;  // the arguments, for the hidden columns
};


// ---- the rows ---------------------------------------------------------------

const char* const kFamilyNames[kMimeFamilies] = {"audio", "video", "image", "other"};
const char* const kCodeNames[kStatusCodeCount] = {"ok",   "not_found", "corruption", "io_error", "invalid_argument",
                                                  "constraint", "busy", "read_only"};

void StatsRows(Store& store, std::vector<std::vector<Cell>>* rows) {
  const StoreStats s = store.GetStats();
  const std::shared_ptr<const Snapshot> snapshot = store.GetSnapshot();
  auto add = [&](std::string name, Cell value) { rows->push_back({std::move(name), std::move(value)}); };
  auto u = [](uint64_t v) { return Cell(static_cast<int64_t>(v)); };
  add("directory", store.directory());
  add("records_stored", u(s.records_stored));
  add("records_updated", u(s.records_updated));
  add("records_removed", u(s.records_removed));
  add("bytes_appended", u(s.bytes_appended));
  add("batches", u(s.batches));
  add("commits", u(s.commits));
  add("checkpoints", u(s.checkpoints));
  add("index_merges", u(s.index_merges));
  add("lookups", u(s.lookups));
  for (int c = 1; c < kStatusCodeCount; ++c) add(std::string("errors.") + kCodeNames[c], u(s.errors[c]));
  add("records_per_second", s.records_per_second);
  add("interval_seconds", s.interval_seconds);
  add("sequence", u(s.sequence));
  add("record_count", u(s.record_count));
  add("playlists", u(s.playlists));
  add("playlist_entries", u(s.playlist_entries));
  uint64_t files = 0;
  int64_t bytes = 0;
  for (int f = 0; f < kMimeFamilies; ++f) {
    add(std::string("files.") + kFamilyNames[f], u(s.files[f]));
    files += s.files[f];
  }
  for (int f = 0; f < kMimeFamilies; ++f) {
    add(std::string("bytes.") + kFamilyNames[f], Cell(s.bytes[f]));
    bytes += s.bytes[f];
  }
  add("files.total", u(files));
  add("bytes.total", Cell(bytes));
  add("dead_bytes", u(s.dead_bytes));
  add("segment_bytes", u(s.segment_bytes));
  add("index_bytes", u(s.index_bytes));
  add("index_runs", u(s.index_runs));
  add("memtable_records", u(s.memtable_records));
  add("process_anon_bytes", u(s.process_anon_bytes));
  add("memory_budget", u(s.memory_budget));
  add("cache_hits", u(s.cache_hits));
  add("cache_misses", u(s.cache_misses));
  add("cache_inserts", u(s.cache_inserts));
  add("cache_evictions", u(s.cache_evictions));
  add("cache_entries", u(s.cache_entries));
  add("cache_bytes", u(s.cache_bytes));
  add("cache_capacity", u(s.cache_capacity));
  add("next_id", Cell(snapshot->next_id()));
  add("next_playlist_id", Cell(snapshot->next_playlist_id()));
  add("next_playlist_entry_id", Cell(snapshot->next_playlist_entry_id()));
}

void CheckRows(const CheckReport& report, const std::string& directory, std::vector<std::vector<Cell>>* rows) {
  if (report.ok()) {
    std::string summary = report.ToString();
    while (!summary.empty() && summary.back() == '\n') summary.pop_back();
    // "...verified\nno problems found" on one line: "...verified; no problems found"
    for (size_t at = summary.find('\n'); at != std::string::npos; at = summary.find('\n', at))
      summary.replace(at, 1, "; ");
    rows->push_back({std::string("ok"), directory, Cell(int64_t{0}), summary});
    return;
  }
  for (const CheckProblem& p : report.problems)
    rows->push_back({std::string(p.index_only ? "index" : "data"), p.file, Cell(static_cast<int64_t>(p.offset)),
                     p.message});
}

// ---- the callbacks ----------------------------------------------------------

int Connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char** err) {
  *out = nullptr;
  const Function function = *static_cast<const Function*>(aux);
  int rc = sqlite3_declare_vtab(db, InfoOf(function).declaration);
  if (rc != SQLITE_OK) {
    *err = sqlite3_mprintf("%s: declaring the table failed: %s", InfoOf(function).name, sqlite3_errmsg(db));
    return rc;
  }
  // They open whatever directory the SQL names: a view or trigger in a
  // database someone else wrote must not be able to make the reader's
  // process open its files (SQLite's csv extension is DIRECTONLY for the
  // same reason). Direct SQL only.
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  *out = new FunctionTable(db, function);
  return SQLITE_OK;
}

int xConnect(sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** out, char** err) {
  return GuardCall(nullptr, [&] { return Connect(db, aux, argc, argv, out, err); });
}

int xDisconnect(sqlite3_vtab* vtab) {
  delete static_cast<FunctionTable*>(vtab);
  return SQLITE_OK;
}

// idxNum: bit 1, the mode argument is there (argv: dir, then mode); bit 4,
// the dir argument is not (the plan only fails, with a clear message).
constexpr int kHasMode = 2;
constexpr int kNoDir = 4;

int BestIndex(FunctionTable* table, sqlite3_index_info* info) {
  const FunctionInfo& fi = InfoOf(table->function);
  int dir = -1, mode = -1;
  bool unusable = false;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (c.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (c.iColumn == fi.dir_column) {
      if (!c.usable) unusable = true;
      else if (dir < 0) dir = i;
    } else if (fi.mode_column >= 0 && c.iColumn == fi.mode_column) {
      if (!c.usable) unusable = true;
      else if (mode < 0) mode = i;
    }
  }
  // An argument that another loop of a join supplies: not this plan
  // (series.c's way; SQLite then puts that loop first).
  if (unusable) return SQLITE_CONSTRAINT;
  if (dir < 0) {
    // No dir at all. SQLite also asks with parts of the WHERE clause only
    // (each branch of an OR), where the argument is absent but the whole
    // query has it, so this is no error here: a plan that costs more than
    // any other and fails in xFilter naming the missing argument.
    info->idxNum = kNoDir;
    info->estimatedCost = 1e99;
    info->estimatedRows = int64_t{1} << 40;
    return SQLITE_OK;
  }
  info->aConstraintUsage[dir].argvIndex = 1;
  info->aConstraintUsage[dir].omit = 1;
  info->idxNum = 0;
  if (mode >= 0) {
    info->aConstraintUsage[mode].argvIndex = 2;
    info->aConstraintUsage[mode].omit = 1;
    info->idxNum |= kHasMode;
  }
  info->estimatedCost = table->function == Function::kStats ? 10.0 : 1e6;
  info->estimatedRows = table->function == Function::kStats ? 50 : 1;
  return SQLITE_OK;
}

int xBestIndex(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  return GuardCall(vtab, [&] { return BestIndex(static_cast<FunctionTable*>(vtab), info); });
}

int xOpen(sqlite3_vtab* vtab, sqlite3_vtab_cursor** out) {
  return GuardCall(vtab, [&] {
    *out = new FunctionCursor(static_cast<FunctionTable*>(vtab));
    return SQLITE_OK;
  });
}

int xClose(sqlite3_vtab_cursor* cursor) {
  delete static_cast<FunctionCursor*>(cursor);
  return SQLITE_OK;
}

Cell ArgumentCell(sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER: return Cell(static_cast<int64_t>(sqlite3_value_int64(v)));
    case SQLITE_FLOAT: return Cell(sqlite3_value_double(v));
    case SQLITE_NULL: return Cell();
    default: return Cell(AsText(v).value_or(std::string()));
  }
}

int Filter(FunctionCursor* cursor, int idx_num, int argc, sqlite3_value** argv) {
  FunctionTable* table = cursor->table();
  const FunctionInfo& fi = InfoOf(table->function);
  cursor->rows.clear();
  cursor->row = 0;
  if ((idx_num & kNoDir) != 0 || argc < 1)
    return table->Fail(SQLITE_ERROR, std::string(fi.name) + ": the store directory argument is missing: SELECT * FROM " +
                                         fi.name + "('DIR')");
  cursor->dir = ArgumentCell(argv[0]);
  cursor->mode = (idx_num & kHasMode) != 0 && argc >= 2 ? ArgumentCell(argv[1]) : Cell();
  const int dir_type = sqlite3_value_type(argv[0]);
  if (dir_type == SQLITE_NULL || dir_type == SQLITE_BLOB)
    return table->Fail(SQLITE_ERROR, std::string(fi.name) + ": the store directory argument is " +
                                         (dir_type == SQLITE_NULL ? "NULL" : "a blob") + "; give the store's directory as text");
  const std::string dir = AsText(argv[0]).value_or("");
  if (dir.empty()) return table->Fail(SQLITE_ERROR, std::string(fi.name) + ": the store directory argument is ''");

  bool deep = false;
  if (table->function == Function::kCheck && (idx_num & kHasMode) != 0) {
    const std::optional<std::string> mode = AsText(argv[1]);
    if (mode && sqlite3_stricmp(mode->c_str(), "deep") == 0) deep = true;
    else if (mode && sqlite3_stricmp(mode->c_str(), "fast") == 0) deep = false;
    else if (mode || sqlite3_value_type(argv[1]) == SQLITE_BLOB)
      return table->Fail(SQLITE_ERROR, std::string(fi.name) + ": unknown mode '" + mode.value_or("<blob>") +
                                           "' (use 'deep', 'fast' or leave it out)");
  }

  std::shared_ptr<SharedStore> shared;
  Status s = SharedStore::Acquire(ResolveStoreDir(table->db, "main", dir), /*create=*/false, &shared);
  if (!s.ok()) return table->Fail(SqliteCode(s), std::string(fi.name) + "('" + dir + "'): " + s.message());
  if (table->function == Function::kStats) {
    std::shared_ptr<Store> store;
    s = shared->AnyStore(&store);
    if (!s.ok()) return table->Fail(SqliteCode(s), std::string(fi.name) + "('" + dir + "'): " + s.message());
    StatsRows(*store, &cursor->rows);
  } else {
    CheckReport report;
    s = CheckStore(shared->directory(), deep, &report);
    if (!s.ok()) return table->Fail(SqliteCode(s), std::string(fi.name) + "('" + dir + "'): " + s.message());
    CheckRows(report, shared->directory(), &cursor->rows);
  }
  return SQLITE_OK;
}

int xFilter(sqlite3_vtab_cursor* cursor, int idx_num, const char*, int argc, sqlite3_value** argv) {
  return GuardCall(cursor->pVtab, [&] { return Filter(static_cast<FunctionCursor*>(cursor), idx_num, argc, argv); });
}

int xNext(sqlite3_vtab_cursor* cursor) {
  ++static_cast<FunctionCursor*>(cursor)->row;
  return SQLITE_OK;
}

int xEof(sqlite3_vtab_cursor* cursor) {
  const FunctionCursor* c = static_cast<FunctionCursor*>(cursor);
  return c->row >= c->rows.size() ? 1 : 0;
}

void ResultCell(sqlite3_context* ctx, const Cell& cell) {
  if (const int64_t* i = std::get_if<int64_t>(&cell)) sqlite3_result_int64(ctx, *i);
  else if (const double* d = std::get_if<double>(&cell)) sqlite3_result_double(ctx, *d);
  else if (const std::string* t = std::get_if<std::string>(&cell))
    sqlite3_result_text(ctx, t->data(), static_cast<int>(t->size()), SQLITE_TRANSIENT);
  else sqlite3_result_null(ctx);
}

int xColumn(sqlite3_vtab_cursor* cursor, sqlite3_context* ctx, int column) {
  return GuardCall(cursor->pVtab, [&] {
    const FunctionCursor* c = static_cast<FunctionCursor*>(cursor);
    const FunctionInfo& fi = InfoOf(c->table()->function);
    if (column == fi.dir_column) ResultCell(ctx, c->dir);
    else if (column == fi.mode_column) ResultCell(ctx, c->mode);
    else if (column >= 0 && column < fi.columns) ResultCell(ctx, c->rows[c->row][static_cast<size_t>(column)]);
    else sqlite3_result_null(ctx);
    return SQLITE_OK;
  });
}

int xRowid(sqlite3_vtab_cursor* cursor, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(static_cast<FunctionCursor*>(cursor)->row) + 1;
  return SQLITE_OK;
}

sqlite3_module& FunctionModule() {
  static sqlite3_module module = [] {
    sqlite3_module m{};
    m.iVersion = 0;
    m.xCreate = nullptr;  // eponymous only: no CREATE VIRTUAL TABLE ... USING zcmedia_stats
    m.xConnect = xConnect;
    m.xBestIndex = xBestIndex;
    m.xDisconnect = xDisconnect;
    m.xDestroy = nullptr;
    m.xOpen = xOpen;
    m.xClose = xClose;
    m.xFilter = xFilter;
    m.xNext = xNext;
    m.xEof = xEof;
    m.xColumn = xColumn;
    m.xRowid = xRowid;
    return m;
  }();
  return module;
}

// The module's client data: which function (static, never freed).
const Function kStats = Function::kStats;
const Function kCheck = Function::kCheck;

}  // namespace

int RegisterTableFunctions(sqlite3* db) {
  int rc = sqlite3_create_module_v2(db, kStatsInfo.name, &FunctionModule(), const_cast<Function*>(&kStats), nullptr);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_module_v2(db, kCheckInfo.name, &FunctionModule(), const_cast<Function*>(&kCheck), nullptr);
  return rc;
}

}  // namespace zcmedia::vtab
