// The plans media_files_table.cc picks, as EXPLAIN QUERY PLAN shows them
// (`VIRTUAL TABLE INDEX <idxNum>:<idxStr>`): each legacy server query class
// gets its intended plan, a plan that claims the ORDER BY leaves SQLite no
// sorter, the canonical-column plans fall back to a scan when some record's
// canonical columns differ from the originals, and plans that would be
// wrong (a NOCASE lookup, LIMIT under an unconsumed constraint) are not
// taken. Every statement is also compared with the shape-D table.
#include <memory>
#include <string>
#include <vector>

#include "differential_test_util.h"
#include "zcmedia/store.h"

namespace zcmedia::vtabtest {
namespace {

constexpr const char* kTempSort = "USE TEMP B-TREE FOR ORDER BY";

class MediaFilesPlanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    unix_ = new DifferentialDb(GenerateMediaRows({21, 600, false}));
    windows_ = new DifferentialDb(GenerateMediaRows({22, 600, true}));
  }
  static void TearDownTestSuite() {
    delete unix_;
    delete windows_;
    unix_ = windows_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(unix_->ok()) << unix_->error();
    ASSERT_TRUE(windows_->ok()) << windows_->error();
  }

  // The plan of `sql` on `db` contains `plan` (and, with `sorted`, no
  // sorter for the ORDER BY); the statement's rows match the reference.
  static void ExpectPlan(DifferentialDb& db, const std::string& sql, const std::string& plan,
                         const std::vector<Value>& params = {}, const Expectation& e = {}, bool sorted = true) {
    const std::string got = QueryPlan(db.vtab(), sql);
    EXPECT_NE(got.find("VIRTUAL TABLE INDEX " + plan), std::string::npos)
        << "SQL: " << sql << "\nwanted plan: " << plan << "\ngot:\n" << got;
    if (sorted) {
      EXPECT_EQ(got.find(kTempSort), std::string::npos) << "SQL: " << sql << "\nplan:\n" << got;
    }
    EXPECT_TRUE(db.Check(sql, params, e));
  }
  // The plan of `sql` does not contain `plan`; the rows match.
  static void ExpectNotPlan(DifferentialDb& db, const std::string& sql, const std::string& plan,
                            const std::vector<Value>& params = {}, const Expectation& e = {}) {
    const std::string got = QueryPlan(db.vtab(), sql);
    EXPECT_EQ(got.find(plan), std::string::npos) << "SQL: " << sql << "\nunwanted: " << plan << "\ngot:\n" << got;
    EXPECT_NE(got.find("VIRTUAL TABLE INDEX"), std::string::npos) << got;
    EXPECT_TRUE(db.Check(sql, params, e));
  }

  static const MediaRow& RowWith(const DifferentialDb& db, bool (*pred)(const MediaRow&)) {
    for (const MediaRow& r : db.rows())
      if (pred(r)) return r;
    ADD_FAILURE() << "no row fits";
    return db.rows().front();
  }

  static DifferentialDb* unix_;
  static DifferentialDb* windows_;
};
DifferentialDb* MediaFilesPlanTest::unix_ = nullptr;
DifferentialDb* MediaFilesPlanTest::windows_ = nullptr;

// The data sets are what the tests take them for: the store's
// noncanonical_files total is 0 for the Unix shape and not for the other.
TEST_F(MediaFilesPlanTest, NoncanonicalTotalsOfTheDataSets) {
  for (DifferentialDb* db : {unix_, windows_}) {
    Options options;
    options.read_only = true;
    options.create_if_missing = false;
    options.use_environment = false;
    std::unique_ptr<Store> store;
    Status s = Store::Open(db->store_dir(), options, &store);
    ASSERT_TRUE(s.ok()) << s.ToString();
    const LibraryTotals totals = store->GetSnapshot()->totals();
    EXPECT_EQ(totals.total_files(), db->rows().size());
    if (db == unix_) {
      EXPECT_EQ(totals.noncanonical_files, 0u);
    } else {
      EXPECT_GT(totals.noncanonical_files, 0u);
    }
    // Every generated parent_path leads its path (the prefix plan's condition).
    EXPECT_EQ(totals.parent_prefix_files, db->rows().size());
  }
}

