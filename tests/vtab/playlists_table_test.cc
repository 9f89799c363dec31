// The playlists and playlist_entries tables against the same rows in
// ordinary SQLite tables with the legacy schema (foreign keys on): every
// query gives the same rows with the same values and types, in the same
// order where the query orders them. Then the plans: EXPLAIN QUERY PLAN
// shows the lookups, the ORDER BYs the tables take over (no temp B-tree)
// and the legacy server's join driven by the entries of one playlist.
#include <algorithm>
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
using test::OwnedRecord;
using test::TempDir;

constexpr const char* kLegacySchema = R"(
CREATE TABLE media_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT UNIQUE NOT NULL, parent_path TEXT NOT NULL,
    canonical_path TEXT, canonical_parent_path TEXT, filename TEXT NOT NULL, size INTEGER NOT NULL,
    modified INTEGER NOT NULL, mime_type TEXT NOT NULL, duration INTEGER, title TEXT, artist TEXT,
    album TEXT, genre TEXT, track_number INTEGER, year INTEGER, album_artist TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE playlists (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, description TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE playlist_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, playlist_id INTEGER NOT NULL, media_file_id INTEGER NOT NULL,
    position INTEGER NOT NULL, created_at INTEGER NOT NULL,
    FOREIGN KEY (playlist_id) REFERENCES playlists(id) ON DELETE CASCADE,
    FOREIGN KEY (media_file_id) REFERENCES media_files(id) ON DELETE CASCADE,
    UNIQUE(playlist_id, media_file_id), UNIQUE(playlist_id, position));
CREATE INDEX idx_playlist_entries_playlist_id ON playlist_entries(playlist_id);
CREATE INDEX idx_playlist_entries_media_file_id ON playlist_entries(media_file_id);
CREATE INDEX idx_playlist_entries_position ON playlist_entries(playlist_id, position);
PRAGMA foreign_keys = ON;
)";

std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}
std::string OptQuote(const std::optional<std::string>& s) { return s ? Quote(*s) : "NULL"; }
std::string OptNum(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "NULL"; }

struct PlaylistSpec {
  std::string name;
  std::optional<std::string> description;
  int64_t created_at, updated_at;
};

// One store and its legacy twin for the whole suite (read-only tests).
class PlaylistTablesTest : public ::testing::Test {
 protected:
  static constexpr int kMediaFiles = 40;
  static constexpr int kSmallPlaylists = 30;

