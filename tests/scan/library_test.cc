#include "library.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "zcmedia/sqlite_extension.h"

namespace zcmedia::scan {
namespace {

namespace fs = std::filesystem;

class LibraryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/zcmedia-library-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Runs `sql` on `path` with the extension registered; "" or SQLite's message.
  static std::string Exec(const std::string& path, const std::string& sql, std::string* first_value = nullptr) {
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
      sqlite3_close(db);
      return "cannot open";
    }
    char* err = nullptr;
    std::string result;
    if (zcmedia_register(db, &err) != SQLITE_OK) result = err ? err : "register failed";
    sqlite3_free(err);
    err = nullptr;
    auto callback = [](void* out, int, char** values, char**) {
      auto* s = static_cast<std::string*>(out);
      if (s != nullptr && s->empty()) *s = values[0] ? values[0] : "NULL";
      return 0;
    };
    if (result.empty() && sqlite3_exec(db, sql.c_str(), callback, first_value, &err) != SQLITE_OK)
      result = err ? err : "exec failed";
    sqlite3_free(err);
    sqlite3_close(db);
    return result;
  }

  static void WriteFile(const std::string& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
  }

  std::string dir_;
};

TEST_F(LibraryTest, DefaultStoreNameFollowsMigrate) {
  EXPECT_EQ(DefaultStoreName("/a/lib.db"), "lib.zcmedia");
  EXPECT_EQ(DefaultStoreName("media.sqlite3"), "media.zcmedia");
  EXPECT_EQ(DefaultStoreName("library"), "library.zcmedia");
  EXPECT_EQ(DefaultStoreName("x.zcmedia"), "x.zcmedia.store");
}

TEST_F(LibraryTest, CreatesALibraryOthersCanWriteAndRead) {
  const std::string db = dir_ + "/lib.db";
  LibraryPaths paths;
  bool created = false;
  ASSERT_TRUE(OpenOrCreateLibrary(db, &paths, &created).ok());
  EXPECT_TRUE(created);
  EXPECT_EQ(paths.db_path, db);
  EXPECT_EQ(paths.store_dir, dir_ + "/lib.zcmedia");
  EXPECT_TRUE(fs::exists(dir_ + "/lib.zcmedia/META"));
  // Nothing else is left in the folder (no temporary, no journal).
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 2);

  std::string value;
  ASSERT_EQ(Exec(db, "SELECT value FROM database_metadata WHERE key = 'schema_version'", &value), "");
  EXPECT_EQ(value, "2");
  value.clear();
  ASSERT_EQ(Exec(db, "SELECT sql FROM sqlite_master WHERE name = 'media_files'", &value), "");
  EXPECT_NE(value.find("store='lib.zcmedia'"), std::string::npos) << value;  // relative, like migrate's

  ASSERT_EQ(Exec(db,
                 "INSERT INTO media_files(path, parent_path, filename, size, modified, mime_type, created_at, "
                 "updated_at) VALUES ('/m/a.flac', '/m', 'a.flac', 10, 1700000000, 'audio/flac', 1, 1);"
                 "INSERT INTO playlists(name, created_at, updated_at) VALUES ('p', 1, 1);"
                 "INSERT INTO playlist_entries(playlist_id, media_file_id, position, created_at) VALUES (1, 1, 0, 1)"),
            "");
  value.clear();
  ASSERT_EQ(Exec(db,
                 "SELECT path || ':' || (SELECT count(*) FROM playlist_entries) FROM media_files WHERE id = 1",
                 &value),
            "");
  EXPECT_EQ(value, "/m/a.flac:1");

  // A second call finds it, and creates nothing.
  LibraryPaths again;
  ASSERT_TRUE(OpenOrCreateLibrary(db, &again, &created).ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(again.store_dir, dir_ + "/lib.zcmedia");
  EXPECT_EQ(fs::canonical(again.store_dir), fs::canonical(paths.store_dir));
}

