#include "library.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "zcmedia/sqlite_extension.h"
#include "zcmedia/table_arguments.h"

namespace zcmedia::scan {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMediaTables[] = {"media_files", "playlists", "playlist_entries"};

// A connection closed on scope exit (statements must be finalized first).
struct Connection {
  sqlite3* db = nullptr;
  ~Connection() {
    if (db != nullptr) sqlite3_close(db);
  }
};

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out.push_back(c);
    if (c == '\'') out.push_back('\'');
  }
  return out + "'";
}

// Splits the module arguments "a='x', b=y" at the commas outside quotes
// (as SQLite does before handing them to xCreate).
std::vector<std::string> SplitArguments(const std::string& text) {
  std::vector<std::string> args;
  std::string current;
  char quote = 0;
  for (char c : text) {
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == ',') {
      args.push_back(current);
      current.clear();
      continue;
    }
    current.push_back(c);
  }
  if (!current.empty() || !args.empty()) args.push_back(current);
  return args;
}

bool IEquals(std::string a, std::string b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// The store= argument of `CREATE VIRTUAL TABLE name USING zcmedia(...)`, or
// an error saying what the declaration is instead.
Status StoreArgumentOf(const std::string& db_path, const std::string& sql, std::string* store) {
  // sqlite_master keeps the statement as written; the module name follows
  // USING, the arguments are inside the outermost parentheses.
  std::string upper = sql;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const bool is_virtual = upper.rfind("CREATE VIRTUAL TABLE", 0) == 0;
  const size_t using_at = upper.find(" USING ");
  if (!is_virtual || using_at == std::string::npos) {
    return Status::InvalidArgument(db_path + " is not a zcmedia library: its media_files is an ordinary table "
                                   "(a legacy media database?): run 'zcmedia migrate " + db_path +
                                   " NEW.db' first, and use NEW.db");
  }
  const size_t open = sql.find('(', using_at);
  const size_t close = sql.rfind(')');
  std::string module = sql.substr(using_at + 7, (open == std::string::npos ? sql.size() : open) - using_at - 7);
  module = vtab::UnquoteArgument(module);
  if (!IEquals(module, "zcmedia")) {
    return Status::InvalidArgument(db_path + " is not a zcmedia library: its media_files is a virtual table of "
                                   "module '" + module + "', not zcmedia");
  }
  if (open != std::string::npos && close != std::string::npos && close > open) {
    for (const std::string& arg : SplitArguments(sql.substr(open + 1, close - open - 1))) {
      const size_t eq = arg.find('=');
      if (eq != std::string::npos && vtab::UnquoteArgument(arg.substr(0, eq)) == "store") {
        *store = vtab::UnquoteArgument(arg.substr(eq + 1));
        if (!store->empty()) return Status::OK();
      }
    }
  }
  return Status::InvalidArgument(db_path + ": its media_files virtual table names no store (store='DIR' is "
                                 "required): " + sql);
}

std::string FolderOf(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

Status SyncPath(const std::string& path, bool directory) {
  const int fd = open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  const int rc = fsync(fd);
  const int err = errno;
  close(fd);
  return rc == 0 ? Status::OK() : Status::FromErrno("fsync " + path, err);
}

// Hidden temporaries ".NAME.<pid>.creating" left in `folder` by creations
// that crashed (their process is gone) are removed, with their journals.
void RemoveStaleTemporaries(const std::string& folder, const std::string& name) {
  const std::string prefix = "." + name + ".";
  DIR* d = opendir(folder.c_str());
  if (d == nullptr) return;
  std::vector<std::string> stale;
  while (dirent* e = readdir(d)) {
    const std::string entry = e->d_name;
    if (entry.rfind(prefix, 0) != 0) continue;
    const size_t end = entry.find(".creating", prefix.size());
    if (end == std::string::npos) continue;
    const std::string pid_text = entry.substr(prefix.size(), end - prefix.size());
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stoll(pid_text));
    if (pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH) stale.push_back(folder + "/" + entry);
  }
  closedir(d);
  for (const std::string& path : stale) unlink(path.c_str());
}

// Renames without replacing: false with *exists when `to` exists. Falls
// back to rename(2) on file systems without RENAME_NOREPLACE (checking
// first: a creation racing in that window is the only way to lose a file,
// and it loses an empty library).
Status RenameNoReplace(const std::string& from, const std::string& to, bool* exists) {
  *exists = false;
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return Status::OK();
  if (errno == EEXIST) {
    *exists = true;
    return Status::OK();
  }
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    return Status::FromErrno("rename " + from + " to " + to, errno);
  if (access(to.c_str(), F_OK) == 0) {
    *exists = true;
    return Status::OK();
  }
  if (rename(from.c_str(), to.c_str()) != 0) return Status::FromErrno("rename " + from + " to " + to, errno);
  return Status::OK();
}

Status Exec(sqlite3* db, const std::string& sql, const std::string& doing) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    Status s = Status::IOError(doing + ": " + (message != nullptr ? message : sqlite3_errmsg(db)));
    sqlite3_free(message);
    return s;
  }
  return Status::OK();
}