  static void SetUpTestSuite() {
    dir_ = new TempDir();
    store_dir_ = dir_->path() + "/store";
    ref_ = new Db();
    ref_->MustExec(kLegacySchema);

    Options options;
    options.use_environment = false;
    std::unique_ptr<Store> store;
    Status s = Store::Open(store_dir_, options, &store);
    ASSERT_TRUE(s.ok()) << s.ToString();

    // Media files 1..40, in both.
    {
      WriteBatch b;
      std::vector<OwnedRecord> records;
      for (int i = 1; i <= kMediaFiles; ++i) records.push_back(OwnedRecord::Sample(i));
      for (const OwnedRecord& r : records) b.Put(r.fields());
      std::vector<int64_t> ids;
      ASSERT_TRUE(store->Write(b, &ids).ok());
      for (size_t k = 0; k < records.size(); ++k) {
        const OwnedRecord& r = records[k];
        ref_->MustExec("INSERT INTO media_files VALUES (" + std::to_string(ids[k]) + ", " + Quote(r.path) + ", " +
                       OptQuote(r.parent_path) + ", " + OptQuote(r.canonical_path) + ", " +
                       OptQuote(r.canonical_parent_path) + ", " + OptQuote(r.filename) + ", " +
                       std::to_string(r.size) + ", " + std::to_string(r.modified) + ", " + OptQuote(r.mime_type) +
                       ", " + OptNum(r.duration) + ", " + OptQuote(r.title) + ", " + OptQuote(r.artist) + ", " +
                       OptQuote(r.album) + ", " + OptQuote(r.genre) + ", " + OptNum(r.track_number) + ", " +
                       OptNum(r.year) + ", " + OptQuote(r.album_artist) + ", " + std::to_string(r.created_at) +
                       ", " + std::to_string(r.updated_at) + ")");
      }
    }

    // Playlists: names that differ by case only, '' as a name, '' and NULL
    // descriptions, a name that looks like a number, quotes.
    const std::vector<PlaylistSpec> playlists = {
        {"Rock", std::nullopt, 100, 150}, {"rock", "", 101, 101},      {"", "nameless", 102, 90},
        {"Temp", "removed", 103, 103},    {"Jazz 'n' Blues", "it's", 104, 200}, {"Empty", std::nullopt, 105, 105},
        {"5", std::nullopt, 106, 107}};
    // And many small ones, as a library has (the costs then favour the
    // lookups of a few playlists over a scan of every entry).
    std::vector<PlaylistSpec> all = playlists;
    for (int k = 1; k <= kSmallPlaylists; ++k) all.push_back({"Auto " + std::to_string(k), std::nullopt, 200 + k, 300});
    std::vector<int64_t> playlist_ids;
    {
      WriteBatch b;
      for (const PlaylistSpec& p : all)
        b.PutPlaylist({0, p.name, p.description ? OptText(*p.description) : std::nullopt, p.created_at, p.updated_at});
      ASSERT_TRUE(store->Write(b, &playlist_ids).ok());
      for (size_t k = 0; k < all.size(); ++k)
        ref_->MustExec("INSERT INTO playlists VALUES (" + std::to_string(playlist_ids[k]) + ", " + Quote(all[k].name) +
                       ", " + OptQuote(all[k].description) + ", " + std::to_string(all[k].created_at) + ", " +
                       std::to_string(all[k].updated_at) + ")");
    }
    rock_ = playlist_ids[0];
    jazz_ = playlist_ids[4];
    empty_ = playlist_ids[5];

    // Entries (playlist index, media file, position): positions with gaps,
    // inserted out of order.
    struct E {
      int playlist;
      int64_t media, position;
    };
    std::vector<E> entries = {{0, 3, 0}, {0, 1, 1}, {0, 7, 5}, {0, 12, 2}, {0, 20, 9}, {1, 1, 10}, {1, 2, 3},
                              {2, 40, 0}, {3, 5, 0}, {6, 3, 7}, {6, 4, 1}};
    for (int64_t m = 5; m <= 25; ++m) entries.push_back({4, m, 2 * (25 - m)});
    for (int k = 1; k <= kSmallPlaylists; ++k) {
      entries.push_back({6 + k, 26 + k % 10, 1});
      entries.push_back({6 + k, 1 + k % 7, 0});
    }
    std::vector<int64_t> entry_ids;
    {
      WriteBatch b;
      int64_t created = 1000;
      for (const E& e : entries) b.PutPlaylistEntry({0, playlist_ids[e.playlist], e.media, e.position, created++});
      ASSERT_TRUE(store->Write(b, &entry_ids).ok());
      created = 1000;
      for (size_t k = 0; k < entries.size(); ++k)
        ref_->MustExec("INSERT INTO playlist_entries VALUES (" + std::to_string(entry_ids[k]) + ", " +
                       std::to_string(playlist_ids[entries[k].playlist]) + ", " + std::to_string(entries[k].media) +
                       ", " + std::to_string(entries[k].position) + ", " + std::to_string(created++) + ")");
    }

    // Removals: an entry, a playlist with its entries, a media file with
    // its entries (the cascades), leaving gaps in every id sequence.
    {
      WriteBatch b;
      b.RemovePlaylistEntry(entry_ids[2]);  // Rock: media 7
      b.RemovePlaylist(playlist_ids[3]);    // Temp
      b.Remove(12);                         // in Rock
      Status w = store->Write(b);
      ASSERT_TRUE(w.ok()) << w.ToString();
      ref_->MustExec("DELETE FROM playlist_entries WHERE id = " + std::to_string(entry_ids[2]) +
                     "; DELETE FROM playlists WHERE id = " + std::to_string(playlist_ids[3]) +
                     "; DELETE FROM media_files WHERE id = 12;");
    }
    store.reset();

    db_ = new Db();
    for (const char* kind : {"media_files", "playlists", "playlist_entries"})
      db_->MustExec(std::string("CREATE VIRTUAL TABLE ") + kind + " USING zcmedia(store=" + Quote(store_dir_) +
                    ", kind=" + kind + ")");
  }

