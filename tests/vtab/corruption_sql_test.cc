// Damaged store files seen through SQL: every query either answers or fails
// with an SQLite error naming the damage (SQLITE_CORRUPT and friends); the
// process never crashes (DEVELOPERS.md: corrupt files are reported).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "../store/test_util.h"
#include "sql_test_util.h"

namespace zcmedia::test {
namespace {

const char* const kQueries[] = {
    "SELECT * FROM media_files ORDER BY id",
    "SELECT * FROM media_files WHERE path = '/c/d3/f17.mp3'",
    "SELECT * FROM media_files WHERE id IN (3, 9, 40)",
    "SELECT * FROM media_files WHERE canonical_parent_path = '/c/d2' ORDER BY filename",
    "SELECT artist, count(*) FROM media_files WHERE mime_type LIKE 'audio/%' AND artist != '' GROUP BY artist",
    "SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND artist = 'a1'",
    "SELECT DISTINCT canonical_parent_path FROM media_files WHERE canonical_parent_path LIKE '/c/%'",
    "SELECT count(*) FROM media_files",
    "SELECT * FROM playlist_entries ORDER BY id",
};

void Build(const std::string& dir) {
  SqlDb db(dir + "/lib.db");
  db.Exec(VirtualSchema("store"));
  db.Exec("BEGIN");
  for (int i = 0; i < 200; ++i) {
    const std::string d = "/c/d" + std::to_string(i % 5), f = "f" + std::to_string(i) + ".mp3";
    db.Exec("INSERT INTO media_files(path, parent_path, canonical_path, canonical_parent_path, filename, size, modified, "
            "mime_type, artist, created_at, updated_at) VALUES ('" + d + "/" + f + "', '" + d + "', '" + d + "/" + f +
            "', '" + d + "', '" + f + "', 1, 1, 'audio/mpeg', 'a" + std::to_string(i % 7) + "', 1, 1)");
  }
  db.Exec("INSERT INTO playlists(name, created_at, updated_at) VALUES ('p', 1, 1)");
  db.Exec("INSERT INTO playlist_entries(playlist_id, media_file_id, position, created_at) VALUES (1, 5, 0, 1), (1, 6, 1, 1)");
  db.Exec("COMMIT");
}

void FlipByte(const std::string& file, uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

TEST(CorruptionSqlTest, FlippedBytesInEveryStoreFileGiveErrorsNotCrashes) {
  std::mt19937 rng(7);
  int errors = 0, queries = 0;
  for (int trial = 0; trial < 24; ++trial) {
    TempDir dir;
    Build(dir.path());
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/store"))
      if (e.path().filename() != "LOCK" && e.is_regular_file() && e.file_size() > 0) files.push_back(e.path());
    ASSERT_FALSE(files.empty());
    const std::filesystem::path victim = files[rng() % files.size()];
    const uint64_t size = std::filesystem::file_size(victim);
    // Within the bytes that matter: the META pages, a segment's written part.
    const uint64_t limit = std::min<uint64_t>(size, victim.filename() == "META" ? 8192 : 64 * 1024);
    for (int k = 0; k < 4; ++k) FlipByte(victim.string(), rng() % limit);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": damaged " + victim.filename().string());
    SqlDb db(dir.path() + "/lib.db");
    for (const char* sql : kQueries) {
      const SqlResult r = db.Run(sql);
      ++queries;
      if (!r.ok()) {
        ++errors;
        EXPECT_FALSE(r.error.empty()) << sql;
        EXPECT_NE(r.rc, SQLITE_OK);
      }
    }
  }
  // The damage was seen somewhere (a flip in an unread byte may go unseen).
  EXPECT_GT(errors, 0) << queries << " queries, no error";
}

}  // namespace
}  // namespace zcmedia::test
