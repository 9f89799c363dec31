// docs/porting.md says exactly what a server using the legacy schema
// changes. This runs the legacy server's start-up, its writes and its
// queries (../shared/notes/legacy-schema.md, "What the server does with
// it") on an ordinary legacy database and, unchanged except for the
// documented changes, on the zcmedia tables: every answer must agree.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../store/test_util.h"
#include "sql_test_util.h"

namespace zcmedia::test {
namespace {

using P = SqlDb::Param;

// The server's start-up DDL, as it runs it at every start.
const char* const kStartupTables = R"(
CREATE TABLE IF NOT EXISTS media_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT UNIQUE NOT NULL, parent_path TEXT NOT NULL,
    canonical_path TEXT, canonical_parent_path TEXT, filename TEXT NOT NULL, size INTEGER NOT NULL,
    modified INTEGER NOT NULL, mime_type TEXT NOT NULL, duration INTEGER, title TEXT, artist TEXT,
    album TEXT, genre TEXT, track_number INTEGER, year INTEGER, album_artist TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS playlists (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, description TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS playlist_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, playlist_id INTEGER NOT NULL, media_file_id INTEGER NOT NULL,
    position INTEGER NOT NULL, created_at INTEGER NOT NULL,
    FOREIGN KEY (playlist_id) REFERENCES playlists(id) ON DELETE CASCADE,
    FOREIGN KEY (media_file_id) REFERENCES media_files(id) ON DELETE CASCADE,
    UNIQUE(playlist_id, media_file_id), UNIQUE(playlist_id, position));
CREATE TABLE IF NOT EXISTS database_metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL);
)";
const char* const kStartupIndexes =
    "CREATE INDEX IF NOT EXISTS idx_media_files_canonical_path ON media_files(canonical_path)";

const char* const kInsert =
    "INSERT INTO media_files (path, parent_path, canonical_path, canonical_parent_path, filename, size, modified, "
    "mime_type, duration, title, artist, album, genre, track_number, year, album_artist, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

std::vector<P> Row(int n) {
  const std::string dir = "/media/music/Artist " + std::to_string(n % 5) + "/Album " + std::to_string(n % 3);
  const std::string file = std::to_string(n) + " - Song.flac";
  const bool audio = n % 4 != 0;
  return {P::Text(dir + "/" + file), P::Text(dir), P::Text(dir + "/" + file), P::Text(dir), P::Text(file),
          P::Int(1000 + n), P::Int(1700000000 + n), P::Text(audio ? "audio/flac" : "video/mp4"),
          audio ? P::Int(200000) : P::Null(), P::Text("Song " + std::to_string(n)),
          audio ? P::Text("Artist " + std::to_string(n % 5)) : P::Null(), P::Text("Album " + std::to_string(n % 3)),
          P::Text(n % 2 ? "Rock" : "Jazz"), P::Int(n % 12), P::Int(1990 + n % 7), P::Null(), P::Int(1700000000),
          P::Int(1700000000)};
}

class PortingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    legacy_ = std::make_unique<SqlDb>(dir_.path() + "/legacy.db");
    legacy_->Exec(kStartupTables);
    legacy_->Exec(kStartupIndexes);
    legacy_->Exec("PRAGMA foreign_keys = ON");
    // Change 2: the tables are created as virtual tables (the migrator does
    // this); the start-up's CREATE TABLE IF NOT EXISTS then leaves them be.
    ported_ = std::make_unique<SqlDb>(dir_.path() + "/media.db");
    ported_->Exec(VirtualSchema("media.store"));
    ported_->Exec(kStartupTables);
    ported_->Exec("PRAGMA foreign_keys = ON");
  }
  SqlResult Same(const std::string& sql, const std::vector<P>& params = {}) {
    SqlResult a = legacy_->Run(sql, params);
    SqlResult b = ported_->Run(sql, params);
    EXPECT_EQ(a.rc, b.rc) << sql << "\nlegacy: " << a.ToString() << "zcmedia: " << b.ToString();
    EXPECT_EQ(a.error, b.error) << sql;
    EXPECT_TRUE(a.rows == b.rows) << sql << "\nlegacy: " << a.ToString() << "zcmedia: " << b.ToString();
    EXPECT_EQ(sqlite3_last_insert_rowid(legacy_->handle()), sqlite3_last_insert_rowid(ported_->handle())) << sql;
    return b;
  }

  TempDir dir_;
  std::unique_ptr<SqlDb> legacy_, ported_;
};