TEST_F(MediaFilesPlanTest, PointLookups) {
  const MediaRow& r = RowWith(*unix_, [](const MediaRow& r) { return r.canonical_path.has_value(); });
  ExpectPlan(*unix_, "SELECT * FROM media_files WHERE id = ?", "1:id id=", {Value::Int(r.id)});
  ExpectPlan(*unix_, "SELECT * FROM media_files WHERE rowid = ?", "1:id id=", {Value::Text(std::to_string(r.id))});
  ExpectPlan(*unix_, "SELECT * FROM media_files WHERE path = ?", "2:path path=", {Value::Text(r.path)});
  ExpectPlan(*unix_, "SELECT * FROM media_files WHERE canonical_path = ?", "3:canonical-path canonical_path=",
             {Value::Text(*r.canonical_path)});
  ExpectPlan(*unix_, "SELECT id FROM media_files WHERE canonical_path = ?", "3:canonical-path canonical_path=",
             {Value::Null()});
}

// The legacy server's 500-path lookup: one xFilter gets the whole list
// (the `-in` argument; a per-value IN would hand xFilter a plain value,
// which sqlite3_vtab_in_first refuses, and SQLite would not let the plan
// keep the ORDER BY), and the rows come sorted without a sorter although
// the list is in descending order.
TEST_F(MediaFilesPlanTest, InListArrivesAllAtOnceAndIsSorted) {
  std::vector<std::string> paths;
  for (const MediaRow& r : unix_->rows())
    if (r.canonical_path) paths.push_back(*r.canonical_path);
  std::sort(paths.rbegin(), paths.rend());
  paths.resize(std::min<size_t>(paths.size(), 499));
  std::vector<Value> params;
  std::string sql = "SELECT * FROM media_files WHERE canonical_path IN (";
  for (size_t i = 0; i < paths.size(); ++i) {
    params.push_back(Value::Text(paths[i]));
    sql += i ? ", ?" : "?";
  }
  params.push_back(Value::Text(paths.front()));  // a duplicate: one row
  sql += ", ?) ORDER BY canonical_path";
  ExpectPlan(*unix_, sql, "3:canonical-path canonical_path-in order:3", params, {{{3, false}}});
  const QueryResult got = RunQuery(unix_->vtab(), sql, params);
  EXPECT_EQ(got.rows.size(), paths.size());

  ExpectPlan(*unix_, "SELECT id, path FROM media_files WHERE id IN (9, 7, 5, 3, 1, 1, NULL, '2') ORDER BY id",
             "1:id id-in order:0", {}, {{{0, false}}});
  ExpectPlan(*unix_, "SELECT id FROM media_files WHERE path IN (?, ?, ?) ORDER BY path DESC", "2:path path-in order:1-",
             {Value::Text(unix_->rows()[5].path), Value::Text(unix_->rows()[3].path), Value::Text(unix_->rows()[4].path)});
}

TEST_F(MediaFilesPlanTest, DirectoryListings) {
  const std::string dir = "/media/big";
  ExpectPlan(*unix_, "SELECT * FROM media_files WHERE canonical_parent_path = ? ORDER BY filename LIMIT 1000",
             "5:canonical-parent canonical_parent_path= limit order:5", {Value::Text(dir)}, {{{5, false}}, true});
  ExpectPlan(*unix_, "SELECT * FROM media_files WHERE parent_path = ? ORDER BY filename LIMIT 1000",
             "4:parent parent_path= limit order:5", {Value::Text(dir)}, {{{5, false}}, true});
  ExpectPlan(*unix_, "SELECT * FROM media_files WHERE canonical_parent_path = ? ORDER BY filename LIMIT 10 OFFSET 20",
             "5:canonical-parent canonical_parent_path= limit offset order:5", {Value::Text(dir)},
             {{{5, false}}, true});
  for (const char* family : {"video%", "audio%"})
    ExpectPlan(*unix_,
               "SELECT * FROM media_files WHERE canonical_parent_path = ? AND mime_type LIKE ? ORDER BY filename",
               "5:canonical-parent canonical_parent_path= order:5", {Value::Text(dir), Value::Text(family)},
               {{{5, false}}});
}

