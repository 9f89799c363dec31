// Migrations that must fail: bad legacy files, output problems, rows that
// break the legacy constraints. Each with its exit code and a message naming
// the file; in every case the legacy directory is byte-identical afterwards
// and nothing is left in the output directory (no NEW.db, store, staging
// directory, marker or lock). And --set-aside, which migrates the rest.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "migrate_test_util.h"

namespace zcmedia::migratetest {
namespace {

using migrate::kExitBadInput;
using migrate::kExitInvalidRows;
using migrate::kExitOk;
using migrate::kExitOutput;
using migrate::Migrate;
using migrate::MigrateOptions;
using migrate::MigrateReport;
using migrate::MigrateResult;

class RefusalTest : public ::testing::Test {
 protected:
  static constexpr int kAnyFailure = -1;
  std::string legacy() const { return legacy_dir_ + "/media.db"; }
  std::string output() const { return out_dir_ + "/new.db"; }

  // Runs the migration: it must fail with `exit_code` and a message holding
  // `names` and every one of `parts`, leave the legacy directory as it was
  // and the output directory as it was.
  MigrateResult ExpectRefused(const MigrateOptions& options, int exit_code, const std::string& names,
                              const std::vector<std::string>& parts = {}, MigrateReport* report_out = nullptr) {
    const auto legacy_before = Snapshot(legacy_dir_);
    const auto out_before = Snapshot(out_dir_);
    MigrateReport report;
    const MigrateResult result = Migrate(options, &report);
    EXPECT_FALSE(result.status.ok());
    if (exit_code == kAnyFailure) {
      EXPECT_NE(result.exit_code, kExitOk) << result.status.ToString();
    } else {
      EXPECT_EQ(result.exit_code, exit_code) << result.status.ToString();
    }
    EXPECT_TRUE(Contains(result.status.message(), names));
    for (const std::string& part : parts) EXPECT_TRUE(Contains(result.status.message(), part));
    EXPECT_TRUE(SameSnapshot(legacy_before, Snapshot(legacy_dir_))) << "in " << legacy_dir_;
    EXPECT_TRUE(SameSnapshot(out_before, Snapshot(out_dir_))) << "in " << out_dir_;
    if (report_out != nullptr) *report_out = report;
    return result;
  }
  MigrateResult ExpectRefused(int exit_code, const std::string& names, const std::vector<std::string>& parts = {}) {
    return ExpectRefused(Options(legacy(), output()), exit_code, names, parts);
  }

