// Writes through the media_files virtual table: every statement runs on the
// virtual table and on an ordinary table with the legacy schema, and both
// must give the same rows, the same errors (code and message) and the same
// last_insert_rowid. Then transactions: COMMIT, ROLLBACK, savepoints,
// failures in the middle of a statement, and what a second connection sees.
#include <gtest/gtest.h>

#include <string>

#include "../store/test_util.h"
#include "sql_test_util.h"

namespace zcmedia::test {
namespace {

using P = SqlDb::Param;

std::string Insert(const std::string& verb, int n, const std::string& dir = "/m/a") {
  const std::string name = "f" + std::to_string(n) + ".mp3";
  const std::string path = dir + "/" + name;
  return verb + " INTO media_files(path, parent_path, canonical_path, canonical_parent_path, filename, size, modified, "
         "mime_type, duration, title, artist, album, genre, track_number, year, album_artist, created_at, updated_at) "
         "VALUES ('" + path + "', '" + dir + "', '" + path + "', '" + dir + "', '" + name + "', " + std::to_string(1000 + n) +
         ", 1700000000, 'audio/mpeg', 180000, 'T" + std::to_string(n) + "', 'Artist', 'Album', 'Rock', " +
         std::to_string(n) + ", 2001, NULL, 1700000000, 1700000000)";
}

class MediaFilesWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ref_ = std::make_unique<SqlDb>(dir_.path() + "/ref.db");
    ref_->Exec(kLegacySchema);
    vt_ = std::make_unique<SqlDb>(dir_.path() + "/vt.db");
    vt_->Exec(VirtualSchema("store", {"media_files"}));
    // The schema wrote database_metadata's row: last_insert_rowid() starts equal.
    sqlite3_set_last_insert_rowid(ref_->handle(), 0);
  }

  // Runs `sql` on both; expects identical outcomes. Returns the result.
  SqlResult Same(const std::string& sql, const std::vector<P>& params = {}) {
    SqlResult a = ref_->Run(sql, params);
    SqlResult b = vt_->Run(sql, params);
    EXPECT_EQ(a.rc, b.rc) << sql << "\nlegacy: " << a.ToString() << "zcmedia: " << b.ToString();
    EXPECT_EQ(a.error, b.error) << sql;
    EXPECT_TRUE(a.rows == b.rows) << sql << "\nlegacy: " << a.ToString() << "zcmedia: " << b.ToString();
    EXPECT_EQ(sqlite3_last_insert_rowid(ref_->handle()), sqlite3_last_insert_rowid(vt_->handle())) << sql;
    EXPECT_EQ(sqlite3_get_autocommit(ref_->handle()), sqlite3_get_autocommit(vt_->handle())) << sql;
    return b;
  }
  void SameContents() { Same("SELECT * FROM media_files ORDER BY id"); }

  TempDir dir_;
  std::unique_ptr<SqlDb> ref_, vt_;
};

TEST_F(MediaFilesWriteTest, InsertSelectUpdateDelete) {
  for (int i = 1; i <= 5; ++i) Same(Insert("INSERT", i));
  SameContents();
  Same("SELECT last_insert_rowid()");
  Same("UPDATE media_files SET title = 'new', size = size + 1 WHERE path = '/m/a/f3.mp3'");
  Same("SELECT changes()");
  Same("DELETE FROM media_files WHERE canonical_path = '/m/a/f2.mp3'");
  SameContents();
  // Ids are never reused (AUTOINCREMENT): the highest is deleted, the next
  // insert still gets a new one.
  Same("DELETE FROM media_files WHERE id = 5");
  Same(Insert("INSERT", 6));
  SameContents();
  Same("INSERT INTO media_files(id, path, parent_path, filename, size, modified, mime_type, created_at, updated_at) "
       "VALUES (100, '/x/y', '/x', 'y', 1, 2, 'video/mp4', 3, 4)");
  Same(Insert("INSERT", 7));
  SameContents();
}