  static void TearDownTestSuite() {
    delete db_;
    delete ref_;
    delete dir_;
    db_ = ref_ = nullptr;
    dir_ = nullptr;
  }

  // The same rows from both; sorted first when the query does not order them.
  static std::vector<Row> ExpectSame(const std::string& sql, bool ordered = true) {
    std::vector<Row> ours = db_->Query(sql);
    std::vector<Row> legacy = ref_->Query(sql);
    if (!ordered) {
      std::sort(ours.begin(), ours.end());
      std::sort(legacy.begin(), legacy.end());
    }
    EXPECT_EQ(ours, legacy) << sql << "\nzcmedia:\n" << sqltest::ToString(ours) << "legacy:\n"
                            << sqltest::ToString(legacy);
    return ours;
  }
  // The same, and at least one row (so that the comparison says something).
  static void ExpectSameRows(const std::string& sql, bool ordered = true) {
    EXPECT_FALSE(ExpectSame(sql, ordered).empty()) << sql;
  }

  static TempDir* dir_;
  static std::string store_dir_;
  static Db* db_;
  static Db* ref_;
  static int64_t rock_, jazz_, empty_;
};

TempDir* PlaylistTablesTest::dir_ = nullptr;
std::string PlaylistTablesTest::store_dir_;
Db* PlaylistTablesTest::db_ = nullptr;
Db* PlaylistTablesTest::ref_ = nullptr;
int64_t PlaylistTablesTest::rock_ = 0;
int64_t PlaylistTablesTest::jazz_ = 0;
int64_t PlaylistTablesTest::empty_ = 0;

// ---- playlists ----------------------------------------------------------------

TEST_F(PlaylistTablesTest, ColumnsAreTheLegacyOnes) {
  for (const char* table : {"playlists", "playlist_entries"})
    ExpectSameRows(std::string("SELECT cid, name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('") +
                   table + "')");
}

TEST_F(PlaylistTablesTest, PlaylistsScanMatchesLegacyTable) {
  ExpectSameRows("SELECT * FROM playlists ORDER BY id");
  ExpectSameRows("SELECT id, name, description, created_at, updated_at, typeof(description) FROM playlists", false);
  ExpectSameRows("SELECT rowid, * FROM playlists ORDER BY rowid");
  ExpectSameRows("SELECT * FROM playlists ORDER BY id DESC");
  ExpectSameRows("SELECT * FROM playlists ORDER BY name");
  ExpectSameRows("SELECT * FROM playlists ORDER BY name DESC");
  ExpectSameRows("SELECT * FROM playlists ORDER BY description, id");
  ExpectSameRows("SELECT * FROM playlists ORDER BY updated_at DESC, created_at");
  ExpectSameRows("SELECT * FROM playlists ORDER BY name COLLATE NOCASE, id");
  ExpectSameRows("SELECT count(*), max(id), min(name), max(name) FROM playlists");
  ExpectSameRows("SELECT * FROM playlists WHERE id > 2 AND id <= 6 ORDER BY id");
  ExpectSameRows("SELECT * FROM playlists WHERE id >= 2.5 ORDER BY id");
  ExpectSame("SELECT * FROM playlists WHERE id > NULL");
  ExpectSameRows("SELECT * FROM playlists WHERE description IS NULL ORDER BY id");
  ExpectSameRows("SELECT * FROM playlists WHERE name LIKE 'r%' ORDER BY id");
}