  TempDir dir_;
  const std::string legacy_dir_ = dir_.Subdir("legacy");
  const std::string out_dir_ = dir_.Subdir("out");
};

// Writes `bytes` at `offset` of `path`.
void Overwrite(const std::string& path, int64_t offset, const std::string& bytes) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(offset);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(file.good()) << path;
}

// Breaks a leaf page in the middle of media_files' b-tree: its cell pointer
// array (the bytes after the 8-byte page header) overwritten with 0xff, so
// every cell points outside the page.
void CorruptMediaFilesLeaf(const std::string& path) {
  int64_t root = 0, page_size = 0;
  {
    auto db = OpenImmutable(path);
    root = db->Int("SELECT rootpage FROM sqlite_schema WHERE name = 'media_files'");
    page_size = db->Int("PRAGMA page_size");
  }
  const std::string bytes = ReadBytes(path);
  auto byte = [&](int64_t offset) { return static_cast<unsigned char>(bytes.at(static_cast<size_t>(offset))); };
  int64_t page = root;
  int depth = 0;
  while (byte((page - 1) * page_size) == 0x05) {  // interior table page: its middle child
    const int64_t base = (page - 1) * page_size;
    const int cells = (byte(base + 3) << 8) | byte(base + 4);
    const int64_t pointer = base + 12 + 2 * (cells / 2);
    const int64_t cell = base + ((byte(pointer) << 8) | byte(pointer + 1));
    page = (int64_t{byte(cell)} << 24) | (byte(cell + 1) << 16) | (byte(cell + 2) << 8) | byte(cell + 3);
    ++depth;
  }
  ASSERT_EQ(byte((page - 1) * page_size), 0x0D) << "page " << page << " is no table leaf";
  ASSERT_GE(depth, 1) << "media_files has a single page";
  Overwrite(path, (page - 1) * page_size + 8, std::string(32, '\xff'));
}

// --- Bad legacy files (kExitBadInput) -----------------------------------

TEST_F(RefusalTest, MissingLegacyFile) {
  ExpectRefused(kExitBadInput, legacy(), {"does not exist"});
}

TEST_F(RefusalTest, TextFileIsNotSqlite) {
  std::ofstream(legacy()) << std::string(200, 'x') << "\nthis is a text file, not a database\n";
  ExpectRefused(kExitBadInput, legacy(), {"not a SQLite database"});
}

TEST_F(RefusalTest, EmptyFileHasNoMediaFiles) {
  std::ofstream(legacy()).flush();
  ExpectRefused(kExitBadInput, legacy(), {"no media_files table"});
}

TEST_F(RefusalTest, SqliteFileWithoutMediaFiles) {
  {
    Db db(legacy());
    db.Exec("CREATE TABLE music(id INTEGER PRIMARY KEY, path TEXT); INSERT INTO music VALUES (1, '/a.mp3')");
  }
  ExpectRefused(kExitBadInput, legacy(), {"no media_files table"});
}

TEST_F(RefusalTest, UnknownShapeNamesTheLackingColumns) {
  {
    // Shape C's music columns in part: genre and track_number, not year and album_artist.
    Db db(legacy());
    db.Exec(
        "CREATE TABLE media_files (id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT UNIQUE NOT NULL, "
        "parent_path TEXT NOT NULL, filename TEXT NOT NULL, size INTEGER NOT NULL, modified INTEGER NOT NULL, "
        "mime_type TEXT NOT NULL, duration INTEGER, title TEXT, artist TEXT, album TEXT, genre TEXT, "
        "track_number INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
        "INSERT INTO media_files VALUES (1, '/m/a.mp3', '/m', 'a.mp3', 1, 2, 'audio/mpeg', 3, 't', 'a', 'b', 'g', 1, "
        "4, 5)");
  }
  ExpectRefused(kExitBadInput, legacy(), {"not a known legacy shape", "year", "album_artist"});
}

TEST_F(RefusalTest, UnknownShapeCanonicalColumnsWithoutParentPath) {
  {
    Db db(legacy());
    db.Exec(
        "CREATE TABLE media_files (id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT UNIQUE NOT NULL, "
        "filename TEXT NOT NULL, size INTEGER NOT NULL, modified INTEGER NOT NULL, mime_type TEXT NOT NULL, "
        "duration INTEGER, title TEXT, artist TEXT, album TEXT, created_at INTEGER NOT NULL, "
        "updated_at INTEGER NOT NULL, canonical_path TEXT, canonical_parent_path TEXT)");
  }
  ExpectRefused(kExitBadInput, legacy(), {"not a known legacy shape", "parent_path"});
}

TEST_F(RefusalTest, ExtraUnknownColumn) {
  GenerateSpec spec;
  spec.rows = 200;
  Generate(legacy(), spec);
  {
    Db db(legacy());
    db.Exec("ALTER TABLE media_files ADD COLUMN rating INTEGER; UPDATE media_files SET rating = 5 WHERE id < 10");
  }
  ExpectRefused(kExitBadInput, legacy(), {"rating"});
}

TEST_F(RefusalTest, CorruptBtreePage) {
  GenerateSpec spec;
  spec.rows = 3000;
  Generate(legacy(), spec);
  CorruptMediaFilesLeaf(legacy());
  // quick_check's verdict, although the damaged page also reads as rows
  // with NULL paths (which must not turn it into exit 4, invalid rows).
  ExpectRefused(kExitBadInput, legacy(), {"fails PRAGMA quick_check", "Offset 65535 out of range"});
  // Without quick_check SQLite reads the page without complaint; the rows it
  // makes up are refused all the same.
  MigrateOptions options = Options(legacy(), output());
  options.quick_check = false;
  ExpectRefused(options, kAnyFailure, legacy(), {});
}

TEST_F(RefusalTest, TruncatedFile) {
  GenerateSpec spec;
  spec.rows = 3000;
  Generate(legacy(), spec);
  const auto size = std::filesystem::file_size(legacy());
  std::filesystem::resize_file(legacy(), size / 2);
  ExpectRefused(kExitBadInput, legacy(), {});
  MigrateOptions options = Options(legacy(), output());
  options.quick_check = false;
  options.verify = false;
  ExpectRefused(options, kExitBadInput, legacy(), {});
}

TEST_F(RefusalTest, LockedByAWriter) {
  // The legacy server with a rollback journal, in the middle of a write.
  GenerateSpec spec;
  spec.rows = 2000;
  Generate(legacy(), spec);
  {
    Db db(legacy());
    ASSERT_EQ(db.Text("PRAGMA journal_mode = DELETE"), "delete");
  }
  Db server(legacy());
  server.Exec("BEGIN EXCLUSIVE; UPDATE media_files SET title = 'being written' WHERE id < 500");
  ASSERT_TRUE(Exists(legacy() + "-journal"));
  ExpectRefused(kExitBadInput, legacy(), {"locked"});
  server.Exec("ROLLBACK");
}

TEST_F(RefusalTest, HotJournalOfAnInterruptedWrite) {
  // A copy of the file and its journal taken in the middle of a write that
  // spilled pages into the database file: the journal is hot.
  GenerateSpec spec;
  spec.rows = 2000;
  const std::string writing = dir_.Subdir("writing") + "/media.db";
  Generate(writing, spec);
  {
    Db server(writing);
    ASSERT_EQ(server.Text("PRAGMA journal_mode = DELETE"), "delete");
    server.Exec("PRAGMA cache_size = 10; BEGIN EXCLUSIVE; UPDATE media_files SET title = 'half written ' || id");
    std::filesystem::copy_file(writing, legacy());
    std::filesystem::copy_file(writing + "-journal", legacy() + "-journal");
    server.Exec("ROLLBACK");
  }
  ExpectRefused(kExitBadInput, legacy(), {"hot journal"});
}

// --- Output problems (kExitOutput) --------------------------------------

TEST_F(RefusalTest, MissingOutputDirectory) {
  GenerateSpec spec;
  spec.rows = 200;
  Generate(legacy(), spec);
  ExpectRefused(Options(legacy(), out_dir_ + "/missing/new.db"), kExitOutput, out_dir_ + "/missing",
                {"does not exist"});
}

TEST_F(RefusalTest, ReadOnlyOutputDirectory) {
  GenerateSpec spec;
  spec.rows = 200;
  Generate(legacy(), spec);
  const std::string read_only = dir_.Subdir("out/read-only");
  ASSERT_EQ(::chmod(read_only.c_str(), 0555), 0);
  if (::geteuid() != 0) {
    ExpectRefused(Options(legacy(), read_only + "/new.db"), kExitOutput, read_only, {"not writable"});
    EXPECT_EQ(ListDir(read_only), std::vector<std::string>{});
    return;
  }
  // Permissions do not bite root: the migration runs in a child process
  // that becomes nobody (the files it must read made readable).
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(legacy().c_str(), 0644), 0);
  const auto legacy_before = Snapshot(legacy_dir_);
  const auto out_before = Snapshot(out_dir_);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(100);
    MigrateReport report;
    const MigrateResult result = Migrate(Options(legacy(), read_only + "/new.db"), &report);
    const std::string& message = result.status.message();
    if (::write(fds[1], message.data(), message.size()) < 0) ::_exit(101);
    ::_exit(result.exit_code);
  }
  ::close(fds[1]);
  std::string message;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) message.append(buffer, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died: " << status;
  if (WEXITSTATUS(status) == 100) GTEST_SKIP() << "cannot become nobody (65534)";
  EXPECT_EQ(WEXITSTATUS(status), kExitOutput) << message;
  EXPECT_TRUE(Contains(message, read_only));
  EXPECT_TRUE(Contains(message, "not writable"));
  EXPECT_TRUE(SameSnapshot(legacy_before, Snapshot(legacy_dir_)));
  EXPECT_TRUE(SameSnapshot(out_before, Snapshot(out_dir_)));
}