TEST_F(LibraryTest, RelativeDbPathGivesARelativeStore) {
  const std::string old_cwd = fs::current_path();
  fs::current_path(dir_);
  LibraryPaths paths;
  bool created = false;
  Status s = OpenOrCreateLibrary("here.db", &paths, &created);
  fs::current_path(old_cwd);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(created);
  EXPECT_EQ(paths.store_dir, "./here.zcmedia");
  EXPECT_TRUE(fs::exists(dir_ + "/here.zcmedia/META"));
}

TEST_F(LibraryTest, LocatesAMigratedStyleDatabase) {
  // As zcmedia migrate writes it: store named relative to the file, in a
  // folder of its own; and one naming its store absolutely, with kind=.
  fs::create_directories(dir_ + "/new");
  ASSERT_EQ(Exec(dir_ + "/new/media.db",
                 "CREATE VIRTUAL TABLE media_files USING zcmedia(store='media.zcmedia');"
                 "CREATE VIRTUAL TABLE playlists USING zcmedia(store='media.zcmedia');"
                 "CREATE VIRTUAL TABLE playlist_entries USING zcmedia(store='media.zcmedia')"),
            "");
  LibraryPaths paths;
  ASSERT_TRUE(LocateLibrary(dir_ + "/new/media.db", &paths).ok());
  EXPECT_EQ(paths.store_dir, dir_ + "/new/media.zcmedia");

  const std::string abs_store = dir_ + "/elsewhere, it's";
  ASSERT_EQ(Exec(dir_ + "/abs.db", "CREATE VIRTUAL TABLE media_files USING \"ZCMEDIA\"(kind = 'media_files', "
                                   "store = '" + std::string(dir_ + "/elsewhere, it''s") + "')"),
            "");
  ASSERT_TRUE(LocateLibrary(dir_ + "/abs.db", &paths).ok());
  EXPECT_EQ(paths.store_dir, abs_store);

  // The store itself is not needed to locate it.
  fs::remove_all(dir_ + "/new/media.zcmedia");
  ASSERT_TRUE(LocateLibrary(dir_ + "/new/media.db", &paths).ok());
  EXPECT_EQ(paths.store_dir, dir_ + "/new/media.zcmedia");
}

TEST_F(LibraryTest, Errors) {
  LibraryPaths paths;
  bool created = true;

  Status s = LocateLibrary(dir_ + "/missing.db", &paths);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.ToString().find("missing.db"), std::string::npos);

  WriteFile(dir_ + "/garbage.db", std::string(4096, 'x'));
  s = LocateLibrary(dir_ + "/garbage.db", &paths);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("not a SQLite database"), std::string::npos) << s.ToString();
  s = OpenOrCreateLibrary(dir_ + "/garbage.db", &paths, &created);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(created);

  WriteFile(dir_ + "/notes.txt", "hello\n");
  s = LocateLibrary(dir_ + "/notes.txt", &paths);
  EXPECT_NE(s.ToString().find("not a SQLite database"), std::string::npos) << s.ToString();

  // A legacy media.db: an ordinary media_files table.
  ASSERT_EQ(Exec(dir_ + "/legacy.db",
                 "CREATE TABLE media_files (id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE);"
                 "CREATE TABLE database_metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER)"),
            "");
  s = LocateLibrary(dir_ + "/legacy.db", &paths);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("run 'zcmedia migrate"), std::string::npos) << s.ToString();
  s = OpenOrCreateLibrary(dir_ + "/legacy.db", &paths, &created);
  EXPECT_NE(s.ToString().find("run 'zcmedia migrate"), std::string::npos) << s.ToString();

  // A SQLite file without media_files at all; another module's table.
  ASSERT_EQ(Exec(dir_ + "/other.db", "CREATE TABLE t(x)"), "");
  s = LocateLibrary(dir_ + "/other.db", &paths);
  EXPECT_NE(s.ToString().find("no media_files table"), std::string::npos) << s.ToString();
  ASSERT_EQ(Exec(dir_ + "/rtree.db", "CREATE VIRTUAL TABLE media_files USING rtree(id, a, b)"), "");
  s = LocateLibrary(dir_ + "/rtree.db", &paths);
  EXPECT_NE(s.ToString().find("module 'rtree'"), std::string::npos) << s.ToString();

  // A missing folder is named, and nothing is created.
  s = OpenOrCreateLibrary(dir_ + "/no/such/lib.db", &paths, &created);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.ToString().find(dir_ + "/no/such"), std::string::npos) << s.ToString();
  EXPECT_FALSE(created);
  EXPECT_FALSE(fs::exists(dir_ + "/no"));

  // A directory is not a library file.
  s = LocateLibrary(dir_, &paths);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

