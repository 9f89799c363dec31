// zcmedia_stats('DIR') and zcmedia_check('DIR' [, 'deep']): their rows
// agree with the store's own figures and check, relative directories
// resolve like a table's store=, and the argument errors are clear.
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/test_util.h"
#include "vtab/query_test_util.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using sqltest::Db;
using sqltest::Row;
using sqltest::Value;
using test::OwnedRecord;
using test::TempDir;

Options TestOptions() {
  Options o;
  o.use_environment = false;
  return o;
}

// A store of `files` - 1 audio records (the last one is removed again),
// two playlists and three entries (files >= 3).
void BuildStore(const std::string& dir, int files) {
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir, TestOptions(), &store).ok());
  WriteBatch b;
  std::vector<OwnedRecord> records;
  for (int i = 1; i <= files; ++i) records.push_back(OwnedRecord::Sample(i));
  for (const OwnedRecord& r : records) b.Put(r.fields());
  b.PutPlaylist({1, "One", std::nullopt, 1, 1});
  b.PutPlaylist({2, "Two", "second", 1, 1});
  b.PutPlaylistEntry({0, 1, 1, 0, 1});
  b.PutPlaylistEntry({0, 1, 2, 1, 1});
  b.PutPlaylistEntry({0, 2, 1, 0, 1});
  Status s = store->Write(b);
  ASSERT_TRUE(s.ok()) << s.ToString();
  WriteBatch r;
  r.Remove(files);
  ASSERT_TRUE(store->Write(r).ok());
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// name -> value of zcmedia_stats.
std::map<std::string, Value> Stats(Db& db, const std::string& dir_sql) {
  std::map<std::string, Value> out;
  for (const Row& r : db.Query("SELECT name, value FROM zcmedia_stats(" + dir_sql + ")")) {
    EXPECT_EQ(r[0].type, SQLITE_TEXT);
    EXPECT_TRUE(out.emplace(r[0].s, r[1]).second) << "duplicate name " << r[0].s;
  }
  return out;
}

Value Int(int64_t v) {
  Value x;
  x.type = SQLITE_INTEGER;
  x.i = v;
  return x;
}