TEST_F(MediaFilesWriteTest, ConstraintErrorsInSqlitesWords) {
  Same(Insert("INSERT", 1));
  SqlResult dup = Same(Insert("INSERT", 1));
  EXPECT_EQ(dup.rc, SQLITE_CONSTRAINT_UNIQUE);
  EXPECT_EQ(dup.error, "UNIQUE constraint failed: media_files.path");
  Same("INSERT INTO media_files(path, parent_path, filename, size, modified, created_at, updated_at) "
       "VALUES ('/n', '/', 'n', 1, 2, 3, 4)");  // mime_type missing: NOT NULL
  Same("INSERT INTO media_files(id, path, parent_path, filename, size, modified, mime_type, created_at, updated_at) "
       "VALUES (1, '/other', '/', 'other', 1, 2, 'audio/mpeg', 3, 4)");  // id taken
  Same(Insert("INSERT", 2));
  Same("UPDATE media_files SET path = '/m/a/f1.mp3' WHERE id = 2");  // path taken
  SameContents();
}

TEST_F(MediaFilesWriteTest, ConflictClauses) {
  for (int i = 1; i <= 3; ++i) Same(Insert("INSERT", i));
  Same(Insert("INSERT OR IGNORE", 2));
  Same(Insert("INSERT OR REPLACE", 2));  // replaces the row holding the path: new id
  SameContents();
  Same("INSERT OR REPLACE INTO media_files(id, path, parent_path, filename, size, modified, mime_type, created_at, "
       "updated_at) VALUES (1, '/m/a/f3.mp3', '/m/a', 'f3.mp3', 9, 9, 'audio/flac', 9, 9)");  // both id 1 and f3 go
  SameContents();
  Same("CREATE TEMP TABLE src(p TEXT)");
  Same("INSERT INTO src VALUES ('/q/1'), ('/q/2'), ('/m/a/f2.mp3'), ('/q/3')");
  const std::string from_src = " INTO media_files(path, parent_path, filename, size, modified, mime_type, created_at, "
                               "updated_at) SELECT p, '/q', 'x', 1, 1, 'audio/mpeg', 1, 1 FROM src";
  Same("INSERT OR ABORT" + from_src);  // fails at the 3rd row: none stays
  SameContents();
  Same("INSERT OR IGNORE" + from_src);
  Same("INSERT OR IGNORE INTO media_files(id, path, parent_path, filename, size, modified, mime_type, created_at, "
       "updated_at) VALUES (500, '/m/a/f2.mp3', '/', 'x', 1, 1, 'audio/mpeg', 1, 1)");  // ignored: the sequence moves
  Same("INSERT OR IGNORE INTO media_files(path) VALUES ('/nn')");  // NOT NULL, ignored
  Same(Insert("INSERT", 60));
  SameContents();
  Same("DELETE FROM media_files WHERE path LIKE '/q/%'");
  Same("BEGIN");
  Same(Insert("INSERT", 50));
  Same("INSERT OR ROLLBACK" + from_src);  // rolls the whole transaction back
  SameContents();
  // OR FAIL keeps the rows before the failing one. (SQLite's AUTOINCREMENT
  // does not record the ids of that statement, so after deleting them it
  // gives them out again; the store never reuses an id: compare paths.)
  Same("INSERT OR FAIL" + from_src);
  Same("SELECT path FROM media_files ORDER BY path");
}

TEST_F(MediaFilesWriteTest, TransactionsAndSavepoints) {
  Same("BEGIN");
  Same(Insert("INSERT", 1));
  Same("SELECT count(*) FROM media_files");  // its own write, visible inside
  Same("ROLLBACK");
  SameContents();
  Same("BEGIN");
  Same(Insert("INSERT", 2));
  Same("SAVEPOINT a");
  Same(Insert("INSERT", 3));
  Same("SAVEPOINT b");
  Same(Insert("INSERT", 4));
  Same("ROLLBACK TO a");
  SameContents();
  Same(Insert("INSERT", 5));
  Same("RELEASE a");
  Same("SAVEPOINT c");
  Same("UPDATE media_files SET title = 'x'");
  Same("ROLLBACK TO c");
  Same("COMMIT");
  SameContents();
  // A savepoint opened before the first write of the transaction.
  Same("SAVEPOINT outer_sp");
  Same(Insert("INSERT", 6));
  Same("ROLLBACK TO outer_sp");
  Same("RELEASE outer_sp");
  SameContents();
}