TEST_F(LibraryTest, StaleTemporaryOfACrashedCreationIsRemoved) {
  // pid 2^22+ is above Linux's pid_max default; nobody runs with it.
  const std::string stale = dir_ + "/.lib.db.4194999.creating";
  WriteFile(stale, "half");
  LibraryPaths paths;
  bool created = false;
  ASSERT_TRUE(OpenOrCreateLibrary(dir_ + "/lib.db", &paths, &created).ok());
  EXPECT_TRUE(created);
  EXPECT_FALSE(fs::exists(stale));
}

TEST_F(LibraryTest, ExistingStoreIsKept) {
  LibraryPaths paths;
  bool created = false;
  ASSERT_TRUE(OpenOrCreateLibrary(dir_ + "/lib.db", &paths, &created).ok());
  ASSERT_EQ(Exec(dir_ + "/lib.db",
                 "INSERT INTO media_files(path, parent_path, filename, size, modified, mime_type, created_at, "
                 "updated_at) VALUES ('/m/a.flac', '/m', 'a.flac', 10, 1700000000, 'audio/flac', 1, 1)"),
            "");
  fs::remove(dir_ + "/lib.db");
  ASSERT_TRUE(OpenOrCreateLibrary(dir_ + "/lib.db", &paths, &created).ok());
  EXPECT_TRUE(created);
  std::string count;
  ASSERT_EQ(Exec(dir_ + "/lib.db", "SELECT count(*) FROM media_files", &count), "");
  EXPECT_EQ(count, "1");
}

TEST_F(LibraryTest, ResolveStoreArgumentTakesBothForms) {
  LibraryPaths paths;
  bool created = false;
  ASSERT_TRUE(OpenOrCreateLibrary(dir_ + "/lib.db", &paths, &created).ok());
  std::string store;
  ASSERT_TRUE(ResolveStoreArgument(dir_ + "/lib.db", &store).ok());
  EXPECT_EQ(store, dir_ + "/lib.zcmedia");
  ASSERT_TRUE(ResolveStoreArgument(dir_ + "/lib.zcmedia", &store).ok());
  EXPECT_EQ(store, dir_ + "/lib.zcmedia");
  EXPECT_TRUE(ResolveStoreArgument(dir_ + "/none", &store).IsNotFound());
  WriteFile(dir_ + "/garbage", "not sqlite at all, not at all, not at all, not at all, not at all, not at all");
  EXPECT_TRUE(ResolveStoreArgument(dir_ + "/garbage", &store).IsInvalidArgument());
}

TEST_F(LibraryTest, OpenLibraryDatabaseRegistersTheExtension) {
  LibraryPaths paths;
  bool created = false;
  ASSERT_TRUE(OpenOrCreateLibrary(dir_ + "/lib.db", &paths, &created).ok());
  sqlite3* db = nullptr;
  ASSERT_TRUE(OpenLibraryDatabase(dir_ + "/lib.db", /*read_only=*/false, &db).ok());
  EXPECT_EQ(sqlite3_exec(db,
                         "INSERT INTO media_files(path, parent_path, filename, size, modified, mime_type, created_at, "
                         "updated_at) VALUES ('/m/a.flac', '/m', 'a.flac', 10, 1700000000, 'audio/flac', 1, 1)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);

  ASSERT_TRUE(OpenLibraryDatabase(dir_ + "/lib.db", /*read_only=*/true, &db).ok());
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM media_files", -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 1);
  sqlite3_finalize(stmt);
  // Read-only refuses writes to the virtual tables too (the store is not
  // SQLite's to refuse).
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM media_files", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  EXPECT_TRUE(OpenLibraryDatabase(dir_ + "/missing.db", false, &db).IsNotFound());
  EXPECT_EQ(db, nullptr);
}

}  // namespace
}  // namespace zcmedia::scan