TEST_F(PlaylistTablesTest, PlaylistsLookupsByIdMatchLegacyTable) {
  for (int id = 0; id <= 9; ++id) {
    ExpectSame("SELECT * FROM playlists WHERE id = " + std::to_string(id));
    ExpectSame("SELECT * FROM playlists WHERE rowid = " + std::to_string(id));
  }
  ExpectSameRows("SELECT * FROM playlists WHERE id = '2'");
  ExpectSameRows("SELECT * FROM playlists WHERE id = 2.0");
  ExpectSame("SELECT * FROM playlists WHERE id = 2.5");
  ExpectSame("SELECT * FROM playlists WHERE id = 'two'");
  ExpectSame("SELECT * FROM playlists WHERE id = NULL");
  ExpectSameRows("SELECT * FROM playlists WHERE id IN (1, 3, 3, NULL, 99, 4, '5') ORDER BY id");
  ExpectSameRows("SELECT * FROM playlists WHERE id IN (1, 3, 3, NULL, 99, 4, '5') ORDER BY name DESC");
  ExpectSameRows("SELECT * FROM playlists WHERE id IN (1, 3, 3, NULL)", false);
  ExpectSameRows("SELECT * FROM playlists WHERE id IN (SELECT 2 UNION SELECT 6)", false);
  ExpectSameRows("SELECT * FROM playlists WHERE id = 1 AND name = 'Rock'");
  ExpectSame("SELECT * FROM playlists WHERE id = 1 AND name = 'rock'");
}

TEST_F(PlaylistTablesTest, PlaylistsLookupsByNameMatchLegacyTable) {
  for (const char* name : {"'Rock'", "'rock'", "''", "'Jazz ''n'' Blues'", "'Temp'", "'nope'", "5", "'5'", "5.0",
                           "NULL", "'ROCK'"})
    ExpectSame(std::string("SELECT * FROM playlists WHERE name = ") + name);
  ExpectSameRows("SELECT * FROM playlists WHERE name = 5");
  ExpectSameRows("SELECT * FROM playlists WHERE name IN ('Rock', 'rock', 'Rock', NULL, 'x', 5) ORDER BY id");
  ExpectSameRows("SELECT * FROM playlists WHERE name IN ('Rock', 'rock', 'Rock', NULL, 'x', 5) ORDER BY name DESC");
  // Another collation: the name lookup must not be used (it compares bytes).
  ExpectSameRows("SELECT * FROM playlists WHERE name = 'ROCK' COLLATE NOCASE ORDER BY id");
  ExpectSameRows("SELECT * FROM playlists WHERE name COLLATE NOCASE IN ('ROCK', '') ORDER BY id");
  ExpectSameRows("SELECT id FROM playlists WHERE name = 'Empty'");
  // OR: SQLite may plan each branch as its own lookup.
  ExpectSameRows("SELECT * FROM playlists WHERE name = 'rock' OR id = 1 OR name = 'Rock' ORDER BY id");
  ExpectSameRows("SELECT * FROM playlists WHERE name = 'rock' OR description = 'it''s'", false);
}

TEST_F(PlaylistTablesTest, PlaylistsLimitOffsetMatchLegacyTable) {
  ExpectSameRows("SELECT * FROM playlists ORDER BY id LIMIT 2");
  ExpectSameRows("SELECT * FROM playlists ORDER BY id LIMIT 2 OFFSET 1");
  ExpectSameRows("SELECT * FROM playlists ORDER BY name DESC LIMIT 3 OFFSET 2");
  ExpectSameRows("SELECT * FROM playlists ORDER BY id LIMIT -1 OFFSET 4");
  ExpectSame("SELECT * FROM playlists ORDER BY id LIMIT 0");
  ExpectSame("SELECT * FROM playlists ORDER BY id LIMIT 5 OFFSET 50");
  ExpectSameRows("SELECT * FROM playlists WHERE id IN (1, 2, 3, 5) ORDER BY id LIMIT 2 OFFSET 1");
  ExpectSameRows("SELECT * FROM playlists WHERE name IN ('Rock', 'rock', '') ORDER BY name LIMIT 1 OFFSET 1");
  ExpectSameRows("SELECT * FROM playlists WHERE id > 1 ORDER BY id LIMIT 2 OFFSET 1");
  ExpectSameRows("SELECT * FROM playlists WHERE name LIKE '%o%' ORDER BY id LIMIT 1 OFFSET 1");
}