// Writes a complete LIB.db at `temp` (its store, named relative, lands next
// to it: same folder as the final file).
Status WriteNewLibrary(const std::string& temp, const std::string& store_name) {
  Connection c;
  if (sqlite3_open_v2(temp.c_str(), &c.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE,
                      nullptr) != SQLITE_OK) {
    return Status::IOError("cannot create " + temp + ": " +
                           (c.db != nullptr ? sqlite3_errmsg(c.db) : std::string("out of memory")));
  }
  char* error = nullptr;
  if (zcmedia_register(c.db, &error) != SQLITE_OK) {
    Status s = Status::IOError(std::string("cannot register the zcmedia extension: ") + (error ? error : ""));
    sqlite3_free(error);
    return s;
  }
  // The temporary is thrown away on any failure and synced once at the
  // end, so the build itself needs no journal.
  ZC_RETURN_IF_ERROR(Exec(c.db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", "configuring " + temp));
  std::string sql =
      "BEGIN;"
      "CREATE TABLE database_metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL);"
      "INSERT INTO database_metadata (key, value, updated_at) "
      "VALUES ('schema_version', '2', CAST(strftime('%s', 'now') AS INTEGER));";
  for (const char* table : kMediaTables)
    sql += std::string("CREATE VIRTUAL TABLE ") + table + " USING zcmedia(store=" + Quote(store_name) + ");";
  sql += "COMMIT;";
  ZC_RETURN_IF_ERROR(Exec(c.db, sql, "creating the library " + temp));
  if (sqlite3_close(c.db) != SQLITE_OK) return Status::IOError("closing " + temp + ": " + sqlite3_errmsg(c.db));
  c.db = nullptr;
  return SyncPath(temp, /*directory=*/false);
}

}  // namespace

std::string DefaultStoreName(const std::string& db_path) {
  const fs::path path(db_path);
  fs::path store = path;
  store.replace_extension(".zcmedia");
  if (store == path) store += ".store";  // LIB.db was itself named *.zcmedia
  return store.filename().string();
}

Status LocateLibrary(const std::string& db_path, LibraryPaths* out) {
  struct stat st;
  if (stat(db_path.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return Status::NotFound(db_path + " does not exist (a library is made by 'zcmedia scan DIR --db " + db_path +
                              "' or 'zcmedia migrate LEGACY.db " + db_path + "')");
    return Status::FromErrno("stat " + db_path, errno);
  }
  if (S_ISDIR(st.st_mode))
    return Status::InvalidArgument(db_path + " is a directory, not a library file (LIB.db)");
  // Read-only, no extension: sqlite_master's text is all we need, and a
  // missing or damaged store must not keep us from naming it.
  Connection c;
  int rc = sqlite3_open_v2(db_path.c_str(), &c.db, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) {
    return Status::IOError("cannot open " + db_path + ": " +
                           (c.db != nullptr ? sqlite3_errmsg(c.db) : std::string("out of memory")));
  }
  sqlite3_stmt* stmt = nullptr;
  rc = sqlite3_prepare_v2(c.db, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'media_files'", -1,
                          &stmt, nullptr);
  std::string sql;
  bool found = false;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      found = true;
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) sql = reinterpret_cast<const char*>(text);
      rc = SQLITE_DONE;
    }
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_OK) {
    const int primary = sqlite3_extended_errcode(c.db) & 0xff;
    if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
      return Status::InvalidArgument(db_path + " is not a SQLite database (" + sqlite3_errmsg(c.db) +
                                     "): give a library file (LIB.db) or a store directory");
    return Status::IOError("cannot read " + db_path + ": " + sqlite3_errmsg(c.db));
  }
  if (!found) {
    return Status::InvalidArgument(db_path + " is not a zcmedia library: it has no media_files table (a library "
                                   "is made by 'zcmedia scan DIR --db " + db_path + "')");
  }
  std::string store;
  ZC_RETURN_IF_ERROR(StoreArgumentOf(db_path, sql, &store));
  out->db_path = db_path;
  out->store_dir = store.front() == '/' ? store : FolderOf(db_path) + "/" + store;
  return Status::OK();
}