TEST(TableFunctionsTest, StatsRowsAreTheStoresFigures) {
  TempDir dir;
  const std::string store_dir = dir.path() + "/store";
  BuildStore(store_dir, 30);
  Db db;
  std::map<std::string, Value> stats = Stats(db, Quote(store_dir));
  ASSERT_FALSE(stats.empty());
  EXPECT_EQ(stats["record_count"], Int(29));
  EXPECT_EQ(stats["files.audio"], Int(29));
  EXPECT_EQ(stats["files.video"], Int(0));
  EXPECT_EQ(stats["files.total"], Int(29));
  int64_t bytes = 0;
  for (int i = 1; i <= 30; ++i)
    if (i != 30) bytes += OwnedRecord::Sample(i).size;
  EXPECT_EQ(stats["bytes.audio"], Int(bytes));
  EXPECT_EQ(stats["bytes.total"], Int(bytes));
  EXPECT_EQ(stats["playlists"], Int(2));
  EXPECT_EQ(stats["playlist_entries"], Int(3));
  EXPECT_EQ(stats["next_id"], Int(31));
  EXPECT_EQ(stats["next_playlist_id"], Int(3));
  EXPECT_EQ(stats["next_playlist_entry_id"], Int(4));
  EXPECT_EQ(stats["errors.corruption"], Int(0));
  for (const char* name : {"segment_bytes", "dead_bytes", "index_bytes", "process_anon_bytes", "memory_budget",
                           "sequence", "cache_hits", "cache_misses", "cache_capacity", "memtable_records"}) {
    ASSERT_TRUE(stats.count(name)) << name;
    EXPECT_EQ(stats[name].type, SQLITE_INTEGER) << name;
  }
  EXPECT_GT(stats["segment_bytes"].i, 0);
  EXPECT_GT(stats["dead_bytes"].i, 0);  // the removed record
  EXPECT_EQ(stats["records_per_second"].type, SQLITE_FLOAT);
  ASSERT_EQ(stats["directory"].type, SQLITE_TEXT);
  EXPECT_EQ(std::filesystem::canonical(stats["directory"].s), std::filesystem::canonical(store_dir));

  // The hidden argument column, filters and the named-argument form.
  std::vector<Row> rows = db.Query("SELECT value, dir FROM zcmedia_stats(" + Quote(store_dir) +
                                   ") WHERE name = 'playlists'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], Int(2));
  EXPECT_EQ(rows[0][1].s, store_dir);
  rows = db.Query("SELECT value FROM zcmedia_stats WHERE dir = " + Quote(store_dir) + " AND name = 'record_count'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], Int(29));
  // OR in the WHERE clause: SQLite also plans each branch alone, without
  // the argument.
  rows = db.Query("SELECT name, value FROM zcmedia_stats(" + Quote(store_dir) +
                  ") WHERE name = 'playlists' OR name = 'record_count' ORDER BY name");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][1], Int(2));
  EXPECT_EQ(rows[1][1], Int(29));
  rows = db.Query("SELECT kind FROM zcmedia_check(" + Quote(store_dir) + ") WHERE kind = 'ok' OR file = 'x'");
  EXPECT_EQ(rows.size(), 1u);
  // The argument from another table of a join (an unusable constraint first).
  rows = db.Query("SELECT s.value FROM (SELECT " + Quote(store_dir) +
                  " AS d) t, zcmedia_stats(t.d) s WHERE s.name = 'playlist_entries'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], Int(3));
}

TEST(TableFunctionsTest, StatsSeeTheTablesStoreAndItsWrites) {
  TempDir dir;
  const std::string store_dir = dir.path() + "/store";
  BuildStore(store_dir, 5);
  Db db;
  db.MustExec("CREATE VIRTUAL TABLE playlists USING zcmedia(store=" + Quote(store_dir) + ", kind=playlists)");
  EXPECT_EQ(db.Query("SELECT count(*) FROM playlists")[0][0], Int(2));
  EXPECT_EQ(Stats(db, Quote(store_dir))["playlists"], Int(2));
  // Another process's writer (here: another Store object, as a separate
  // process would be) commits; the stats see it.
  {
    std::unique_ptr<Store> writer;
    ASSERT_TRUE(Store::Open(store_dir, TestOptions(), &writer).ok());
    WriteBatch b;
    b.PutPlaylist({0, "Three", std::nullopt, 2, 2});
    ASSERT_TRUE(writer->Write(b).ok());
  }
  EXPECT_EQ(Stats(db, Quote(store_dir))["playlists"], Int(3));
  EXPECT_EQ(db.Query("SELECT count(*) FROM playlists")[0][0], Int(3));
}

TEST(TableFunctionsTest, RelativeDirectoryResolvesAgainstTheDatabaseFile) {
  TempDir dir;
  BuildStore(dir.path() + "/lib.zc", 4);
  Db db(dir.path() + "/media.db");
  EXPECT_EQ(Stats(db, "'lib.zc'")["record_count"], Int(3));
  std::vector<Row> rows = db.Query("SELECT kind FROM zcmedia_check('lib.zc')");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].s, "ok");
}

TEST(TableFunctionsTest, CheckOfASoundStoreIsOneOkRow) {
  TempDir dir;
  const std::string store_dir = dir.path() + "/store";
  BuildStore(store_dir, 20);
  Db db;
  for (const std::string& args : {Quote(store_dir), Quote(store_dir) + ", 'deep'", Quote(store_dir) + ", 'fast'",
                                  Quote(store_dir) + ", NULL"}) {
    std::vector<Row> rows = db.Query("SELECT kind, file, offset, message, typeof(offset) FROM zcmedia_check(" + args + ")");
    ASSERT_EQ(rows.size(), 1u) << args << "\n" << sqltest::ToString(rows);
    EXPECT_EQ(rows[0][0].s, "ok");
    EXPECT_EQ(std::filesystem::canonical(rows[0][1].s), std::filesystem::canonical(store_dir));
    EXPECT_EQ(rows[0][2], Int(0));
    EXPECT_EQ(rows[0][4].s, "integer");
    const bool deep = args.find("deep") != std::string::npos;
    EXPECT_NE(rows[0][3].s.find(deep ? "deep check" : "fast check"), std::string::npos) << rows[0][3].s;
    EXPECT_NE(rows[0][3].s.find("no problems found"), std::string::npos) << rows[0][3].s;
  }
  std::vector<Row> rows = db.Query("SELECT mode FROM zcmedia_check(" + Quote(store_dir) + ", 'deep')");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].s, "deep");
}