TEST_F(PortingTest, TheServersStatementsGiveTheSameAnswers) {
  // Change 3: the CREATE INDEX statements go; SQLite refuses them itself.
  SqlResult index = ported_->Run(kStartupIndexes);
  EXPECT_NE(index.rc, SQLITE_OK);
  EXPECT_NE(index.error.find("virtual tables may not be indexed"), std::string::npos) << index.error;

  // A scan: one INSERT per file inside a transaction, last_insert_rowid read.
  Same("BEGIN");
  for (int n = 1; n <= 60; ++n) {
    Same(kInsert, Row(n));
    Same("SELECT last_insert_rowid()");
  }
  Same("COMMIT");
  Same(kInsert, Row(7));  // a duplicate path: UNIQUE error
  // Lookups.
  Same("SELECT * FROM media_files WHERE canonical_path = ?", {P::Text("/media/music/Artist 2/Album 1/7 - Song.flac")});
  Same("SELECT * FROM media_files WHERE id = ?", {P::Int(9)});
  Same("SELECT * FROM media_files WHERE canonical_path IN (?, ?, ?, ?) ORDER BY canonical_path",
       {P::Text("/media/music/Artist 1/Album 0/6 - Song.flac"), P::Text("/nope"),
        P::Text("/media/music/Artist 2/Album 1/7 - Song.flac"), P::Text("/media/music/Artist 1/Album 0/6 - Song.flac")});
  // Browsing.
  const P dir = P::Text("/media/music/Artist 1/Album 1");
  Same("SELECT * FROM media_files WHERE canonical_parent_path = ? ORDER BY filename LIMIT 1000", {dir});
  Same("SELECT * FROM media_files WHERE canonical_parent_path = ? AND mime_type LIKE 'video%' ORDER BY filename", {dir});
  Same("SELECT DISTINCT canonical_parent_path, parent_path FROM media_files WHERE canonical_parent_path LIKE ? "
       "AND canonical_parent_path != ? ORDER BY canonical_parent_path",
       {P::Text("/media/music/%"), P::Text("/media/music")});
  Same("SELECT * FROM media_files WHERE canonical_path LIKE ? ORDER BY canonical_path", {P::Text("/media/music/Artist 3%")});
  Same("SELECT * FROM media_files ORDER BY filename");
  // Music categories and tracks.
  for (const char* c : {"artist", "album", "genre", "album_artist"}) {
    const std::string col = c;
    Same("SELECT " + col + ", COUNT(*) FROM media_files WHERE mime_type LIKE 'audio/%' AND " + col +
         " IS NOT NULL AND " + col + " != '' GROUP BY " + col + " ORDER BY " + col + " COLLATE NOCASE");
  }
  Same("SELECT year, COUNT(*) FROM media_files WHERE mime_type LIKE 'audio/%' AND year IS NOT NULL GROUP BY year "
       "ORDER BY year DESC");
  Same("SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND artist = ? ORDER BY album, track_number, filename",
       {P::Text("Artist 3")});
  Same("SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND album = ? ORDER BY track_number, filename",
       {P::Text("Album 2")});
  Same("SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND genre = ? ORDER BY artist, album, track_number, "
       "filename", {P::Text("Jazz")});
  Same("SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND year = ? ORDER BY artist, album, track_number, "
       "filename", {P::Int(1993)});
  // Playlists.
  Same("INSERT INTO playlists (name, description, created_at, updated_at) VALUES (?, ?, ?, ?)",
       {P::Text("Favourites"), P::Null(), P::Int(1), P::Int(1)});
  Same("BEGIN");
  for (int m : {5, 9, 2, 11}) {
    Same("SELECT MAX(position) FROM playlist_entries WHERE playlist_id = ?", {P::Int(1)});
    Same("INSERT INTO playlist_entries (playlist_id, media_file_id, position, created_at) VALUES (?, ?, "
         "COALESCE((SELECT MAX(position) FROM playlist_entries WHERE playlist_id = ?), -1) + 1, ?)",
         {P::Int(1), P::Int(m), P::Int(1), P::Int(2)});
  }
  Same("COMMIT");
  Same("SELECT m.* FROM media_files m JOIN playlist_entries pe ON m.id = pe.media_file_id WHERE pe.playlist_id = ? "
       "ORDER BY pe.position", {P::Int(1)});
  Same("UPDATE playlist_entries SET position = ? WHERE playlist_id = ? AND media_file_id = ?",
       {P::Int(10), P::Int(1), P::Int(9)});
  Same("UPDATE playlists SET name = ?, updated_at = ? WHERE id = ?", {P::Text("Best"), P::Int(3), P::Int(1)});
  // Writes: update by path, delete by canonical path (cascading).
  Same("UPDATE media_files SET size = ?, modified = ?, updated_at = ? WHERE path = ?",
       {P::Int(5), P::Int(6), P::Int(7), P::Text("/media/music/Artist 0/Album 2/5 - Song.flac")});
  Same("DELETE FROM media_files WHERE canonical_path = ?", {P::Text("/media/music/Artist 4/Album 0/9 - Song.flac")});
  Same("SELECT * FROM playlist_entries ORDER BY id");
  // The cleanup of missing files.
  Same("BEGIN");
  Same("CREATE TEMP TABLE IF NOT EXISTS existing_paths (path TEXT PRIMARY KEY)");
  Same("INSERT INTO existing_paths SELECT canonical_path FROM media_files WHERE id % 5 != 0");
  Same("DELETE FROM media_files WHERE canonical_path NOT IN (SELECT path FROM existing_paths)");
  Same("DROP TABLE existing_paths");
  Same("COMMIT");
  // Stats and maintenance.
  Same("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM media_files");
  Same("INSERT INTO database_metadata (key, value, updated_at) VALUES ('schema_version', '2', 1)");
  Same("PRAGMA integrity_check");
  Same("DELETE FROM playlists WHERE id = 1");
  Same("SELECT * FROM playlist_entries");
  Same("SELECT * FROM media_files ORDER BY id");
  EXPECT_TRUE(ported_->Run("VACUUM").ok());
  EXPECT_TRUE(ported_->Run("VACUUM INTO '" + dir_.path() + "/copy.db'").ok());
}

TEST_F(PortingTest, WhatSqliteRefusesOnAVirtualTableGetsSqlitesError) {
  for (const char* sql : {
           "CREATE TRIGGER t AFTER INSERT ON media_files BEGIN SELECT 1; END",
           "ALTER TABLE media_files ADD COLUMN extra TEXT",
           "INSERT INTO playlists(name, created_at, updated_at) VALUES ('a', 1, 1) "
           "ON CONFLICT(name) DO UPDATE SET updated_at = 2",
           "DELETE FROM media_files WHERE id = 1 RETURNING id",
       }) {
    SqlResult r = ported_->Run(sql);
    EXPECT_NE(r.rc, SQLITE_OK) << sql << " was accepted";
    EXPECT_FALSE(r.error.empty()) << sql;
  }
}

}  // namespace
}  // namespace zcmedia::test