TEST_F(MediaFilesPlanTest, MusicCategories) {
  for (const char* col : {"artist", "album", "genre", "album_artist"}) {
    const std::string c = col;
    const std::string sql = "SELECT " + c + ", COUNT(*) FROM media_files WHERE mime_type LIKE 'audio/%' AND " + c +
                            " IS NOT NULL AND " + c + " != '' GROUP BY " + c + " ORDER BY " + c + " COLLATE NOCASE";
    // The final NOCASE order is SQLite's sort of the groups.
    ExpectPlan(*unix_, sql, "7:groups-" + c, {}, {{{0, true}}}, /*sorted=*/false);
    ExpectPlan(*unix_, "SELECT DISTINCT " + c + " FROM media_files WHERE mime_type LIKE 'audio/%' AND " + c +
                           " != '' ORDER BY " + c,
               "7:groups-" + c, {}, {{{0, false}}});
  }
  ExpectPlan(*unix_,
             "SELECT year, COUNT(*) FROM media_files WHERE mime_type LIKE 'audio/%' AND year IS NOT NULL GROUP BY year "
             "ORDER BY year DESC",
             "7:groups-year", {}, {{{0, false}}});
  // GROUP BY year ORDER BY year: SQLite takes the consumed GROUP BY as the
  // order; the rows must really come oldest first.
  ExpectPlan(*unix_,
             "SELECT year, COUNT(*) FROM media_files WHERE mime_type LIKE 'audio/%' AND year IS NOT NULL GROUP BY year "
             "ORDER BY year",
             "7:groups-year", {}, {{{0, false}}});
  // Not the groups plan when its index would leave rows out: NULL or ''
  // values, or no category column at all.
  ExpectNotPlan(*unix_, "SELECT count(*) FROM media_files WHERE mime_type LIKE 'audio/%'", "7:groups");
  ExpectNotPlan(*unix_, "SELECT artist FROM media_files WHERE mime_type LIKE 'audio/%' AND artist IS NOT NULL",
                "7:groups");
  ExpectNotPlan(*unix_, "SELECT year FROM media_files WHERE mime_type LIKE 'audio/%'", "7:groups");
}

TEST_F(MediaFilesPlanTest, TracksOfACategory) {
  ExpectPlan(*unix_,
             "SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND artist = ? ORDER BY album, track_number, filename",
             "6:tracks-artist - artist= order:12,14,5", {Value::Text("Beatles")}, {{{12}, {14}, {5}}});
  ExpectPlan(*unix_,
             "SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND album = ? ORDER BY track_number, filename",
             "6:tracks-album - album= order:14,5", {Value::Text("Live")}, {{{14}, {5}}});
  ExpectPlan(*unix_,
             "SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND genre = ? ORDER BY artist, album, "
             "track_number, filename",
             "6:tracks-genre - genre= order:11,12,14,5", {Value::Text("Rock")}, {{{11}, {12}, {14}, {5}}});
  ExpectPlan(*unix_,
             "SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND year = ? ORDER BY artist, album, "
             "track_number, filename",
             "6:tracks-year - year= order:11,12,14,5", {Value::Int(1999)}, {{{11}, {12}, {14}, {5}}});
  ExpectPlan(*unix_,
             "SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND album_artist = ? ORDER BY album, "
             "track_number, filename",
             "6:tracks-album_artist - album_artist= order:12,14,5", {Value::Text("AC/DC")}, {{{12}, {14}, {5}}});
  // A NOCASE comparison is not the index's: no tracks plan.
  ExpectNotPlan(*unix_, "SELECT id FROM media_files WHERE mime_type LIKE 'audio/%' AND artist = ? COLLATE NOCASE",
                "6:tracks", {Value::Text("beatles")});
}