TEST_F(RefusalTest, ExistingOutputNeedsForce) {
  GenerateSpec spec;
  spec.rows = 300;
  Generate(legacy(), spec);
  MigrateReport first;
  ASSERT_TRUE(Migrate(Options(legacy(), output()), &first).status.ok());
  // Another legacy file, into the same output.
  const std::string other = legacy_dir_ + "/other.db";
  spec.rows = 700;
  spec.seed = 99;
  Generate(other, spec);
  ExpectRefused(Options(other, output()), kExitOutput, output(), {"already exists"});
  EXPECT_EQ(Db(output()).Int("SELECT count(*) FROM media_files"), static_cast<int64_t>(first.media_files));

  MigrateOptions options = Options(other, output());
  options.force = true;
  MigrateReport report;
  const MigrateResult result = Migrate(options, &report);
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  EXPECT_EQ(result.exit_code, kExitOk);
  EXPECT_EQ(ListDir(out_dir_), (std::vector<std::string>{"new.db", "new.zcmedia"}));
  Db new_db(output());
  EXPECT_TRUE(SameRows(OpenImmutable(other)->Strings("SELECT * FROM media_files ORDER BY id"),
                       new_db.Strings("SELECT * FROM media_files ORDER BY id")));
  EXPECT_EQ(new_db.Text("SELECT value FROM zcmedia_migration WHERE key = 'legacy_path'"), other);
}

