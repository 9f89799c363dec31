// The legacy file is only read: a quiescent file (WAL in its header, or a
// rollback journal) stays byte-identical and gets no sidecar; with a live
// -wal held by another connection, the rows in the -wal are migrated and
// neither the database file nor the -wal changes.
#include <gtest/gtest.h>

#include <filesystem>

#include "migrate_test_util.h"

namespace zcmedia::migratetest {
namespace {

using migrate::kExitOk;
using migrate::Migrate;
using migrate::MigrateReport;
using migrate::MigrateResult;

class QuiescentTest : public ::testing::TestWithParam<const char*> {};

TEST_P(QuiescentTest, ByteIdenticalAndNoSidecar) {
  TempDir dir;
  const std::string legacy = dir.Subdir("legacy") + "/media.db";
  GenerateSpec spec;
  spec.rows = 2000;
  Generate(legacy, spec);
  {
    Db db(legacy);
    EXPECT_EQ(db.Text(std::string("PRAGMA journal_mode = ") + GetParam()), GetParam());
  }
  ASSERT_EQ(ListDir(dir.File("legacy")), std::vector<std::string>{"media.db"});
  const auto before = Snapshot(dir.File("legacy"));
  MigrateReport report;
  const MigrateResult result = Migrate(Options(legacy, dir.Subdir("out") + "/new.db"), &report);
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  EXPECT_EQ(result.exit_code, kExitOk);
  EXPECT_TRUE(report.verified);
  EXPECT_EQ(ListDir(dir.File("legacy")), std::vector<std::string>{"media.db"});
  EXPECT_TRUE(SameSnapshot(before, Snapshot(dir.File("legacy"))));
}

INSTANTIATE_TEST_SUITE_P(JournalModes, QuiescentTest, ::testing::Values("wal", "delete"));

TEST(LiveWalTest, RowsInTheWalAreMigratedAndNothingChanges) {
  TempDir dir;
  const std::string legacy = dir.Subdir("legacy") + "/media.db";
  GenerateSpec spec;
  spec.rows = 2000;
  Generate(legacy, spec);
  const std::string db_file_before = ReadBytes(legacy);

  // The legacy server: a connection that keeps the -wal (no checkpoint),
  // with committed changes that are only in the -wal.
  Db server(legacy);
  EXPECT_EQ(server.Text("PRAGMA journal_mode"), "wal");
  server.Exec("PRAGMA wal_autocheckpoint = 0");
  server.Exec(
      "BEGIN;"
      "WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 300) "
      "INSERT INTO media_files(path, parent_path, canonical_path, canonical_parent_path, filename, size, modified, "
      "  mime_type, title, created_at, updated_at) "
      "SELECT '/media/wal/' || value || '.mp3', '/media/wal', '/media/wal/' || value || '.mp3', '/media/wal', "
      "  value || '.mp3', value, 1700000000, 'audio/mpeg', 'wal ' || value, 1700000001, 1700000002 "
      "FROM n;"
      "UPDATE media_files SET title = 'changed in the wal' WHERE id = 10;"
      "DELETE FROM media_files WHERE id = 20;"
      "INSERT INTO playlists(name, created_at, updated_at) VALUES ('From the WAL', 5, 6);"
      "INSERT INTO playlist_entries(playlist_id, media_file_id, position, created_at) "
      "  SELECT last_insert_rowid(), max(id), 0, 7 FROM media_files;"
      "COMMIT;");
  ASSERT_TRUE(Exists(legacy + "-wal"));
  ASSERT_GT(ReadBytes(legacy + "-wal").size(), 0u);
  ASSERT_EQ(ReadBytes(legacy), db_file_before) << "the changes went into the database file";
  const int64_t rows = server.Int("SELECT count(*) FROM media_files");
  EXPECT_EQ(rows, OpenImmutable(legacy)->Int("SELECT count(*) FROM media_files") + 300 - 1);
  const std::string wal_before = ReadBytes(legacy + "-wal");

  MigrateReport report;
  const std::string output = dir.Subdir("out") + "/new.db";
  const MigrateResult result = Migrate(Options(legacy, output), &report);
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  EXPECT_EQ(result.exit_code, kExitOk);
  // Compared while the server's connection is still open (its close checkpoints).
  EXPECT_TRUE(ReadBytes(legacy) == db_file_before) << "the database file changed";
  EXPECT_TRUE(ReadBytes(legacy + "-wal") == wal_before) << "the -wal changed";

  EXPECT_EQ(report.media_files, static_cast<uint64_t>(rows));
  EXPECT_EQ(report.playlists, static_cast<uint64_t>(server.Int("SELECT count(*) FROM playlists")));
  EXPECT_EQ(report.playlist_entries, static_cast<uint64_t>(server.Int("SELECT count(*) FROM playlist_entries")));
  Db new_db(output);
  for (const char* table : {"media_files", "playlists", "playlist_entries"}) {
    const std::string sql = std::string("SELECT * FROM ") + table + " ORDER BY id";
    EXPECT_TRUE(SameRows(server.Strings(sql), new_db.Strings(sql))) << table;
  }
  EXPECT_EQ(new_db.Int("SELECT count(*) FROM media_files WHERE path LIKE '/media/wal/%'"), 300);
  EXPECT_EQ(new_db.Text("SELECT title FROM media_files WHERE id = 10"), "changed in the wal");
  EXPECT_EQ(new_db.Int("SELECT count(*) FROM media_files WHERE id = 20"), 0);
}

TEST(LiveWalTest, WalLeftByAServerThatDied) {
  // The files of a server killed with changes in its -wal: the -wal and
  // -shm are there, no process has the database open.
  TempDir dir;
  const std::string running = dir.Subdir("running") + "/media.db";
  const std::string legacy = dir.Subdir("legacy") + "/media.db";
  GenerateSpec spec;
  spec.rows = 1000;
  Generate(running, spec);
  std::vector<std::string> want;
  {
    Db server(running);
    server.Exec("PRAGMA wal_autocheckpoint = 0");
    server.Exec("UPDATE media_files SET title = 'only in the wal' WHERE id % 7 = 0");
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::copy_file(running + suffix, legacy + suffix);
    }
    want = server.Strings("SELECT * FROM media_files ORDER BY id");
  }
  const std::string db_before = ReadBytes(legacy), wal_before = ReadBytes(legacy + "-wal");
  MigrateReport report;
  const std::string output = dir.Subdir("out") + "/new.db";
  const MigrateResult result = Migrate(Options(legacy, output), &report);
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  EXPECT_TRUE(ReadBytes(legacy) == db_before) << "the database file changed";
  EXPECT_TRUE(ReadBytes(legacy + "-wal") == wal_before) << "the -wal changed";
  EXPECT_EQ(ListDir(dir.File("legacy")), (std::vector<std::string>{"media.db", "media.db-shm", "media.db-wal"}));
  Db new_db(output);
  EXPECT_TRUE(SameRows(want, new_db.Strings("SELECT * FROM media_files ORDER BY id")));
  EXPECT_GT(new_db.Int("SELECT count(*) FROM media_files WHERE title = 'only in the wal'"), 100);
}

}  // namespace
}  // namespace zcmedia::migratetest