TEST_F(MediaFilesPlanTest, CountsAndScans) {
  ExpectPlan(*unix_, "SELECT COUNT(*) FROM media_files", "8:ids");
  ExpectPlan(*unix_, "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM media_files", "0:scan");
  ExpectPlan(*unix_, "SELECT rowid, id FROM media_files ORDER BY rowid", "0:scan ordered", {}, {{{0, false}}});
  ExpectPlan(*unix_, "SELECT * FROM media_files ORDER BY id LIMIT 7 OFFSET 3", "0:scan limit offset ordered", {},
             {{{0, false}}});
  ExpectPlan(*unix_, "SELECT id FROM media_files WHERE id >= ? ORDER BY id", "0:scan id>= ordered", {Value::Text("40")},
             {{{0, false}}});
  ExpectPlan(*unix_, "SELECT id FROM media_files WHERE id > ? AND id <= ?", "0:scan id> id<=",
             {Value::Int(5), Value::Real(100.5)});
  ExpectPlan(*unix_, "SELECT id FROM media_files WHERE id > 9223372036854775807", "0:scan id>");
  ExpectPlan(*unix_, "SELECT id FROM media_files WHERE id < -9223372036854775807 - 1", "0:scan id<");
}

// The whole table in filename order: the cursor sorts (name, record) keys
// itself (vtab/filename_order.h), either way, and takes LIMIT/OFFSET; with
// a WHERE or a second ORDER BY term SQLite sorts what another plan reads.
TEST_F(MediaFilesPlanTest, WholeTableByName) {
  for (DifferentialDb* db : {unix_, windows_}) {
    ExpectPlan(*db, "SELECT * FROM media_files ORDER BY filename", "11:filename-order order:5", {}, {{{5, false}}});
    ExpectPlan(*db, "SELECT id, filename FROM media_files ORDER BY filename DESC", "11:filename-order order:5-", {},
               {{{1, false}}});
    ExpectPlan(*db, "SELECT * FROM media_files ORDER BY filename LIMIT 25 OFFSET 100",
               "11:filename-order limit offset order:5", {}, {{{5, false}}, true});
    ExpectPlan(*db, "SELECT filename FROM media_files ORDER BY filename DESC LIMIT 3", "11:filename-order limit", {},
               {{{0, false}}, true});
    ExpectNotPlan(*db, "SELECT * FROM media_files WHERE size > 1000 ORDER BY filename", "filename-order", {},
                  {{{5, false}}});
    ExpectNotPlan(*db, "SELECT id, filename FROM media_files ORDER BY filename, id", "filename-order", {},
                  {{{1, false}, {0, false}}});
  }
}

// LIMIT/OFFSET only where the plan delivers exactly the rows SQLite would
// count: every other constraint omitted, the ORDER BY (if any) consumed.
TEST_F(MediaFilesPlanTest, LimitTakenOnlyWhenSafe) {
  ExpectPlan(*unix_, "SELECT id FROM media_files LIMIT 5 OFFSET 7", "0:scan limit offset", {},
             Expectation{{}, false, true});
  ExpectNotPlan(*unix_, "SELECT id FROM media_files WHERE title LIKE 'T%' LIMIT 5", "limit", {},
                Expectation{{}, false, true});
  ExpectNotPlan(*unix_, "SELECT id, filename FROM media_files ORDER BY filename, id LIMIT 5", "limit", {},
                {{{1, false}, {0, false}}});
  ExpectNotPlan(*unix_, "SELECT id FROM media_files WHERE id > 3 LIMIT 5", "limit", {}, Expectation{{}, false, true});
}

