// CREATE VIRTUAL TABLE ... USING zcmedia(...) with bad arguments, and a
// table whose store has gone: a clear SQLite error naming what is wrong and
// what to do, and nothing created.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "../store/test_util.h"
#include "sql_test_util.h"

namespace zcmedia::test {
namespace {

void ExpectError(SqlDb& db, const std::string& sql, const std::string& words) {
  const SqlResult r = db.Run(sql);
  EXPECT_NE(r.rc, SQLITE_OK) << sql << " was accepted";
  EXPECT_NE(r.error.find(words), std::string::npos) << sql << ": " << r.error;
}

TEST(CreateTableTest, BadArgumentsAreRefusedClearly) {
  TempDir dir;
  SqlDb db(dir.path() + "/lib.db");
  ExpectError(db, "CREATE VIRTUAL TABLE media_files USING zcmedia(kind='media_files')", "store='DIR' is required");
  ExpectError(db, "CREATE VIRTUAL TABLE t USING zcmedia(store='s', kind='songs')",
              "unknown kind 'songs' (kinds: media_files, playlists, playlist_entries)");
  ExpectError(db, "CREATE VIRTUAL TABLE media_files USING zcmedia(store='s', colour='blue')",
              "unknown argument 'colour' (known: store, kind)");
  ExpectError(db, "CREATE VIRTUAL TABLE media_files USING zcmedia(store='s', media_files)", "is not key=value");
  // None of them made a table or a store.
  EXPECT_EQ(db.Int("SELECT count(*) FROM sqlite_master WHERE name IN ('media_files', 't')"), 0);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/s"));
}

TEST(CreateTableTest, AStoreThatIsGoneIsNamed) {
  TempDir dir;
  {
    SqlDb db(dir.path() + "/lib.db");
    db.Exec(VirtualSchema("lib.store", {"media_files"}));
  }
  std::filesystem::remove_all(dir.path() + "/lib.store");
  SqlDb db(dir.path() + "/lib.db");
  ExpectError(db, "SELECT count(*) FROM media_files", "no zcmedia store in " + dir.path() + "/lib.store");
}

}  // namespace
}  // namespace zcmedia::test
