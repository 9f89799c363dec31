// Crashes around the two commits (the store's and SQLite's): afterwards the
// SQLite file and the store agree on what was committed. Each transaction
// writes the same paths into media_files (the store) and into an ordinary
// table `log` (the SQLite file); after any crash the two hold the same paths.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "../store/test_util.h"
#include "sql_test_util.h"

namespace zcmedia::test {
namespace {

std::string InsertBoth(int n) {
  const std::string path = "/crash/" + std::to_string(n) + ".flac";
  return "INSERT INTO media_files(path, parent_path, filename, size, modified, mime_type, created_at, updated_at) "
         "VALUES ('" + path + "', '/crash', '" + std::to_string(n) + ".flac', " + std::to_string(n) +
         ", 1, 'audio/flac', 1, 1); INSERT INTO log VALUES ('" + path + "');";
}

void SetUpDatabase(const std::string& dir) {
  SqlDb db(dir + "/lib.db");
  db.Exec("PRAGMA journal_mode=WAL");
  db.Exec(VirtualSchema("store", {"media_files"}));
  db.Exec("CREATE TABLE log(path TEXT PRIMARY KEY)");
}

void ExpectAgreement(const std::string& dir, int at_least) {
  SqlDb db(dir + "/lib.db");
  const std::vector<SqlRow> store = db.Rows("SELECT path FROM media_files ORDER BY path");
  const std::vector<SqlRow> log = db.Rows("SELECT path FROM log ORDER BY path");
  EXPECT_TRUE(store == log) << "store has " << store.size() << " paths, the SQLite file " << log.size();
  EXPECT_GE(static_cast<int>(log.size()), at_least);
  // And the store takes new writes.
  db.Exec(InsertBoth(1000000));
}

// A module whose only job is to end the process in xCommit. Joined to a
// transaction before media_files, its xCommit runs first: after SQLite has
// committed, before the store has.
struct CrashTable : sqlite3_vtab {};
int CrashConnect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** out, char**) {
  sqlite3_declare_vtab(db, "CREATE TABLE x(v)");
  *out = new CrashTable();
  return SQLITE_OK;
}
int CrashDisconnect(sqlite3_vtab* t) {
  delete static_cast<CrashTable*>(t);
  return SQLITE_OK;
}
int CrashBestIndex(sqlite3_vtab*, sqlite3_index_info* info) {
  info->estimatedCost = 1;
  return SQLITE_OK;
}
int CrashOpen(sqlite3_vtab*, sqlite3_vtab_cursor** c) {
  *c = new sqlite3_vtab_cursor();
  return SQLITE_OK;
}
int CrashClose(sqlite3_vtab_cursor* c) {
  delete c;
  return SQLITE_OK;
}
int CrashFilter(sqlite3_vtab_cursor*, int, const char*, int, sqlite3_value**) { return SQLITE_OK; }
int CrashNext(sqlite3_vtab_cursor*) { return SQLITE_OK; }
int CrashEof(sqlite3_vtab_cursor*) { return 1; }
int CrashColumn(sqlite3_vtab_cursor*, sqlite3_context*, int) { return SQLITE_OK; }
int CrashRowid(sqlite3_vtab_cursor*, sqlite3_int64* r) {
  *r = 0;
  return SQLITE_OK;
}
// Armed by a row inserted into the table: the commit of that transaction ends the process.
bool crash_armed = false;
int CrashUpdate(sqlite3_vtab*, int, sqlite3_value**, sqlite3_int64*) {
  crash_armed = true;
  return SQLITE_OK;
}
int CrashNoop(sqlite3_vtab*) { return SQLITE_OK; }
int CrashCommit(sqlite3_vtab*) {
  if (crash_armed) _exit(0);
  return SQLITE_OK;
}

sqlite3_module CrashModule() {
  sqlite3_module m{};
  m.xCreate = CrashConnect;
  m.xConnect = CrashConnect;
  m.xBestIndex = CrashBestIndex;
  m.xDisconnect = CrashDisconnect;
  m.xDestroy = CrashDisconnect;
  m.xOpen = CrashOpen;
  m.xClose = CrashClose;
  m.xFilter = CrashFilter;
  m.xNext = CrashNext;
  m.xEof = CrashEof;
  m.xColumn = CrashColumn;
  m.xRowid = CrashRowid;
  m.xUpdate = CrashUpdate;
  m.xBegin = CrashNoop;
  m.xSync = CrashNoop;
  m.xCommit = CrashCommit;
  m.xRollback = CrashNoop;
  return m;
}

TEST(TransactionCrashTest, CrashBetweenSqliteCommitAndStoreCommitIsRecovered) {
  TempDir dir;
  SetUpDatabase(dir.path());
  {
    SqlDb db(dir.path() + "/lib.db");
    db.Exec(InsertBoth(1));
  }
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    SqlDb db(dir.path() + "/lib.db");
    static sqlite3_module module = CrashModule();
    sqlite3_create_module(db.handle(), "crashpoint", &module, nullptr);
    db.Run("CREATE VIRTUAL TABLE temp.crash USING crashpoint()");
    db.Run("BEGIN; INSERT INTO temp.crash VALUES (1);" + InsertBoth(2) + InsertBoth(3) + "COMMIT;");
    _exit(3);  // not reached: CrashCommit ends the process
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child did not stop in xCommit";
  // SQLite committed rows 2 and 3; the store holds them only as prepared.
  // The next connection commits them from the watermark.
  ExpectAgreement(dir.path(), 3);
}

TEST(TransactionCrashTest, SigkillDuringCommittingTransactions) {
  std::mt19937 rng(20261124);
  for (int trial = 0; trial < 12; ++trial) {
    TempDir dir;
    SetUpDatabase(dir.path());
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(pipe_fds[0]);
      SqlDb db(dir.path() + "/lib.db");
      for (int t = 0;; ++t) {
        std::string sql = "BEGIN;";
        for (int i = 0; i < 20; ++i) sql += InsertBoth(t * 20 + i);
        if (t % 3 == 0) sql += "SAVEPOINT s; " + InsertBoth(900000 + t) + " ROLLBACK TO s; RELEASE s;";
        sql += "COMMIT;";
        if (!db.Run(sql).ok()) _exit(4);
        const int committed = (t + 1) * 20;
        if (write(pipe_fds[1], &committed, sizeof(committed)) != sizeof(committed)) _exit(5);
      }
    }
    close(pipe_fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 250));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself with status " << status;
    int committed = 0, n = 0;
    while (read(pipe_fds[0], &n, sizeof(n)) == sizeof(n)) committed = n;
    close(pipe_fds[0]);
    SCOPED_TRACE("trial " + std::to_string(trial) + ", " + std::to_string(committed) + " rows reported committed");
    ExpectAgreement(dir.path(), committed);
  }
}

}  // namespace
}  // namespace zcmedia::test