// Text lookups compare bytes: a NOCASE comparison is left to a scan.
TEST_F(MediaFilesPlanTest, NocaseComparisonsAreNotLookups) {
  const MediaRow& r = unix_->rows()[7];
  ExpectNotPlan(*unix_, "SELECT id FROM media_files WHERE path = ? COLLATE NOCASE", "2:path",
                {Value::Text(r.path)});
  ExpectNotPlan(*unix_, "SELECT id FROM media_files WHERE parent_path = ? COLLATE NOCASE", "4:parent",
                {Value::Text("/MEDIA/MUSIC")});
  ExpectNotPlan(*unix_, "SELECT id FROM media_files WHERE canonical_parent_path = ? COLLATE NOCASE",
                "5:canonical-parent", {Value::Text("/media/MUSIC")});
}

// When some record's canonical columns differ from the originals, the path
// and directory indexes cannot answer for them: a scan.
TEST_F(MediaFilesPlanTest, CanonicalPlansFallBackToAScan) {
  const MediaRow& r = RowWith(*windows_, [](const MediaRow& r) { return r.canonical_path && *r.canonical_path != r.path; });
  ExpectNotPlan(*windows_, "SELECT * FROM media_files WHERE canonical_path = ?", "3:canonical-path",
                {Value::Text(*r.canonical_path)});
  EXPECT_NE(QueryPlan(windows_->vtab(), "SELECT * FROM media_files WHERE canonical_path = ?").find("0:scan"),
            std::string::npos);
  const QueryResult found = RunQuery(windows_->vtab(), "SELECT id FROM media_files WHERE canonical_path = ?",
                                     {Value::Text(*r.canonical_path)});
  ASSERT_EQ(found.rows.size(), 1u);
  EXPECT_EQ(found.rows[0][0].i, r.id);
  ExpectNotPlan(*windows_, "SELECT * FROM media_files WHERE canonical_parent_path = ? ORDER BY filename LIMIT 1000",
                "5:canonical-parent", {Value::Text(*r.canonical_parent_path)}, {{{5, false}}, true});
  ExpectNotPlan(*windows_, "SELECT * FROM media_files WHERE canonical_path IN (?, ?) ORDER BY canonical_path",
                "3:canonical-path", {Value::Text(*r.canonical_path), Value::Text(r.path)}, {{{3, false}}});
  // Lookups by the original columns still use their indexes.
  ExpectPlan(*windows_, "SELECT * FROM media_files WHERE path = ?", "2:path path=", {Value::Text(r.path)});
  ExpectPlan(*windows_, "SELECT * FROM media_files WHERE parent_path = ? ORDER BY filename LIMIT 1000",
             "4:parent parent_path= limit order:5", {Value::Text(r.parent_path)}, {{{5, false}}, true});
}