TEST_F(PlaylistTablesTest, PlaylistsQueryPlans) {
  auto plan = [](const std::string& sql) { return db_->Plan(sql); };
  EXPECT_NE(plan("SELECT * FROM playlists WHERE id = ?").find("INDEX 1:id id="), std::string::npos);
  EXPECT_NE(plan("SELECT * FROM playlists WHERE rowid = ?").find("INDEX 1:id id="), std::string::npos);
  EXPECT_NE(plan("SELECT * FROM playlists WHERE id IN (1, 2)").find("INDEX 1:id id-in"), std::string::npos);
  EXPECT_NE(plan("SELECT * FROM playlists WHERE name = ?").find("INDEX 2:name name="), std::string::npos);
  EXPECT_NE(plan("SELECT * FROM playlists WHERE name IN ('a', 'b')").find("INDEX 2:name name-in"),
            std::string::npos);
  // NOCASE: bytes would not do, so no name lookup.
  const std::string nocase = plan("SELECT * FROM playlists WHERE name = ? COLLATE NOCASE");
  EXPECT_EQ(nocase.find("INDEX 2:"), std::string::npos) << nocase;
  EXPECT_NE(nocase.find("INDEX 0:scan"), std::string::npos) << nocase;
  // The scan hands rows over in id order, sorts small results otherwise,
  // and takes LIMIT/OFFSET when nothing else is left to SQLite.
  for (const char* sql : {"SELECT * FROM playlists ORDER BY id", "SELECT * FROM playlists ORDER BY name DESC, id",
                          "SELECT * FROM playlists WHERE id IN (1, 2) ORDER BY name"}) {
    EXPECT_EQ(plan(sql).find("TEMP B-TREE"), std::string::npos) << sql << "\n" << plan(sql);
  }
  const std::string limited = plan("SELECT * FROM playlists ORDER BY name LIMIT 2 OFFSET 1");
  EXPECT_NE(limited.find("limit offset"), std::string::npos) << limited;
  const std::string unsafe = plan("SELECT * FROM playlists WHERE name LIKE 'r%' ORDER BY id LIMIT 2");
  EXPECT_EQ(unsafe.find("limit"), std::string::npos) << unsafe;
}

// ---- playlist_entries -----------------------------------------------------------

TEST_F(PlaylistTablesTest, EntriesScanAndIdLookupsMatchLegacyTable) {
  ExpectSameRows("SELECT * FROM playlist_entries ORDER BY id");
  ExpectSameRows("SELECT rowid, * FROM playlist_entries", false);
  ExpectSameRows("SELECT * FROM playlist_entries ORDER BY position DESC, id");
  ExpectSameRows("SELECT count(*), max(id), sum(position) FROM playlist_entries");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE id BETWEEN 3 AND 9 ORDER BY id");
  for (int id = 0; id <= 40; id += 3) ExpectSame("SELECT * FROM playlist_entries WHERE id = " + std::to_string(id));
  ExpectSameRows("SELECT * FROM playlist_entries WHERE rowid = '5'");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE id IN (1, 2, 2, NULL, 3, 1000, '6') ORDER BY id");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE id IN (1, 2, 2, NULL, 3, 1000) ORDER BY position DESC");
  ExpectSame("SELECT * FROM playlist_entries WHERE id = NULL");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE position = 0 ORDER BY id");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE created_at = 1001");
}