TEST_F(RefusalTest, AnotherMigrationToTheSameOutputIsLeftAlone) {
  GenerateSpec spec;
  spec.rows = 200;
  Generate(legacy(), spec);
  // A migration in progress: it holds the lock and has a staging directory.
  const std::string lock = out_dir_ + "/.new.db.migrate-lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  dir_.Subdir("out/.new.db.migrating/new.zcmedia");
  std::ofstream(out_dir_ + "/.new.db.migrating/new.db") << "being written";
  ExpectRefused(kExitOutput, output(), {"another migration"});
  EXPECT_TRUE(Exists(lock));
  EXPECT_EQ(ReadBytes(out_dir_ + "/.new.db.migrating/new.db"), "being written");
  ::close(fd);
}

// --- Rows that break the legacy constraints (kExitInvalidRows) -----------

GenerateSpec InvalidRowsSpec() {
  GenerateSpec spec;
  spec.rows = 1000;
  spec.id_gaps = false;  // ids 1..1000
  return spec;
}

TEST_F(RefusalTest, DuplicatePath) {
  GenerateUnconstrained(legacy(), InvalidRowsSpec());
  {
    Db db(legacy());
    db.Exec("CREATE TEMP TABLE t AS SELECT * FROM media_files WHERE id = 10; UPDATE t SET id = 100000;"
            "INSERT INTO media_files SELECT * FROM t");
  }
  ExpectRefused(kExitInvalidRows, legacy(), {"100000", "same path as 10"});
}

TEST_F(RefusalTest, NullInNotNullColumn) {
  GenerateUnconstrained(legacy(), InvalidRowsSpec());
  Db(legacy()).Exec("UPDATE media_files SET mime_type = NULL WHERE id = 20");
  ExpectRefused(kExitInvalidRows, legacy(), {"media_files id 20", "mime_type is NULL"});
}