// The legacy prefix listing: the directory tree under the pattern's
// literal head, sorted by the cursor; SQLite still checks the LIKE.
TEST_F(MediaFilesPlanTest, PathPrefixListing) {
  ExpectPlan(*unix_, "SELECT * FROM media_files WHERE canonical_path LIKE '/media/music/%' ORDER BY canonical_path",
             "10:path-prefix canonical_path-like order:3", {}, {{{3, false}}});
  ExpectPlan(*unix_, "SELECT * FROM media_files WHERE canonical_path LIKE ? ORDER BY canonical_path",
             "10:path-prefix canonical_path-like order:3", {Value::Text("/media/music/beatles/%")}, {{{3, false}}});
  ExpectPlan(*unix_, "SELECT id, path FROM media_files WHERE path LIKE 'C:\\users\\%' ORDER BY path DESC",
             "10:path-prefix path-like order:1-", {}, {{{1, false}}});
  ExpectPlan(*unix_, "SELECT id FROM media_files WHERE path LIKE '/MEDIA/photos/2024/r%'",
             "10:path-prefix path-like");
  // Any ORDER BY of the (small) result is sorted by the cursor, as the
  // other plans' results are.
  ExpectPlan(*unix_, "SELECT * FROM media_files WHERE path LIKE '/media/big/%' ORDER BY filename, id",
             "10:path-prefix path-like order:5,0", {}, {{{5, false}, {0, false}}});
  // A point lookup beats it.
  ExpectPlan(*unix_, "SELECT * FROM media_files WHERE path LIKE '/media/%' AND path = ?", "2:path path=",
             {Value::Text(unix_->rows()[3].path)});
  // Under PRAGMA case_sensitive_like the cursor compares exactly.
  for (sqlite3* db : {unix_->vtab(), unix_->ref()})
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA case_sensitive_like = ON", nullptr, nullptr, nullptr), SQLITE_OK);
  ExpectPlan(*unix_, "SELECT * FROM media_files WHERE canonical_path LIKE '/media/Music/%' ORDER BY canonical_path",
             "10:path-prefix canonical_path-like order:3 case-sensitive", {}, {{{3, false}}});
  for (sqlite3* db : {unix_->vtab(), unix_->ref()})
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA case_sensitive_like = OFF", nullptr, nullptr, nullptr), SQLITE_OK);
  ExpectPlan(*unix_, "SELECT * FROM media_files WHERE canonical_path LIKE '/media/Music/%' ORDER BY canonical_path",
             "10:path-prefix canonical_path-like order:3", {}, {{{3, false}}});
}

// No literal head, a pattern that is no text, an ESCAPE clause (SQLite
// hands such a LIKE to no virtual table): a scan. A parameter is seen only
// by xFilter, which then lists every record for SQLite to check.
TEST_F(MediaFilesPlanTest, PathPrefixFallsBackToAScan) {
  for (const char* sql : {"SELECT id FROM media_files WHERE path LIKE '%x'",
                          "SELECT id FROM media_files WHERE path LIKE '_media/%' ORDER BY path",
                          "SELECT id FROM media_files WHERE canonical_path LIKE '%'",
                          "SELECT id FROM media_files WHERE canonical_path LIKE ''",
                          "SELECT id FROM media_files WHERE path LIKE 5",
                          "SELECT id FROM media_files WHERE path LIKE X'2F6D65'",
                          "SELECT id FROM media_files WHERE path LIKE NULL",
                          "SELECT id FROM media_files WHERE path LIKE '/media/%' ESCAPE '\\'",
                          "SELECT id FROM media_files WHERE path NOT LIKE '/media/%'"}) {
    ExpectNotPlan(*unix_, sql, "10:path-prefix");
    EXPECT_NE(QueryPlan(unix_->vtab(), sql).find("0:scan"), std::string::npos) << sql;
  }
  // An OR of two prefixes: one plan per term (SQLite's MULTI-INDEX OR).
  const std::string or_sql = "SELECT id FROM media_files WHERE path LIKE '/media/music/b%' OR path LIKE '/media/p%'";
  const std::string or_plan = QueryPlan(unix_->vtab(), or_sql);
  EXPECT_NE(or_plan.find("MULTI-INDEX OR"), std::string::npos) << or_plan;
  EXPECT_EQ(or_plan.find("0:scan"), std::string::npos) << or_plan;
  EXPECT_TRUE(unix_->Check(or_sql));
  for (const Value& v : {Value::Text("%music%"), Value::Text("_"), Value::Int(5), Value::Real(1.5), Value::Null(),
                         Value::Blob("/media/b"), Value::Text("")})
    ExpectPlan(*unix_, "SELECT id, path FROM media_files WHERE path LIKE ? ORDER BY path", "10:path-prefix path-like",
               {v}, {{{1, false}}});
}