TEST_F(PlaylistTablesTest, EntriesOfAPlaylistInPositionOrderMatchLegacyTable) {
  for (int64_t p = 0; p <= 8; ++p) {
    const std::string id = std::to_string(p);
    ExpectSame("SELECT * FROM playlist_entries WHERE playlist_id = " + id + " ORDER BY position");
    ExpectSame("SELECT * FROM playlist_entries WHERE playlist_id = " + id + " ORDER BY playlist_id, position");
    ExpectSame("SELECT * FROM playlist_entries WHERE playlist_id = " + id + " ORDER BY position DESC");
    ExpectSame("SELECT media_file_id FROM playlist_entries WHERE playlist_id = " + id +
               " ORDER BY media_file_id DESC");
    ExpectSame("SELECT * FROM playlist_entries WHERE playlist_id = " + id, false);
    // The legacy server's next free position.
    ExpectSame("SELECT MAX(position) FROM playlist_entries WHERE playlist_id = " + id);
    ExpectSame("SELECT COALESCE(MAX(position), -1) + 1 FROM playlist_entries WHERE playlist_id = " + id);
    ExpectSame("SELECT MIN(position), count(*) FROM playlist_entries WHERE playlist_id = " + id);
  }
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id = " + std::to_string(jazz_) + " ORDER BY position");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id = '" + std::to_string(rock_) + "' ORDER BY position");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id = " + std::to_string(rock_) + ".0 ORDER BY position");
  ExpectSame("SELECT * FROM playlist_entries WHERE playlist_id = NULL");
  ExpectSame("SELECT * FROM playlist_entries WHERE playlist_id = 'Rock'");
  // Several lists at once, duplicates and NULL in the list.
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id IN (1, 3, 3, NULL, 99, 7) ORDER BY playlist_id, position");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id IN (1, 3, 3, NULL, 99, 7) ORDER BY position DESC, id");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id IN (1, 2, 3, 5, 7)", false);
  ExpectSameRows("SELECT playlist_id, MAX(position) FROM playlist_entries WHERE playlist_id IN (1, 2, 5) "
                 "GROUP BY playlist_id ORDER BY playlist_id");
  // With a second column (the UNIQUE pairs).
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id = 1 AND media_file_id = 3");
  ExpectSame("SELECT * FROM playlist_entries WHERE playlist_id = 1 AND media_file_id = 12");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id = 2 AND position = 3");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id = 5 AND position IN (0, 4, 4, 5, NULL) ORDER BY position");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id = 5 AND position > 30 ORDER BY position");
  ExpectSame("SELECT * FROM playlist_entries WHERE playlist_id = 1 AND playlist_id = 2");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id = 1 OR media_file_id = 3 OR id = 40", false);
  ExpectSameRows("SELECT * FROM playlist_entries WHERE (playlist_id = 5 AND position < 6) OR (playlist_id = 2) "
                 "ORDER BY id");
}

TEST_F(PlaylistTablesTest, EntriesOfMediaFilesMatchLegacyTable) {
  for (int64_t m = 0; m <= 41; ++m) {
    ExpectSame("SELECT * FROM playlist_entries WHERE media_file_id = " + std::to_string(m) + " ORDER BY id");
    ExpectSame("SELECT * FROM playlist_entries WHERE media_file_id = " + std::to_string(m), false);
  }
  ExpectSameRows("SELECT * FROM playlist_entries WHERE media_file_id = 1 ORDER BY playlist_id DESC");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE media_file_id IN (1, 3, 3, NULL, 12) ORDER BY id");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE media_file_id IN (1, 3, 3, NULL, 12) ORDER BY position, id");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE media_file_id = '3' AND position = 7");
}

TEST_F(PlaylistTablesTest, EntriesLimitOffsetMatchLegacyTable) {
  const std::string jazz = std::to_string(jazz_);
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id = " + jazz + " ORDER BY position LIMIT 3 OFFSET 2");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id = " + jazz + " ORDER BY position DESC LIMIT 4");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id = " + jazz + " ORDER BY position LIMIT -1 OFFSET 19");
  ExpectSame("SELECT * FROM playlist_entries WHERE playlist_id = " + jazz + " ORDER BY position LIMIT 5 OFFSET 50");
  ExpectSame("SELECT * FROM playlist_entries WHERE playlist_id = " + jazz + " ORDER BY position LIMIT 0");
  ExpectSameRows("SELECT * FROM playlist_entries ORDER BY id LIMIT 5 OFFSET 3");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE position = 0 ORDER BY id LIMIT 2 OFFSET 1");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE playlist_id IN (1, 2, 5) ORDER BY playlist_id, position "
                 "LIMIT 4 OFFSET 3");
  ExpectSameRows("SELECT * FROM playlist_entries WHERE media_file_id IN (1, 3) ORDER BY id LIMIT 2 OFFSET 1");
}

