// --in-place: the legacy file converted itself, after a verified backup;
// refused while another process has it open, or when the backup exists.
#include <gtest/gtest.h>

#include "migrate_test_util.h"

namespace zcmedia::migratetest {
namespace {

using migrate::Migrate;
using migrate::MigrateReport;
using migrate::MigrateResult;

constexpr const char* kAllMedia = "SELECT * FROM media_files ORDER BY id";
constexpr const char* kAllEntries = "SELECT * FROM playlist_entries ORDER BY id";

migrate::MigrateOptions InPlace(const std::string& legacy) {
  migrate::MigrateOptions options = Options(legacy, "");
  options.in_place = true;
  return options;
}

TEST(InPlaceTest, ReplacesTheLegacyFileAfterAVerifiedBackup) {
  TempDir dir;
  const std::string legacy = dir.File("media.db");
  GenerateSpec spec;
  spec.rows = 2000;
  Generate(legacy, spec);
  std::vector<std::string> media, entries;
  {
    auto before = OpenImmutable(legacy);
    media = before->Strings(kAllMedia);
    entries = before->Strings(kAllEntries);
  }
  const std::string original = ReadBytes(legacy);

  MigrateReport report;
  MigrateResult result = Migrate(InPlace(legacy), &report);
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  EXPECT_TRUE(report.verified);
  EXPECT_EQ(report.backup_path, legacy + ".bak");

  // The backup is the legacy file's content (a page copy: same rows).
  auto backup = OpenImmutable(legacy + ".bak");
  EXPECT_TRUE(SameRows(media, backup->Strings(kAllMedia)));
  EXPECT_EQ(backup->Text("PRAGMA quick_check"), "ok");

  // media.db is now the zcmedia file, its store beside it, the same rows.
  Db migrated(legacy);
  EXPECT_TRUE(Contains(migrated.Text("SELECT sql FROM sqlite_schema WHERE name = 'media_files'"),
                       "USING zcmedia(store='media.zcmedia')"));
  EXPECT_TRUE(SameRows(media, migrated.Strings(kAllMedia)));
  EXPECT_TRUE(SameRows(entries, migrated.Strings(kAllEntries)));
  EXPECT_TRUE(Exists(dir.File("media.zcmedia")));
  EXPECT_NE(ReadBytes(legacy), original);
  for (const char* sidecar : {"-wal", "-shm", "-journal"}) {
    EXPECT_FALSE(Exists(legacy + sidecar)) << sidecar;
  }
  EXPECT_FALSE(Exists(dir.File(".media.db.migrating")));
  EXPECT_FALSE(Exists(dir.File(".media.db.replacing")));
}

TEST(InPlaceTest, RefusedWhileAnotherConnectionHasTheFileOpen) {
  TempDir dir;
  const std::string legacy = dir.File("media.db");
  Generate(legacy, GenerateSpec());
  Db server(legacy);  // the legacy server, running: WAL mode, file open
  server.Exec("PRAGMA journal_mode=WAL");
  ASSERT_EQ(server.Int("SELECT count(*) FROM media_files") > 0, true);
  const auto before = Snapshot(dir.path());

  MigrateReport report;
  MigrateResult result = Migrate(InPlace(legacy), &report);
  EXPECT_EQ(result.exit_code, migrate::kExitBadInput) << result.status.ToString();
  EXPECT_TRUE(Contains(result.status.message(), "in use by another process"));
  EXPECT_TRUE(SameSnapshot(before, Snapshot(dir.path())));
  // The server keeps working on its file.
  server.Exec("UPDATE media_files SET size = size + 1 WHERE id = (SELECT min(id) FROM media_files)");
}

TEST(InPlaceTest, AnExistingBackupIsKeptUnlessForced) {
  TempDir dir;
  const std::string legacy = dir.File("media.db");
  Generate(legacy, GenerateSpec());
  {
    Db old_backup(legacy + ".bak");
    old_backup.Exec("CREATE TABLE keep(x)");
  }
  const auto before = Snapshot(dir.path());
  MigrateReport report;
  MigrateResult result = Migrate(InPlace(legacy), &report);
  EXPECT_EQ(result.exit_code, migrate::kExitOutput) << result.status.ToString();
  EXPECT_TRUE(Contains(result.status.message(), "already exists"));
  EXPECT_TRUE(SameSnapshot(before, Snapshot(dir.path())));

  migrate::MigrateOptions forced = InPlace(legacy);
  forced.force = true;
  result = Migrate(forced, &report);
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  auto backup = OpenImmutable(legacy + ".bak");
  EXPECT_EQ(backup->Int("SELECT count(*) FROM sqlite_schema WHERE name = 'keep'"), 0);
  EXPECT_GT(backup->Int("SELECT count(*) FROM media_files"), 0);
}

TEST(InPlaceTest, ASecondPathMustBeTheSameFile) {
  TempDir dir;
  const std::string legacy = dir.File("media.db");
  Generate(legacy, GenerateSpec());
  migrate::MigrateOptions options = InPlace(legacy);
  options.output_path = dir.File("other.db");
  MigrateReport report;
  MigrateResult result = Migrate(options, &report);
  EXPECT_EQ(result.exit_code, migrate::kExitUsage) << result.status.ToString();
  EXPECT_FALSE(Exists(legacy + ".bak"));
}

}  // namespace
}  // namespace zcmedia::migratetest
