// What comes over besides the media rows: the AUTOINCREMENT high-water
// marks, playlists with their gaps, empty tables, every other table with its
// indexes, views and triggers, the record of the migration; and --dry-run.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>

#include "migrate_test_util.h"

namespace zcmedia::migratetest {
namespace {

using migrate::kExitOk;
using migrate::Migrate;
using migrate::MigrateReport;
using migrate::MigrateResult;

constexpr const char* kInsertMedia =
    "INSERT INTO media_files(path, parent_path, filename, size, modified, mime_type, created_at, updated_at) "
    "VALUES (?1, '/new', 'x.mp3', 1, 2, 'audio/mpeg', 3, 4)";

struct Migrated {
  MigrateResult result;
  MigrateReport report;
};

Migrated MigrateOk(const migrate::MigrateOptions& options) {
  Migrated m;
  m.result = Migrate(options, &m.report);
  EXPECT_TRUE(m.result.status.ok()) << m.result.status.ToString();
  EXPECT_EQ(m.result.exit_code, kExitOk);
  return m;
}

TEST(TablesTest, SqliteSequenceCarriesOver) {
  TempDir dir;
  const std::string legacy = dir.Subdir("legacy") + "/media.db";
  GenerateSpec spec;
  spec.rows = 1000;
  Generate(legacy, spec);
  {
    // seq above max(id) in all three tables (ids deleted at the end).
    Db db(legacy);
    db.Exec("UPDATE sqlite_sequence SET seq = seq + 100");
  }
  ASSERT_EQ(ListDir(dir.File("legacy")), std::vector<std::string>{"media.db"});
  auto old_db = OpenImmutable(legacy);
  int64_t seq[3];
  const char* tables[3] = {"media_files", "playlists", "playlist_entries"};
  for (int t = 0; t < 3; ++t) {
    seq[t] = old_db->Int("SELECT seq FROM sqlite_sequence WHERE name = ?", {Value::Text(tables[t])});
    EXPECT_GT(seq[t], old_db->Int(std::string("SELECT max(id) FROM ") + tables[t])) << tables[t];
  }
  const std::string output = dir.Subdir("out") + "/new.db";
  MigrateOk(Options(legacy, output));

  {
    Db new_db(output);
    new_db.Exec("BEGIN");
    ASSERT_TRUE(new_db.Run(kInsertMedia, {Value::Text("/new/x.mp3")}).ok());
    const int64_t media_id = sqlite3_last_insert_rowid(new_db.get());
    EXPECT_EQ(media_id, seq[0] + 1);
    ASSERT_TRUE(new_db.Run("INSERT INTO playlists(name, description, created_at, updated_at) VALUES ('Added', NULL, 1, 1)")
                    .ok());
    const int64_t playlist_id = sqlite3_last_insert_rowid(new_db.get());
    EXPECT_EQ(playlist_id, seq[1] + 1);
    ASSERT_TRUE(new_db
                    .Run("INSERT INTO playlist_entries(playlist_id, media_file_id, position, created_at) "
                         "VALUES (?1, ?2, 0, 1)",
                         {Value::Int(playlist_id), Value::Int(media_id)})
                    .ok());
    EXPECT_EQ(sqlite3_last_insert_rowid(new_db.get()), seq[2] + 1);
    new_db.Exec("COMMIT");
    EXPECT_EQ(new_db.Int("SELECT id FROM media_files WHERE path = '/new/x.mp3'"), seq[0] + 1);
  }
  // And after reopening: the next ids follow.
  Db new_db(output);
  ASSERT_TRUE(new_db.Run(kInsertMedia, {Value::Text("/new/y.mp3")}).ok());
  EXPECT_EQ(sqlite3_last_insert_rowid(new_db.get()), seq[0] + 2);
}

TEST(TablesTest, PlaylistsWithPositionAndIdGapsComeOverUnchanged) {
  TempDir dir;
  const std::string legacy = dir.Subdir("legacy") + "/media.db";
  GenerateSpec spec;
  spec.rows = 4000;
  spec.playlists = 6;
  Generate(legacy, spec);
  auto old_db = OpenImmutable(legacy);
  // The file has the gaps this test is about.
  EXPECT_GT(old_db->Int("SELECT count(*) FROM playlist_entries e WHERE position > 0 AND NOT EXISTS "
                        "(SELECT 1 FROM playlist_entries p WHERE p.playlist_id = e.playlist_id AND "
                        "p.position = e.position - 1)"),
            0);
  EXPECT_GT(old_db->Int("SELECT max(id) - count(*) FROM playlist_entries"), 0);
  EXPECT_EQ(old_db->Int("SELECT count(*) FROM playlists"), 6);
  const std::string output = dir.Subdir("out") + "/new.db";
  const Migrated m = MigrateOk(Options(legacy, output));
  EXPECT_EQ(m.report.playlists, 6u);

  Db new_db(output);
  EXPECT_TRUE(SameRows(old_db->Strings("SELECT * FROM playlists ORDER BY id"),
                       new_db.Strings("SELECT * FROM playlists ORDER BY id")));
  EXPECT_TRUE(SameRows(old_db->Strings("SELECT * FROM playlist_entries ORDER BY id"),
                       new_db.Strings("SELECT * FROM playlist_entries ORDER BY id")));
  const std::string tracks =
      "SELECT m.* FROM media_files m JOIN playlist_entries pe ON m.id = pe.media_file_id "
      "WHERE pe.playlist_id = ? ORDER BY pe.position";
  int non_empty = 0;
  for (const Row& playlist : old_db->Rows("SELECT id FROM playlists ORDER BY id")) {
    const int64_t id = std::stoll(playlist[0].bytes);
    const std::vector<std::string> want = old_db->Strings(tracks, {Value::Int(id)});
    non_empty += !want.empty();
    EXPECT_TRUE(SameRows(want, new_db.Strings(tracks, {Value::Int(id)}))) << "playlist " << id;
    const std::string max_position = "SELECT MAX(position) FROM playlist_entries WHERE playlist_id = ?";
    EXPECT_EQ(old_db->Strings(max_position, {Value::Int(id)}), new_db.Strings(max_position, {Value::Int(id)}));
  }
  EXPECT_GE(non_empty, 4);
}

TEST(TablesTest, NoMediaFiles) {
  TempDir dir;
  const std::string legacy = dir.Subdir("legacy") + "/media.db";
  GenerateSpec spec;
  spec.rows = 0;
  Generate(legacy, spec);
  auto old_db = OpenImmutable(legacy);
  ASSERT_EQ(old_db->Int("SELECT count(*) FROM media_files"), 0);
  ASSERT_EQ(old_db->Int("SELECT count(*) FROM playlists"), 0);
  const int64_t seq = old_db->Int("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'media_files'");
  const std::string output = dir.Subdir("out") + "/new.db";
  const Migrated m = MigrateOk(Options(legacy, output));
  EXPECT_EQ(m.report.media_files, 0u);
  EXPECT_EQ(m.report.playlists, 0u);
  EXPECT_EQ(m.report.playlist_entries, 0u);
  EXPECT_TRUE(m.report.verified);
  Db new_db(output);
  EXPECT_EQ(new_db.Int("SELECT count(*) FROM media_files"), 0);
  EXPECT_EQ(new_db.Int("SELECT count(*) FROM playlists"), 0);
  EXPECT_EQ(new_db.Int("SELECT count(*) FROM playlist_entries"), 0);
  ASSERT_TRUE(new_db.Run(kInsertMedia, {Value::Text("/new/x.mp3")}).ok());
  EXPECT_EQ(sqlite3_last_insert_rowid(new_db.get()), seq + 1);
}

TEST(TablesTest, EmptyPlaylistTables) {
  TempDir dir;
  const std::string legacy = dir.Subdir("legacy") + "/media.db";
  GenerateSpec spec;
  spec.rows = 500;
  spec.playlists = 0;
  Generate(legacy, spec);
  auto old_db = OpenImmutable(legacy);
  ASSERT_EQ(old_db->Int("SELECT count(*) FROM playlists"), 0);
  ASSERT_EQ(old_db->Int("SELECT count(*) FROM playlist_entries"), 0);
  const std::string output = dir.Subdir("out") + "/new.db";
  const Migrated m = MigrateOk(Options(legacy, output));
  EXPECT_EQ(m.report.media_files, static_cast<uint64_t>(old_db->Int("SELECT count(*) FROM media_files")));
  EXPECT_EQ(m.report.playlists, 0u);
  EXPECT_EQ(m.report.playlist_entries, 0u);
  Db new_db(output);
  EXPECT_EQ(new_db.Int("SELECT count(*) FROM playlists"), 0);
  EXPECT_TRUE(SameRows(old_db->Strings("SELECT * FROM media_files ORDER BY id"),
                       new_db.Strings("SELECT * FROM media_files ORDER BY id")));
  ASSERT_TRUE(new_db.Run("INSERT INTO playlists(name, created_at, updated_at) VALUES ('First', 1, 1)").ok());
}

TEST(TablesTest, OtherTablesIndexesViewsAndTriggersCopiedUnchanged) {
  TempDir dir;
  const std::string legacy = dir.Subdir("legacy") + "/media.db";
  GenerateSpec spec;
  spec.rows = 500;
  Generate(legacy, spec);
  {
    Db db(legacy);
    db.Exec(R"sql(
      CREATE TABLE user_notes (id INTEGER PRIMARY KEY AUTOINCREMENT, media_id INTEGER, note TEXT, score REAL,
                               thumb BLOB);
      CREATE INDEX user_notes_media ON user_notes(media_id, note);
      CREATE VIEW audio_files AS SELECT id, path, artist FROM media_files WHERE mime_type LIKE 'audio/%';
      CREATE VIEW noted AS SELECT n.id, n.note, m.path FROM user_notes n JOIN media_files m ON m.id = n.media_id;
      CREATE TRIGGER user_notes_stamp AFTER INSERT ON user_notes
        BEGIN UPDATE user_notes SET note = note || '!' WHERE id = new.id; END;
      CREATE TRIGGER media_files_gone AFTER DELETE ON media_files
        BEGIN INSERT INTO user_notes(media_id, note) VALUES (old.id, 'gone'); END;
      INSERT INTO user_notes(media_id, note, score, thumb) VALUES (1, 'first', 1.5, x'00ff10'), (2, NULL, NULL, NULL),
                                                                  (3, 'third', -2.25, x''), (4, '', 7, 'text');
      DELETE FROM user_notes WHERE id = 4;
      INSERT INTO database_metadata VALUES ('library_name', 'Home ''library''', 1700000000);
    )sql");
  }
  ASSERT_EQ(ListDir(dir.File("legacy")), std::vector<std::string>{"media.db"});
  const std::string output = dir.Subdir("out") + "/new.db";
  const Migrated m = MigrateOk(Options(legacy, output));
  auto old_db = OpenImmutable(legacy);
  Db new_db(output);

  // The tables and their rows.
  std::vector<std::string> copied;
  for (const auto& t : m.report.copied_tables) copied.push_back(t.table + " " + std::to_string(t.rows));
  std::sort(copied.begin(), copied.end());
  EXPECT_EQ(copied, (std::vector<std::string>{"database_metadata 2", "user_notes 3"}));
  for (const char* table : {"user_notes", "database_metadata"}) {
    const std::string sql = std::string("SELECT * FROM ") + table + " ORDER BY 1";
    EXPECT_TRUE(SameRows(old_db->Strings(sql), new_db.Strings(sql))) << table;
  }
  // Their indexes, views and triggers, with the legacy SQL.
  const std::string objects =
      "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name IN "
      "('user_notes', 'user_notes_media', 'audio_files', 'noted', 'user_notes_stamp', 'database_metadata') "
      "ORDER BY name";
  EXPECT_TRUE(SameRows(old_db->Strings(objects), new_db.Strings(objects)));
  EXPECT_EQ(new_db.Strings(objects).size(), 6u);
  // The views work over the virtual tables.
  for (const char* view : {"audio_files", "noted"}) {
    const std::string sql = std::string("SELECT * FROM ") + view + " ORDER BY id";
    const std::vector<std::string> want = old_db->Strings(sql);
    EXPECT_FALSE(want.empty()) << view;
    EXPECT_TRUE(SameRows(want, new_db.Strings(sql))) << view;
  }
  // The trigger on user_notes works, and its AUTOINCREMENT continues.
  ASSERT_TRUE(new_db.Run("INSERT INTO user_notes(media_id, note) VALUES (9, 'new')").ok());
  EXPECT_EQ(new_db.Strings("SELECT id, note FROM user_notes WHERE media_id = 9"),
            std::vector<std::string>{"5|'new!'"});

  // The legacy indexes and triggers of the three tables: listed as dropped,
  // absent from NEW.db.
  std::vector<std::string> want_dropped;
  for (const Row& row : old_db->Rows("SELECT type || ' ' || name FROM sqlite_schema WHERE type IN ('index', 'trigger') "
                                     "AND tbl_name IN ('media_files', 'playlists', 'playlist_entries') "
                                     "AND sql IS NOT NULL")) {
    want_dropped.push_back(row[0].bytes);
  }
  std::vector<std::string> dropped = m.report.dropped_objects;
  std::sort(want_dropped.begin(), want_dropped.end());
  std::sort(dropped.begin(), dropped.end());
  EXPECT_EQ(dropped, want_dropped);
  EXPECT_GE(dropped.size(), 17u);  // 16 legacy indexes and the trigger
  EXPECT_TRUE(std::find(dropped.begin(), dropped.end(), "trigger media_files_gone") != dropped.end());
  EXPECT_EQ(new_db.Int("SELECT count(*) FROM sqlite_schema WHERE tbl_name IN ('media_files', 'playlists', "
                       "'playlist_entries') AND type IN ('index', 'trigger')"),
            0);

  // What was migrated, recorded.
  std::map<std::string, std::string> record;
  for (const Row& row : new_db.Rows("SELECT key, CAST(value AS TEXT) FROM zcmedia_migration")) {
    record[row[0].bytes] = row[1].bytes;
  }
  EXPECT_EQ(record["legacy_path"], legacy);
  EXPECT_EQ(record["legacy_shape"], "D");
  EXPECT_EQ(record["legacy_schema_version"], "2");
  EXPECT_EQ(record["media_files"], std::to_string(m.report.media_files));
  EXPECT_EQ(record["playlists"], std::to_string(m.report.playlists));
  EXPECT_EQ(record["playlist_entries"], std::to_string(m.report.playlist_entries));
  EXPECT_EQ(record["set_aside"], "0");
  EXPECT_NEAR(std::stoll(record["migrated_at"]), static_cast<long long>(std::time(nullptr)), 120);
  EXPECT_EQ(record.size(), 8u);
}

TEST(TablesTest, DryRunWritesNothingAndReportsTheCounts) {
  TempDir dir;
  const std::string legacy = dir.Subdir("legacy") + "/media.db";
  GenerateSpec spec;
  spec.shape = LegacyShape::kCThenD;
  spec.rows = 2000;
  Generate(legacy, spec);
  const auto before = Snapshot(dir.File("legacy"));
  const std::string out = dir.Subdir("out");
  for (const std::string& output : {out + "/new.db", std::string()}) {
    migrate::MigrateOptions options = Options(legacy, output);
    options.dry_run = true;
    const Migrated m = MigrateOk(options);
    auto old_db = OpenImmutable(legacy);
    EXPECT_EQ(m.report.shape, "C+D");
    EXPECT_EQ(m.report.media_files, static_cast<uint64_t>(old_db->Int("SELECT count(*) FROM media_files")));
    EXPECT_EQ(m.report.playlists, static_cast<uint64_t>(old_db->Int("SELECT count(*) FROM playlists")));
    EXPECT_EQ(m.report.playlist_entries, static_cast<uint64_t>(old_db->Int("SELECT count(*) FROM playlist_entries")));
    EXPECT_EQ(m.report.canonical_filled,
              static_cast<uint64_t>(old_db->Int("SELECT count(*) FROM media_files WHERE canonical_path IS NULL")));
    EXPECT_GT(m.report.canonical_filled, 0u);
    EXPECT_EQ(ListDir(out), std::vector<std::string>{}) << "output " << output;
    EXPECT_TRUE(SameSnapshot(before, Snapshot(dir.File("legacy"))));
  }
}

}  // namespace
}  // namespace zcmedia::migratetest