TEST_F(PlaylistTablesTest, LegacyJoinOfAPlaylistsTracksMatchesLegacyTables) {
  for (int64_t p = 0; p <= 8; ++p)
    ExpectSame("SELECT m.* FROM media_files m JOIN playlist_entries pe ON m.id = pe.media_file_id "
               "WHERE pe.playlist_id = " + std::to_string(p) + " ORDER BY pe.position");
  ExpectSameRows("SELECT m.id, m.title, pe.position FROM media_files m JOIN playlist_entries pe ON m.id = "
                 "pe.media_file_id WHERE pe.playlist_id = " + std::to_string(jazz_) + " ORDER BY pe.position");
  ExpectSameRows("SELECT p.name, count(*) FROM playlists p JOIN playlist_entries pe ON pe.playlist_id = p.id "
                 "GROUP BY p.id ORDER BY p.id");
  ExpectSameRows("SELECT p.name, pe.position FROM playlists p JOIN playlist_entries pe ON pe.playlist_id = p.id "
                 "WHERE pe.media_file_id = 3 ORDER BY p.name");
  ExpectSameRows("SELECT p.id, p.name, count(pe.id), max(pe.position) FROM playlists p LEFT JOIN playlist_entries pe "
                 "ON pe.playlist_id = p.id GROUP BY p.id ORDER BY p.name");
  ExpectSameRows("SELECT m.path FROM media_files m WHERE NOT EXISTS (SELECT 1 FROM playlist_entries pe "
                 "WHERE pe.media_file_id = m.id) ORDER BY m.id");
}

// Regression (plan.cc): IN-list items come in one reused sqlite3_value;
// only the last one used to be looked up.
TEST_F(PlaylistTablesTest, MediaFilesInListsTakeEveryValue) {
  ExpectSameRows("SELECT id, path, typeof(genre) FROM media_files WHERE id IN (1, 3, 3, NULL, 12, 99, '7') ORDER BY id");
  ExpectSameRows("SELECT id FROM media_files WHERE id IN (SELECT media_file_id FROM playlist_entries WHERE playlist_id = " +
                     std::to_string(jazz_) + ")",
                 false);
  ExpectSameRows("SELECT id, path FROM media_files WHERE path IN (SELECT path FROM media_files WHERE id < 5) ORDER BY path");
}

