// The legacy server's queries (shared notes "legacy-schema", "What the
// server does with it") on a generated shape-D file and on the NEW.db it was
// migrated to: the same SQL text, parameters picked from the data, the full
// result sets compared value for value (with their types). Where the legacy
// query's ORDER BY leaves ties, tie-breakers make the order total.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <random>

#include "migrate_test_util.h"

namespace zcmedia::migratetest {
namespace {

using migrate::Migrate;
using migrate::MigrateReport;
using migrate::MigrateResult;

class LegacyQueriesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    legacy_ = dir_->Subdir("legacy") + "/media.db";
    output_ = dir_->Subdir("out") + "/new.db";
    GenerateSpec spec;
    spec.rows = 5000;
    spec.playlists = 5;
    Generate(legacy_, spec);
    MigrateReport report;
    const MigrateResult result = Migrate(Options(legacy_, output_), &report);
    ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    old_db_ = OpenImmutable(legacy_);
    new_db_ = std::make_unique<Db>(output_);
  }

  // Runs `sql` on both files: both succeed with the same rows.
  void Check(const std::string& sql, const std::vector<Value>& params = {}) {
    const QueryResult want = old_db_->Run(sql, params);
    const QueryResult got = new_db_->Run(sql, params);
    std::string shown;
    for (size_t i = 0; i < params.size() && i < 5; ++i) shown += (i ? ", " : "") + params[i].ToString();
    ASSERT_TRUE(want.ok()) << sql << ": " << want.error;
    ASSERT_TRUE(got.ok()) << sql << " on NEW.db: " << got.error;
    EXPECT_EQ(want.columns, got.columns) << sql;
    std::vector<std::string> want_rows, got_rows;
    for (const Row& row : want.rows) want_rows.push_back(RowString(row));
    for (const Row& row : got.rows) got_rows.push_back(RowString(row));
    EXPECT_TRUE(SameRows(want_rows, got_rows)) << sql << "\nparameters: " << shown;
    ++checked_;
    non_empty_ += !want.rows.empty();
  }

  // The first column of `sql` on the legacy file, as parameters.
  std::vector<Value> Pick(const std::string& sql) {
    std::vector<Value> values;
    for (Row& row : old_db_->Rows(sql)) values.push_back(std::move(row[0]));
    EXPECT_FALSE(values.empty()) << sql;
    return values;
  }

  static TempDir* dir_;
  static std::string legacy_, output_;
  std::unique_ptr<Db> old_db_, new_db_;
  int checked_ = 0, non_empty_ = 0;
};

TempDir* LegacyQueriesTest::dir_ = nullptr;
std::string LegacyQueriesTest::legacy_, LegacyQueriesTest::output_;

TEST_F(LegacyQueriesTest, PointLookups) {
  std::vector<Value> paths = Pick("SELECT canonical_path FROM media_files WHERE id % 397 = 1 ORDER BY id");
  paths.push_back(Value::Text("/media/no/such/file.mp3"));
  paths.push_back(Value::Text(""));
  // Unix canonical paths are case-sensitive.
  std::string upper = paths[0].bytes;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  paths.push_back(Value::Text(upper));
  for (const Value& path : paths) Check("SELECT * FROM media_files WHERE canonical_path = ?", {path});
  std::vector<Value> ids = Pick("SELECT id FROM media_files WHERE id % 411 = 3");
  for (int64_t id : {int64_t{0}, int64_t{-1}, old_db_->Int("SELECT max(id) + 1 FROM media_files"),
                     old_db_->Int("SELECT min(id) + 1 FROM media_files WHERE id + 1 NOT IN (SELECT id FROM media_files)")}) {
    ids.push_back(Value::Int(id));  // absent: below 1, after the last, a hole
  }
  for (const Value& id : ids) Check("SELECT * FROM media_files WHERE id = ?", {id});
  EXPECT_GE(non_empty_, 20);
}

TEST_F(LegacyQueriesTest, CanonicalPathInList) {
  std::vector<Value> paths = Pick("SELECT canonical_path FROM media_files WHERE id % 10 = 0");
  paths.resize(std::min<size_t>(paths.size(), 480));
  for (int i = 0; i < 20; ++i) paths.push_back(Value::Text("/media/absent/" + std::to_string(i) + ".flac"));
  std::shuffle(paths.begin(), paths.end(), std::mt19937(7));
  std::string marks;
  for (size_t i = 0; i < paths.size(); ++i) marks += i ? ",?" : "?";
  Check("SELECT * FROM media_files WHERE canonical_path IN (" + marks + ") ORDER BY canonical_path", paths);
  Check("SELECT * FROM media_files WHERE canonical_path IN (" + marks.substr(0, 19) + ") ORDER BY canonical_path",
        paths);
  EXPECT_EQ(non_empty_, 2);
}