Status OpenOrCreateLibrary(const std::string& db_path, LibraryPaths* out, bool* created) {
  *created = false;
  if (db_path.empty()) return Status::InvalidArgument("no library file named");
  struct stat st;
  if (lstat(db_path.c_str(), &st) == 0) return LocateLibrary(db_path, out);
  if (errno != ENOENT) return Status::FromErrno("stat " + db_path, errno);

  const fs::path path(db_path);
  const std::string name = path.filename().string();
  if (name.empty() || name == "." || name == "..")
    return Status::InvalidArgument(db_path + " names a directory; give the library file's name (LIB.db)");
  const std::string folder = FolderOf(db_path);
  if (stat(folder.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::NotFound("cannot create " + db_path + ": the folder " + folder +
                            " does not exist (create it first)");
  }
  RemoveStaleTemporaries(folder, name);
  const std::string temp = folder + "/." + name + "." + std::to_string(getpid()) + ".creating";
  unlink(temp.c_str());  // ours from an earlier failed call of this process
  const std::string store_name = DefaultStoreName(db_path);
  Status s = WriteNewLibrary(temp, store_name);
  bool exists = false;
  if (s.ok()) s = RenameNoReplace(temp, db_path, &exists);
  if (!s.ok() || exists) unlink(temp.c_str());
  ZC_RETURN_IF_ERROR(s);
  // Both LIB.db's entry and the store's (made by CREATE VIRTUAL TABLE) are
  // in this folder.
  ZC_RETURN_IF_ERROR(SyncPath(folder, /*directory=*/true));
  if (exists) return LocateLibrary(db_path, out);  // another process made it first
  *created = true;
  out->db_path = db_path;
  out->store_dir = folder + "/" + store_name;
  return Status::OK();
}

Status ResolveStoreArgument(const std::string& arg, std::string* store_dir) {
  struct stat st;
  if (stat(arg.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return Status::NotFound(arg + " does not exist: give a store directory or a library file (LIB.db)");
    return Status::FromErrno("stat " + arg, errno);
  }
  if (S_ISDIR(st.st_mode)) {
    *store_dir = arg;
    return Status::OK();
  }
  LibraryPaths paths;
  ZC_RETURN_IF_ERROR(LocateLibrary(arg, &paths));
  *store_dir = paths.store_dir;
  return Status::OK();
}

namespace {
// --read-only: the virtual tables write to the store whatever mode the file
// was opened in, so writes are refused when statements are prepared.
// (SQLite itself asks for SQLITE_UPDATE on sqlite_master when it connects
// a virtual table; ordinary tables are refused by the read-only file.)
int DenyWrites(void*, int action, const char* table, const char*, const char* database, const char*) {
  switch (action) {
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
      if (database != nullptr && std::strcmp(database, "temp") == 0) return SQLITE_OK;
      if (table != nullptr && (std::strcmp(table, "sqlite_master") == 0 || std::strcmp(table, "sqlite_schema") == 0))
        return SQLITE_OK;
      return SQLITE_DENY;
    case SQLITE_CREATE_VTABLE:  // would create a store
    case SQLITE_DROP_VTABLE:
      return SQLITE_DENY;
    default:
      return SQLITE_OK;
  }
}
}  // namespace

Status OpenLibraryDatabase(const std::string& db_path, bool read_only, sqlite3** db) {
  *db = nullptr;
  struct stat st;
  if (stat(db_path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound(db_path + " does not exist");
    return Status::FromErrno("stat " + db_path, errno);
  }
  Connection c;
  const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (sqlite3_open_v2(db_path.c_str(), &c.db, flags, nullptr) != SQLITE_OK) {
    return Status::IOError("cannot open " + db_path + ": " +
                           (c.db != nullptr ? sqlite3_errmsg(c.db) : std::string("out of memory")));
  }
  sqlite3_extended_result_codes(c.db, 1);
  char* error = nullptr;
  if (zcmedia_register(c.db, &error) != SQLITE_OK) {
    Status s = Status::IOError(std::string("cannot register the zcmedia extension: ") + (error ? error : ""));
    sqlite3_free(error);
    return s;
  }
  if (read_only) sqlite3_set_authorizer(c.db, DenyWrites, nullptr);
  *db = c.db;
  c.db = nullptr;
  return Status::OK();
}

}  // namespace zcmedia::scan