TEST(TableFunctionsTest, CheckReportsDamageWithFileAndOffset) {
  TempDir dir;
  const std::string store_dir = dir.path() + "/store";
  BuildStore(store_dir, 20);
  // Damage a byte in the middle of the first segment file's records.
  std::string segment;
  for (const auto& e : std::filesystem::directory_iterator(store_dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("seg-", 0) == 0) {
      if (segment.empty() || e.path().string() < segment) segment = e.path().string();
    }
  }
  ASSERT_FALSE(segment.empty()) << "no segment file in " << store_dir;
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(300);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(300);
    f.write(&c, 1);
  }
  Db db;
  std::vector<Row> rows = db.Query("SELECT kind, file, offset, message FROM zcmedia_check(" + Quote(store_dir) + ")");
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0][0].s, "data") << sqltest::ToString(rows);
  EXPECT_NE(rows[0][1].s.find(std::filesystem::path(segment).filename().string()), std::string::npos)
      << sqltest::ToString(rows);
  EXPECT_FALSE(rows[0][3].s.empty());
}

TEST(TableFunctionsTest, ArgumentErrorsAreClear) {
  TempDir dir;
  const std::string store_dir = dir.path() + "/store";
  BuildStore(store_dir, 4);
  Db db;
  int rc = 0;
  std::string message;
  auto expect_error = [&](const std::string& sql, const std::string& part) {
    db.Query(sql, &rc, &message);
    EXPECT_NE(rc, SQLITE_OK) << sql;
    EXPECT_NE(message.find(part), std::string::npos) << sql << ": " << message;
  };
  expect_error("SELECT * FROM zcmedia_stats", "zcmedia_stats: the store directory argument is missing");
  expect_error("SELECT * FROM zcmedia_stats()", "zcmedia_stats: the store directory argument is missing");
  expect_error("SELECT * FROM zcmedia_check", "zcmedia_check: the store directory argument is missing");
  expect_error("SELECT * FROM zcmedia_stats(NULL)", "zcmedia_stats: the store directory argument is NULL");
  expect_error("SELECT * FROM zcmedia_check(NULL, 'deep')", "zcmedia_check: the store directory argument is NULL");
  expect_error("SELECT * FROM zcmedia_stats('')", "zcmedia_stats: the store directory argument is ''");
  const std::string missing = dir.path() + "/nothing-here";
  expect_error("SELECT * FROM zcmedia_stats(" + Quote(missing) + ")", "no zcmedia store in " + missing);
  expect_error("SELECT * FROM zcmedia_check(" + Quote(missing) + ")", "no zcmedia store in " + missing);
  EXPECT_FALSE(std::filesystem::exists(missing));  // nothing created
  expect_error("SELECT * FROM zcmedia_check(" + Quote(store_dir) + ", 'deeper')", "unknown mode 'deeper'");
  // Eponymous only: no CREATE VIRTUAL TABLE of them.
  expect_error("CREATE VIRTUAL TABLE s USING zcmedia_stats", "");
  EXPECT_NE(db.Exec("CREATE VIRTUAL TABLE s USING zcmedia_stats"), SQLITE_OK);
}

TEST(TableFunctionsTest, DirectSqlOnlyNotFromViews) {
  TempDir dir;
  const std::string store_dir = dir.path() + "/store";
  BuildStore(store_dir, 4);
  Db db(dir.path() + "/media.db");
  // They open the directory the SQL names: a view (someone else's schema)
  // may not use them; direct SQL may.
  db.MustExec("CREATE VIEW store_figures AS SELECT name, value FROM zcmedia_stats('store');");
  int rc = SQLITE_OK;
  std::string message;
  db.Query("SELECT value FROM store_figures WHERE name = 'record_count'", &rc, &message);
  EXPECT_NE(rc, SQLITE_OK);
  EXPECT_NE(message.find("unsafe use of virtual table"), std::string::npos) << message;
  std::vector<Row> rows = db.Query("SELECT value FROM zcmedia_stats('store') WHERE name = 'record_count'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], Int(3));
}

}  // namespace
}  // namespace zcmedia