TEST_F(RefusalTest, TextInIntegerColumn) {
  GenerateUnconstrained(legacy(), InvalidRowsSpec());
  Db(legacy()).Exec("UPDATE media_files SET size = 'abc' WHERE id = 30");
  ExpectRefused(kExitInvalidRows, legacy(), {"media_files id 30", "size holds TEXT 'abc'"});
}

TEST_F(RefusalTest, PlaylistEntryNamingAMissingMediaFile) {
  // The legacy schema with its foreign keys, written with foreign_keys off.
  GenerateSpec spec = InvalidRowsSpec();
  Generate(legacy(), spec);
  {
    Db db(legacy());
    ASSERT_EQ(db.Int("PRAGMA foreign_keys"), 0);
    db.Exec("INSERT INTO playlist_entries(id, playlist_id, media_file_id, position, created_at) "
            "VALUES (5000, 1, 999999, 999, 1)");
  }
  ExpectRefused(kExitInvalidRows, legacy(), {"playlist_entries id 5000", "999999", "names no media file"});
}

TEST_F(RefusalTest, SetAsideKeepsTheInvalidRowsUnchangedAndMigratesTheRest) {
  GenerateUnconstrained(legacy(), InvalidRowsSpec());
  {
    Db db(legacy());
    ASSERT_GE(db.Int("SELECT count(*) FROM playlists"), 1);
    db.Exec(R"sql(
      CREATE TEMP TABLE t AS SELECT * FROM media_files WHERE id = 10; UPDATE t SET id = 100000;
      INSERT INTO media_files SELECT * FROM t;
      UPDATE media_files SET mime_type = NULL WHERE id = 20;
      UPDATE media_files SET size = 'abc' WHERE id = 30;
      UPDATE media_files SET track_number = 2.5 WHERE id = 40;
      INSERT INTO playlists VALUES (77, NULL, 'no name', 1, 2);
      INSERT INTO playlist_entries VALUES (90001, 1, 999999, 999, 1);
      INSERT INTO playlist_entries VALUES (90002, 888, 1, 0, 1);
      INSERT INTO playlist_entries VALUES (90003, 77, 1, 0, 1);
      INSERT INTO playlist_entries VALUES (90004, 1, 20, 1000, 1);
    )sql");
  }
  const auto legacy_before = Snapshot(legacy_dir_);
  // Without --set-aside: refused (the duplicate path named first: the
  // store's UNIQUE check stops the load).
  ExpectRefused(kExitInvalidRows, legacy(), {"100000 (same path as 10)"});

  const std::string bad_media = "(20, 30, 40, 100000)";
  std::string bad_entries = "(90001, 90002, 90003, 90004";
  std::vector<std::pair<std::string, std::string>> want_reasons = {
      {"media_files 20", "mime_type is NULL"},
      {"media_files 30", "size holds TEXT 'abc'"},
      {"media_files 40", "track_number holds REAL '2.5'"},
      {"media_files 100000", "duplicate path (id 10"},
      {"playlists 77", "name is NULL"},
      {"playlist_entries 90001", "media_file_id 999999 names no media file"},
      {"playlist_entries 90002", "playlist_id 888 names no playlist"},
      {"playlist_entries 90003", "its playlist 77 was set aside"},
      {"playlist_entries 90004", "its media file 20 was set aside"},
  };
  // The generated entries of the files set aside go with them.
  for (const Row& row : OpenImmutable(legacy())->Rows("SELECT id, media_file_id FROM playlist_entries WHERE "
                                                      "media_file_id IN " + bad_media + " AND id < 90000")) {
    want_reasons.push_back({"playlist_entries " + row[0].bytes, "its media file " + row[1].bytes + " was set aside"});
    bad_entries += ", " + row[0].bytes;
  }
  bad_entries += ")";
  // A dry run lists them and writes nothing.
  {
    MigrateOptions options = Options(legacy(), output());
    options.set_aside = true;
    options.dry_run = true;
    MigrateReport report;
    const MigrateResult result = Migrate(options, &report);
    ASSERT_TRUE(result.status.ok()) << result.status.ToString();
    EXPECT_EQ(report.rejected_total, want_reasons.size());
    EXPECT_EQ(ListDir(out_dir_), std::vector<std::string>{});
  }

  MigrateOptions options = Options(legacy(), output());
  options.set_aside = true;
  MigrateReport report;
  const MigrateResult result = Migrate(options, &report);
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  EXPECT_EQ(result.exit_code, kExitOk);
  EXPECT_TRUE(report.verified);
  EXPECT_TRUE(SameSnapshot(legacy_before, Snapshot(legacy_dir_)));
  EXPECT_EQ(ListDir(out_dir_), (std::vector<std::string>{"new.db", "new.zcmedia"}));
  EXPECT_EQ(report.rejected_total, want_reasons.size());
  std::vector<std::string> rejected;
  for (const auto& r : report.rejected) rejected.push_back(r.table + " " + std::to_string(r.id));
  std::sort(rejected.begin(), rejected.end());
  std::vector<std::string> want_rejected;
  for (const auto& [row, reason] : want_reasons) want_rejected.push_back(row);
  std::sort(want_rejected.begin(), want_rejected.end());
  EXPECT_EQ(rejected, want_rejected);

  auto old_db = OpenImmutable(legacy());
  Db new_db(output());
  // The bad rows, unchanged (values and types), in zcmedia_set_aside_<table>.
  EXPECT_TRUE(SameRows(old_db->Strings("SELECT * FROM media_files WHERE id IN " + bad_media + " ORDER BY id"),
                       new_db.Strings("SELECT * FROM zcmedia_set_aside_media_files ORDER BY id")));
  EXPECT_TRUE(SameRows(old_db->Strings("SELECT * FROM playlists WHERE id = 77"),
                       new_db.Strings("SELECT * FROM zcmedia_set_aside_playlists ORDER BY id")));
  EXPECT_TRUE(SameRows(old_db->Strings("SELECT * FROM playlist_entries WHERE id IN " + bad_entries + " ORDER BY id"),
                       new_db.Strings("SELECT * FROM zcmedia_set_aside_playlist_entries ORDER BY id")));
  // Listed with their reasons.
  std::map<std::string, std::string> reasons;
  for (const Row& row : new_db.Rows("SELECT table_name || ' ' || id, reason FROM zcmedia_set_aside")) {
    reasons[row[0].bytes] = row[1].bytes;
  }
  EXPECT_EQ(reasons.size(), want_reasons.size());
  for (const auto& [row, reason] : want_reasons) EXPECT_TRUE(Contains(reasons[row], reason)) << row;
  EXPECT_EQ(new_db.Text("SELECT CAST(value AS TEXT) FROM zcmedia_migration WHERE key = 'set_aside'"),
            std::to_string(want_reasons.size()));
  // The rest, migrated.
  EXPECT_EQ(report.media_files, static_cast<uint64_t>(old_db->Int("SELECT count(*) FROM media_files")) - 4);
  EXPECT_TRUE(SameRows(old_db->Strings("SELECT * FROM media_files WHERE id NOT IN " + bad_media + " ORDER BY id"),
                       new_db.Strings("SELECT * FROM media_files ORDER BY id")));
  EXPECT_TRUE(SameRows(old_db->Strings("SELECT * FROM playlists WHERE id != 77 ORDER BY id"),
                       new_db.Strings("SELECT * FROM playlists ORDER BY id")));
  EXPECT_TRUE(SameRows(old_db->Strings("SELECT * FROM playlist_entries WHERE id NOT IN " + bad_entries + " ORDER BY id"),
                       new_db.Strings("SELECT * FROM playlist_entries ORDER BY id")));
  EXPECT_EQ(new_db.Text("SELECT path FROM media_files WHERE id = 10"),
            old_db->Text("SELECT path FROM media_files WHERE id = 100000"));
}

}  // namespace
}  // namespace zcmedia::migratetest