TEST_F(PlaylistTablesTest, EntriesQueryPlans) {
  auto plan = [](const std::string& sql) { return db_->Plan(sql); };
  EXPECT_NE(plan("SELECT * FROM playlist_entries WHERE id = ?").find("INDEX 1:id id="), std::string::npos);
  EXPECT_NE(plan("SELECT * FROM playlist_entries WHERE media_file_id = ?").find("INDEX 3:media-file media_file_id="),
            std::string::npos);
  EXPECT_NE(plan("SELECT * FROM playlist_entries WHERE playlist_id IN (1, 2)").find("INDEX 2:playlist playlist_id-in"),
            std::string::npos);
  EXPECT_NE(plan("SELECT * FROM playlist_entries WHERE media_file_id IN (1, 2)").find("INDEX 3:media-file media_file_id-in"),
            std::string::npos);
  // Other columns: the scan, filtering exactly (so LIMIT goes through).
  const std::string filtered = plan("SELECT * FROM playlist_entries WHERE position = ? AND created_at IN (1, 2) LIMIT 3");
  EXPECT_NE(filtered.find("INDEX 0:scan position= created_at-in limit"), std::string::npos) << filtered;
  // Both columns of a UNIQUE pair: one lookup, the other column filtered.
  const std::string pair = plan("SELECT * FROM playlist_entries WHERE playlist_id = ? AND position = ?");
  EXPECT_NE(pair.find("position="), std::string::npos) << pair;
  // The entries of one playlist come in position order as they are.
  for (const char* sql : {"SELECT * FROM playlist_entries WHERE playlist_id = ? ORDER BY position",
                          "SELECT * FROM playlist_entries WHERE playlist_id = ? ORDER BY playlist_id, position"}) {
    const std::string p = plan(sql);
    EXPECT_NE(p.find("INDEX 2:playlist playlist_id= ordered"), std::string::npos) << sql << "\n" << p;
    EXPECT_EQ(p.find("TEMP B-TREE"), std::string::npos) << sql << "\n" << p;
  }
  // MAX(position): one lookup of the playlist, no sorter, no scan.
  const std::string max = plan("SELECT MAX(position) FROM playlist_entries WHERE playlist_id = ?");
  EXPECT_NE(max.find("INDEX 2:playlist playlist_id="), std::string::npos) << max;
  EXPECT_EQ(max.find("TEMP B-TREE"), std::string::npos) << max;
  // LIMIT/OFFSET of a playlist's page.
  const std::string page = plan("SELECT * FROM playlist_entries WHERE playlist_id = ? ORDER BY position LIMIT 10 OFFSET 20");
  EXPECT_NE(page.find("limit offset"), std::string::npos) << page;

  // The legacy join: the entries of the playlist (in position order), then
  // one media_files lookup by id per entry; nothing sorted afterwards.
  const std::string join = plan(
      "SELECT m.* FROM media_files m JOIN playlist_entries pe ON m.id = pe.media_file_id "
      "WHERE pe.playlist_id = ? ORDER BY pe.position");
  const size_t entries = join.find("SCAN pe VIRTUAL TABLE INDEX 2:playlist playlist_id= ordered");
  const size_t files = join.find("SCAN m VIRTUAL TABLE INDEX 1:id id=");
  EXPECT_NE(entries, std::string::npos) << join;
  EXPECT_NE(files, std::string::npos) << join;
  EXPECT_LT(entries, files) << join;
  EXPECT_EQ(join.find("TEMP B-TREE"), std::string::npos) << join;
}

}  // namespace
}  // namespace zcmedia

namespace zcmedia {
namespace {

// Regression: the session knew a statement by its pointer and run count, and
// a statement prepared after another was finalized often gets the same
// memory: it then read the old snapshot, never seeing what other writers
// committed. Now a snapshot is pinned only while a cursor holds it.
TEST(PlaylistSnapshotTest, NewStatementsSeeCommitsRunningOnesKeepTheirSnapshot) {
  TempDir dir;
  const std::string store_dir = dir.path() + "/store";
  Options options;
  options.use_environment = false;
  auto add_playlist = [&](const std::string& name) {
    std::unique_ptr<Store> writer;  // as another process's writer would
    ASSERT_TRUE(Store::Open(store_dir, options, &writer).ok());
    WriteBatch b;
    b.PutPlaylist({0, name, std::nullopt, 1, 1});
    ASSERT_TRUE(writer->Write(b).ok());
  };
  add_playlist("one");
  Db db;
  db.MustExec("CREATE VIRTUAL TABLE playlists USING zcmedia(store=" + Quote(store_dir) + ", kind=playlists)");
  for (int n = 1; n <= 4; ++n) {
    std::vector<Row> rows = db.Query("SELECT count(*) FROM playlists");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0].i, n);
    add_playlist("p" + std::to_string(n));
  }
  // A statement in progress keeps reading the snapshot of its first xFilter.
  sqlite3_stmt* running = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.get(), "SELECT name FROM playlists ORDER BY id", -1, &running, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(running), SQLITE_ROW);
  add_playlist("late");
  int rows = 1;
  while (sqlite3_step(running) == SQLITE_ROW) ++rows;
  sqlite3_finalize(running);
  EXPECT_EQ(rows, 5);
  EXPECT_EQ(db.Query("SELECT count(*) FROM playlists")[0][0].i, 6);
}

}  // namespace
}  // namespace zcmedia