// canonical_path is answered from the path tree only while it is path
// (or NULL) for every record: not on the Windows-shaped data, where the
// path column still has the plan.
TEST_F(MediaFilesPlanTest, CanonicalPathPrefixNeedsCanonicalColumnsEqualToPath) {
  ExpectNotPlan(*windows_, "SELECT * FROM media_files WHERE canonical_path LIKE 'c:/users/%' ORDER BY canonical_path",
                "10:path-prefix", {}, {{{3, false}}});
  ExpectPlan(*windows_, "SELECT * FROM media_files WHERE path LIKE 'c:\\users\\%' ORDER BY path",
             "10:path-prefix path-like order:1", {}, {{{1, false}}});
}

// A record whose parent_path does not lead its path (`UPDATE ... SET path`
// alone) lies elsewhere in the tree: the plan is off until no such record
// is left.
TEST(MediaFilesPrefixPlanTest, OffWhileSomeParentPathDoesNotLeadThePath) {
  std::vector<MediaRow> rows = GenerateMediaRows({23, 300, false});
  rows[10].parent_path = "/elsewhere";
  rows[11].path = "/media/moved/" + rows[11].filename + "-11";  // parent_path still the old directory
  DifferentialDb db(rows);
  ASSERT_TRUE(db.ok()) << db.error();
  const std::string sql = "SELECT id, path FROM media_files WHERE path LIKE ? ORDER BY path";
  for (const std::string& prefix : {rows[10].path, std::string("/media/moved/")}) {
    EXPECT_EQ(QueryPlan(db.vtab(), sql).find("10:path-prefix"), std::string::npos);
    EXPECT_TRUE(db.Check(sql, {Value::Text(prefix + "%")}, {{{1, false}}}));
  }
  // Repaired by SQL: the plan is back, and finds the moved record.
  for (sqlite3* c : {db.vtab(), db.ref()}) {
    ASSERT_EQ(sqlite3_exec(c,
                           ("UPDATE media_files SET parent_path = '/media/moved' WHERE id = " +
                            std::to_string(rows[11].id) + "; UPDATE media_files SET parent_path = " +
                            Value::Text(rows[9].parent_path).Literal() + ", path = " +
                            Value::Text(rows[9].parent_path + "/x-10").Literal() + " WHERE id = " +
                            std::to_string(rows[10].id))
                               .c_str(),
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(c);
  }
  EXPECT_NE(QueryPlan(db.vtab(), sql).find("10:path-prefix"), std::string::npos) << QueryPlan(db.vtab(), sql);
  EXPECT_TRUE(db.Check(sql, {Value::Text("/media/moved/%")}, {{{1, false}}}));
  EXPECT_TRUE(db.Check(sql, {Value::Text("/MEDIA/%")}, {{{1, false}}}));
}

// An application's own like() (ICU's folds beyond ASCII) is not the
// built-in LIKE the cursor imitates: no prefix plan then.
TEST(MediaFilesPrefixPlanTest, OffUnderAnotherLikeFunction) {
  DifferentialDb db(GenerateMediaRows({24, 200, false}));
  ASSERT_TRUE(db.ok()) << db.error();
  const std::string sql = "SELECT id FROM media_files WHERE path LIKE '/media/%'";
  EXPECT_NE(QueryPlan(db.vtab(), sql).find("10:path-prefix"), std::string::npos);
  auto always = [](sqlite3_context* ctx, int, sqlite3_value**) { sqlite3_result_int(ctx, 1); };
  ASSERT_EQ(sqlite3_create_function(db.vtab(), "like", 2, SQLITE_UTF8, nullptr, always, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(QueryPlan(db.vtab(), sql).find("10:path-prefix"), std::string::npos) << QueryPlan(db.vtab(), sql);
  // PRAGMA case_sensitive_like installs the built-in again.
  ASSERT_EQ(sqlite3_exec(db.vtab(), "PRAGMA case_sensitive_like = OFF", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_NE(QueryPlan(db.vtab(), sql).find("10:path-prefix"), std::string::npos);
  EXPECT_TRUE(db.Check(sql));
}

}  // namespace
}  // namespace zcmedia::vtabtest