TEST_F(LegacyQueriesTest, DirectoryBrowsing) {
  // The fullest directories, a few others, one that does not exist.
  std::vector<Value> dirs = Pick(
      "SELECT canonical_parent_path FROM media_files GROUP BY canonical_parent_path ORDER BY count(*) DESC, "
      "canonical_parent_path LIMIT 5");
  for (Value& v : Pick("SELECT DISTINCT canonical_parent_path FROM media_files WHERE id % 301 = 7")) {
    dirs.push_back(std::move(v));
  }
  dirs.push_back(Value::Text("/media/none"));
  for (const Value& dir : Pick("SELECT DISTINCT canonical_parent_path FROM media_files WHERE mime_type LIKE 'video%' "
                               "ORDER BY canonical_parent_path LIMIT 5")) {
    dirs.push_back(dir);
  }
  for (const Value& dir : dirs) {
    Check("SELECT * FROM media_files WHERE canonical_parent_path = ? ORDER BY filename LIMIT 1000", {dir});
    Check("SELECT * FROM media_files WHERE canonical_parent_path = ? AND mime_type LIKE 'video%' "
          "ORDER BY filename LIMIT 1000",
          {dir});
    Check("SELECT count(*) FROM media_files WHERE canonical_parent_path = ?", {dir});
  }
  // Subdirectories below a directory: every ancestor level of some paths.
  std::vector<std::string> parents = {"/media", "/media/music", "/media/Movies", "/media/none"};
  for (const Value& dir : dirs) {
    const size_t slash = dir.bytes.rfind('/');
    if (slash != std::string::npos && slash > 0) parents.push_back(dir.bytes.substr(0, slash));
  }
  for (const std::string& parent : parents) {
    const std::vector<Value> params = {Value::Text(parent + "/%"), Value::Text(parent)};
    Check("SELECT DISTINCT canonical_parent_path, parent_path FROM media_files WHERE canonical_parent_path LIKE ? "
          "AND canonical_parent_path != ? ORDER BY canonical_parent_path, parent_path",
          params);
    Check("SELECT DISTINCT canonical_parent_path, parent_path FROM media_files WHERE canonical_parent_path LIKE ? "
          "AND canonical_parent_path != ? AND mime_type LIKE ? ORDER BY canonical_parent_path, parent_path",
          {params[0], params[1], Value::Text("audio%")});
  }
  // Prefix listings.
  for (const char* prefix : {"/media/music/A", "/media/Movies/The", "/media/", "/MEDIA/", "/media/music/%b"}) {
    Check("SELECT * FROM media_files WHERE canonical_path LIKE ? ORDER BY canonical_path",
          {Value::Text(prefix + std::string("%"))});
  }
  for (const Value& dir : dirs) {
    Check("SELECT * FROM media_files WHERE canonical_path LIKE ? ORDER BY canonical_path",
          {Value::Text(dir.bytes + "/%")});
  }
  EXPECT_GE(non_empty_, 40);
}

TEST_F(LegacyQueriesTest, FullScans) {
  Check("SELECT * FROM media_files ORDER BY filename, id");
  Check("SELECT * FROM media_files ORDER BY id");
  Check("SELECT id, path FROM media_files ORDER BY path");
  Check("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM media_files");
  Check("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM media_files WHERE mime_type LIKE 'video%'");
  Check("SELECT mime_type, COUNT(*), SUM(size), MIN(modified), MAX(duration) FROM media_files GROUP BY mime_type "
        "ORDER BY mime_type");
  EXPECT_EQ(non_empty_, 6);
}

TEST_F(LegacyQueriesTest, MusicCategories) {
  for (const char* column : {"artist", "album", "genre", "album_artist"}) {
    const std::string c = column;
    Check("SELECT " + c + ", COUNT(*) FROM media_files WHERE mime_type LIKE 'audio/%' AND " + c +
          " IS NOT NULL AND " + c + " != '' GROUP BY " + c + " ORDER BY " + c + " COLLATE NOCASE, " + c);
  }
  Check("SELECT year, COUNT(*) FROM media_files WHERE mime_type LIKE 'audio/%' AND year IS NOT NULL "
        "GROUP BY year ORDER BY year DESC");
  // Tracks of one artist, album, genre, year, album artist.
  auto some = [&](const std::string& column) {
    return Pick("SELECT " + column + " FROM (SELECT " + column + ", count(*) AS n FROM media_files WHERE " + column +
                " IS NOT NULL GROUP BY " + column + ") ORDER BY n DESC, " + column + " LIMIT 4");
  };
  for (const Value& v : some("artist")) {
    Check("SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND artist = ? "
          "ORDER BY album, track_number, filename, id",
          {v});
  }
  for (const Value& v : some("album")) {
    Check("SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND album = ? ORDER BY track_number, filename, id",
          {v});
  }
  for (const Value& v : some("genre")) {
    Check("SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND genre = ? "
          "ORDER BY artist, album, track_number, filename, id",
          {v});
  }
  for (const Value& v : some("year")) {
    Check("SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND year = ? "
          "ORDER BY artist, album, track_number, id",
          {v});
  }
  for (const Value& v : some("album_artist")) {
    Check("SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND album_artist = ? "
          "ORDER BY album, track_number, id",
          {v});
  }
  Check("SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND artist = ? ORDER BY album, track_number, id",
        {Value::Text("Nobody At All")});
  EXPECT_GE(non_empty_, 25);
}

TEST_F(LegacyQueriesTest, Playlists) {
  Check("SELECT * FROM playlists ORDER BY name");
  Check("SELECT * FROM playlists WHERE name = ?", {Value::Text("Favourites")});
  std::vector<Value> ids = Pick("SELECT id FROM playlists ORDER BY id");
  ids.push_back(Value::Int(9999));
  for (const Value& id : ids) {
    Check("SELECT MAX(position) FROM playlist_entries WHERE playlist_id = ?", {id});
    Check("SELECT m.* FROM media_files m JOIN playlist_entries pe ON m.id = pe.media_file_id "
          "WHERE pe.playlist_id = ? ORDER BY pe.position",
          {id});
    Check("SELECT pe.id, pe.position, m.path FROM playlist_entries pe JOIN media_files m ON m.id = pe.media_file_id "
          "WHERE pe.playlist_id = ? ORDER BY pe.position",
          {id});
    Check("SELECT COUNT(*) FROM playlist_entries WHERE playlist_id = ?", {id});
  }
  Check("SELECT p.name, COUNT(pe.id) FROM playlists p LEFT JOIN playlist_entries pe ON pe.playlist_id = p.id "
        "GROUP BY p.id ORDER BY p.id");
  EXPECT_GE(non_empty_, 20);
}

}  // namespace
}  // namespace zcmedia::migratetest
