// Writes through playlists and playlist_entries, compared statement by
// statement with ordinary tables holding the legacy schema (foreign keys
// on): the same rows, errors (code and message) and last_insert_rowid.
#include <gtest/gtest.h>

#include <string>

#include "../store/test_util.h"
#include "sql_test_util.h"

namespace zcmedia::test {
namespace {

class PlaylistWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ref_ = std::make_unique<SqlDb>(dir_.path() + "/ref.db");
    ref_->Exec(kLegacySchema);
    vt_ = std::make_unique<SqlDb>(dir_.path() + "/vt.db");
    vt_->Exec(VirtualSchema("store"));
    // The schema wrote database_metadata's row: last_insert_rowid() starts equal.
    sqlite3_set_last_insert_rowid(ref_->handle(), 0);
    for (int i = 1; i <= 6; ++i)
      Same("INSERT INTO media_files(path, parent_path, filename, size, modified, mime_type, created_at, updated_at) "
           "VALUES ('/m/" + std::to_string(i) + ".mp3', '/m', '" + std::to_string(i) + ".mp3', 1, 1, 'audio/mpeg', 1, 1)");
  }
  SqlResult Same(const std::string& sql) {
    SqlResult a = ref_->Run(sql);
    SqlResult b = vt_->Run(sql);
    EXPECT_EQ(a.rc, b.rc) << sql << "\nlegacy: " << a.ToString() << "zcmedia: " << b.ToString();
    EXPECT_EQ(a.error, b.error) << sql;
    EXPECT_TRUE(a.rows == b.rows) << sql << "\nlegacy: " << a.ToString() << "zcmedia: " << b.ToString();
    EXPECT_EQ(sqlite3_last_insert_rowid(ref_->handle()), sqlite3_last_insert_rowid(vt_->handle())) << sql;
    return b;
  }
  void SameContents() {
    Same("SELECT * FROM playlists ORDER BY id");
    Same("SELECT * FROM playlist_entries ORDER BY id");
    Same("SELECT id FROM media_files ORDER BY id");
  }
  // The legacy server's append: next position = MAX(position) + 1.
  void Append(int playlist, int media) {
    Same("INSERT INTO playlist_entries(playlist_id, media_file_id, position, created_at) VALUES (" +
         std::to_string(playlist) + ", " + std::to_string(media) +
         ", (SELECT COALESCE(MAX(position) + 1, 0) FROM playlist_entries WHERE playlist_id = " +
         std::to_string(playlist) + "), 5)");
  }

  TempDir dir_;
  std::unique_ptr<SqlDb> ref_, vt_;
};

TEST_F(PlaylistWriteTest, CreateRenameDescribeDelete) {
  Same("INSERT INTO playlists(name, description, created_at, updated_at) VALUES ('Road', NULL, 1, 1)");
  Same("INSERT INTO playlists(name, description, created_at, updated_at) VALUES ('Gym', 'loud', 2, 2)");
  SqlResult dup = Same("INSERT INTO playlists(name, created_at, updated_at) VALUES ('Road', 3, 3)");
  EXPECT_EQ(dup.error, "UNIQUE constraint failed: playlists.name");
  Same("INSERT INTO playlists(name, created_at) VALUES ('x', 3)");  // NOT NULL updated_at
  Same("UPDATE playlists SET name = 'Road trip', updated_at = 9 WHERE id = 1");
  Same("UPDATE playlists SET name = 'Gym' WHERE id = 1");  // taken
  Same("INSERT OR REPLACE INTO playlists(name, description, created_at, updated_at) VALUES ('Gym', 'new', 4, 4)");
  Same("INSERT OR IGNORE INTO playlists(name, created_at, updated_at) VALUES ('Road trip', 5, 5)");
  Same("INSERT INTO playlists(name, created_at, updated_at) VALUES ('After ignore', 6, 6)");
  SameContents();
}

TEST_F(PlaylistWriteTest, EntriesConstraintsAndCascades) {
  Same("PRAGMA foreign_keys = ON");
  Same("INSERT INTO playlists(name, created_at, updated_at) VALUES ('A', 1, 1), ('B', 1, 1)");
  Same("BEGIN");  // the legacy server adds entries one by one in a transaction
  for (int m = 1; m <= 4; ++m) Append(1, m);
  for (int m = 3; m <= 6; ++m) Append(2, m);
  Same("COMMIT");
  SameContents();
  SqlResult dup = Same("INSERT INTO playlist_entries(playlist_id, media_file_id, position, created_at) VALUES (1, 2, 9, 1)");
  EXPECT_EQ(dup.rc, SQLITE_CONSTRAINT_UNIQUE);
  Same("INSERT INTO playlist_entries(playlist_id, media_file_id, position, created_at) VALUES (1, 5, 0, 1)");
  SqlResult fk = Same("INSERT INTO playlist_entries(playlist_id, media_file_id, position, created_at) VALUES (9, 5, 0, 1)");
  EXPECT_EQ(fk.rc, SQLITE_CONSTRAINT_FOREIGNKEY);
  Same("INSERT INTO playlist_entries(playlist_id, media_file_id, position, created_at) VALUES (1, 99, 7, 1)");
  // Reorder through a free position, as the legacy server does.
  Same("BEGIN");
  Same("UPDATE playlist_entries SET position = 100 WHERE playlist_id = 1 AND position = 0");
  Same("UPDATE playlist_entries SET position = 0 WHERE playlist_id = 1 AND position = 3");
  Same("UPDATE playlist_entries SET position = 3 WHERE playlist_id = 1 AND position = 100");
  Same("COMMIT");
  Same("SELECT media_file_id, position FROM playlist_entries WHERE playlist_id = 1 ORDER BY position");
  Same("INSERT OR REPLACE INTO playlist_entries(playlist_id, media_file_id, position, created_at) VALUES (1, 6, 1, 2)");
  SameContents();
  // Cascades: a media file's entries go with it, a playlist's with it.
  Same("DELETE FROM media_files WHERE id = 3");
  SameContents();
  Same("DELETE FROM playlists WHERE id = 2");
  SameContents();
  Same("SELECT m.id, m.path FROM media_files m JOIN playlist_entries pe ON m.id = pe.media_file_id "
       "WHERE pe.playlist_id = 1 ORDER BY pe.position");
}

TEST_F(PlaylistWriteTest, RollbackTakesEntriesAndCascadesBack) {
  Same("INSERT INTO playlists(name, created_at, updated_at) VALUES ('A', 1, 1)");
  for (int m = 1; m <= 3; ++m) Append(1, m);
  Same("BEGIN");
  Same("DELETE FROM playlists WHERE id = 1");
  Same("SELECT count(*) FROM playlist_entries");
  Same("ROLLBACK");
  SameContents();
  Same("SAVEPOINT s");
  Same("DELETE FROM media_files WHERE id = 2");
  Same("ROLLBACK TO s");
  Same("RELEASE s");
  SameContents();
}

}  // namespace
}  // namespace zcmedia::test