TEST_F(MediaFilesWriteTest, CommittedWritesSurviveReopenAndReachOtherConnections) {
  Same("BEGIN");
  for (int i = 1; i <= 20; ++i) Same(Insert("INSERT", i));
  // Another connection does not see the open transaction's writes.
  SqlDb other(dir_.path() + "/vt.db");
  EXPECT_EQ(other.Int("SELECT count(*) FROM media_files"), 0);
  Same("COMMIT");
  EXPECT_EQ(other.Int("SELECT count(*) FROM media_files"), 20);
  vt_.reset();
  vt_ = std::make_unique<SqlDb>(dir_.path() + "/vt.db");
  EXPECT_TRUE(ref_->Rows("SELECT * FROM media_files ORDER BY id") == vt_->Rows("SELECT * FROM media_files ORDER BY id"));
  EXPECT_EQ(vt_->Int("SELECT sequence > 0 FROM zcmedia_watermarks WHERE store = 'store'"), 1);
}

TEST_F(MediaFilesWriteTest, LegacyCleanupOfMissingFiles) {
  for (int i = 1; i <= 10; ++i) Same(Insert("INSERT", i));
  Same("BEGIN");
  Same("CREATE TEMP TABLE seen(path TEXT)");
  Same("INSERT INTO seen SELECT canonical_path FROM media_files WHERE id % 3 = 0");
  Same("DELETE FROM media_files WHERE canonical_path NOT IN (SELECT path FROM seen)");
  Same("COMMIT");
  SameContents();
}

TEST_F(MediaFilesWriteTest, TypesTheStoreCannotHoldAreRefusedByName) {
  SqlResult r = vt_->Run("INSERT INTO media_files(path, parent_path, filename, size, modified, mime_type, created_at, "
                         "updated_at) VALUES ('/a', '/', 'a', 'big', 1, 'audio/mpeg', 1, 1)");
  EXPECT_EQ(r.rc, SQLITE_MISMATCH);
  EXPECT_NE(r.error.find("media_files.size"), std::string::npos) << r.error;
  // Numeric text and integral reals are converted, as the legacy column's
  // INTEGER affinity converts them; numbers in text columns become text.
  Same("INSERT INTO media_files(path, parent_path, filename, size, modified, mime_type, created_at, updated_at, year) "
       "VALUES (12, '/', 'a', '42', 7.0, 'audio/mpeg', ' 5 ', 1, '1999')");
  SameContents();
}

// Committed text reaches the application in place: sqlite3_column_text
// returns the same pointer as sqlite3_column_blob (no terminated copy) for
// columns that are whole strings of the record. Text with a NUL inside
// keeps every byte.
TEST_F(MediaFilesWriteTest, TextIsReadInPlaceAndKeepsEmbeddedNuls) {
  Same(Insert("INSERT", 1));
  Same(Insert("INSERT", 2));
  Same("UPDATE media_files SET title = 'a' || char(0) || 'b' WHERE id = 2");
  Same("SELECT id, length(CAST(title AS BLOB)), hex(title), title = 'a' || char(0) || 'b' FROM media_files ORDER BY id");

  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(vt_->handle(), "SELECT path, filename, title, artist, mime_type FROM media_files "
                                              "WHERE id = 1", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  for (int c = 0; c < 5; ++c) {
    const void* bytes = sqlite3_column_blob(stmt, c);
    const int n = sqlite3_column_bytes(stmt, c);
    const unsigned char* text = sqlite3_column_text(stmt, c);
    EXPECT_EQ(static_cast<const void*>(text), bytes) << "column " << c << " was copied to add a terminator";
    ASSERT_NE(text, nullptr);
    EXPECT_EQ(text[n], '\0') << "column " << c;
  }
  sqlite3_finalize(stmt);
}

}  // namespace
}  // namespace zcmedia::test
