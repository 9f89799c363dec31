// The path-prefix plan (10:path-prefix, docs/query-plans.md) against
// SQLite: `path LIKE` and `canonical_path LIKE` with prefixes cut from
// stored paths at random lengths, in other letter cases, prefixes that
// match nothing, '' and '/', wildcards after the prefix, literals and
// parameters, with and without ORDER BY path / canonical_path (and other
// orders), under PRAGMA case_sensitive_like off and on. On the generated
// data sets (Unix-shaped, and Windows-shaped where canonical_path differs
// from path) and on one holding the directory tree's odd corners: the '\'
// root, UNC and drive paths, relative and bare names, a parent written
// with a trailing separator, mixed separators, invalid UTF-8.
//
// The reference is SQLite's LIKE function over every row of the ordinary
// table (`+column LIKE ...`: no index). With case_sensitive_like on, the
// plain statement on the ordinary table would use its index for the
// pattern's prefix, which compares bytes where LIKE reads characters
// (invalid UTF-8 and patterns cut inside a character answer differently
// there); on valid whole-character patterns both agree, and the
// generated data sets are also compared with the very same SQL.
//
// ZCMEDIA_TEST_SEED=<n> reruns one seed; ZCMEDIA_TEST_SCALE=<x> multiplies
// the statement counts.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "differential_test_util.h"

namespace zcmedia::vtabtest {
namespace {

// Cuts that keep UTF-8 whole.
std::string WholeHead(const std::string& s, size_t n) {
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

bool ValidWholeUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    // Overlong forms, surrogates and U+FFFE/FFFF read differently (LIKE
    // makes them U+FFFD): not "valid" for the byte-comparing index.
    uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF || (cp & 0xFFFE) == 0xFFFE) return false;
    i += n;
  }
  return true;
}

// The generated rows with the tree's odd corners written over the first
// ones (canonical columns equal to the originals: both columns take the plan).
std::vector<MediaRow> OddRows(uint64_t seed) {
  std::vector<MediaRow> rows = GenerateMediaRows({seed, 700, false});
  struct Odd {
    std::string path, parent;
  };
  const std::vector<Odd> odd = {
      {"\\a.mp3", "\\"},                                   // the '\' root
      {"\\music\\b.mp3", "\\music"},
      {"\\Music\\B.mp3", "\\Music"},
      {"\\\\server\\share\\c.mp3", "\\\\server\\share"},  // UNC: '\\server' under '\'
      {"\\\\server\\share\\Sub\\d.mp3", "\\\\server\\share\\Sub"},
      {"\\\\SERVER\\Share\\e.mp3", "\\\\SERVER\\Share"},
      {"C:\\f.mp3", "C:\\"},  // the legacy server's parent of a drive's root file
      {"C:\\g.mp3", "C:"},
      {"c:\\Music\\h.flac", "c:\\Music"},
      {"C:\\MUSIC\\Album\\h2.flac", "C:\\MUSIC\\Album"},
      {"relative/i.mp3", "relative"},
      {"relative/Deeper/j.mp3", "relative/Deeper"},
      {"RELATIVE/k.mp3", "RELATIVE"},
      {"bare.mp3", ""},
      {"Bare2.MP3", ""},
      {"/l.mp3", "/"},
      {"//m.mp3", "/"},
      {"/media/trailing/n.mp3", "/media/trailing/"},  // a parent with its separator
      {"/media/mixed\\sep/o.mp3", "/media/mixed\\sep"},
      {"/media/mixed/sep\\o2.mp3", "/media/mixed/sep"},
      {"/media/\xC0\xAFodd/p.mp3", "/media/\xC0\xAFodd"},          // overlong '/': U+FFFD for LIKE
      {"/media/\xEF\xBF\xBD/p2.mp3", "/media/\xEF\xBF\xBD"},       // U+FFFD itself
      {"/media/\xF0\x82\x82\xAC" "uro/q.mp3", "/media/\xF0\x82\x82\xAC" "uro"},  // overlong U+20AC
      {"/media/\xE2\x82\xAC" "uro/r.mp3", "/media/\xE2\x82\xAC" "uro"},          // U+20AC
      {"/media/cut\xC3/s.mp3", "/media/cut\xC3"},  // a lead byte alone
      {"/media/\x80lone/t.mp3", "/media/\x80lone"},  // a continuation byte alone
      {"/media/%_x/u.mp3", "/media/%_x"},
      // A parent cut inside a character (it leads the path's bytes): LIKE
      // reads 'é' in the path where the directory's name ends in a lead byte.
      {"/media/split\xC3\xA9/v.mp3", "/media/split\xC3"},
      {"/media/split\xC3\xA9/w.mp3", "/media/split\xC3\xA9"},
  };
  for (size_t i = 0; i < odd.size() && i < rows.size(); ++i) {
    MediaRow& r = rows[i];
    r.path = odd[i].path;
    r.parent_path = odd[i].parent;
    r.filename = r.path.substr(r.path.find_last_of("/\\") == std::string::npos ? 0 : r.path.find_last_of("/\\") + 1);
    r.canonical_path = r.path;
    r.canonical_parent_path = r.parent_path;
  }
  return rows;
}

class PrefixQueries {
 public:
  PrefixQueries(DifferentialDb& db, uint64_t seed, bool canonical_plan, bool odd)
      : db_(db), rng_(seed), canonical_plan_(canonical_plan), odd_(odd) {}

  // Runs `count` statements under the current case_sensitive_like setting.
  void Run(int count, bool case_sensitive) {
    for (int i = 0; i < count; ++i) One(case_sensitive);
  }

  int planned() const { return planned_; }
  int literal_heads() const { return literal_heads_; }

 private:
  // A literal head for a pattern, and whether it is whole characters.
  std::string HeadOf(bool* whole) {
    *whole = true;
    const MediaRow& r = rng_.Pick(db_.rows());
    const int64_t k = rng_.Int(0, 99);
    if (k < 4) return "";
    if (k < 8) return "/";
    if (k < 10) return "\\";
    if (k < 14) {
      static const std::vector<std::string> fixed = {
          "/media/", "/media/music/", "/MEDIA/MUSIC/BEATLES/", "/media/music/beatles", "C:", "c:\\users\\",
          "C:\\Users\\Me\\Music\\", "/media/none/", "/media/big/", "/media/photos/2024", "relative/", "\\\\server\\",
          "/media/\xE2\x82\xAC", "/media/\xEF\xBF\xBD", "/media/Vid\xC3\xA9os/", "/media/vid", "/media/\x80",
          "/media/split\xC3\xA9", "/media/SPLIT\xC3"};
      const std::string& h = rng_.Pick(fixed);
      *whole = ValidWholeUtf8(h);
      return h;
    }
    std::string s = rng_.Chance(0.2) ? r.parent_path : rng_.Chance(0.2) && r.canonical_path ? *r.canonical_path : r.path;
    const size_t n = static_cast<size_t>(rng_.Int(0, static_cast<int64_t>(s.size())));
    if (rng_.Chance(0.25)) {
      s = s.substr(0, n);  // maybe inside a character
    } else {
      s = WholeHead(s, n);
    }
    switch (rng_.Int(0, 9)) {
      case 0: s = Upper(s); break;
      case 1: s = Lower(s); break;
      case 2: s += "zzz"; break;  // matches nothing (mostly)
      case 3: s = r.path; break;  // a whole path
      default: break;
    }
    // Keep the head free of wildcards (they are added below).
    for (char& c : s)
      if (c == '%' || c == '_') c = 'x';
    *whole = ValidWholeUtf8(s);
    return s;
  }

  std::string Pattern(const std::string& head) {
    switch (rng_.Int(0, 9)) {
      case 0: return head + "%.mp3";
      case 1: return head + "_%";
      case 2: return head;  // no wildcard: LIKE is equality (case folded)
      case 3: return head + "%%";
      case 4: return head + "%" + (rng_.Chance(0.5) ? "a" : "A") + "%";
      default: return head + "%";
    }
  }

  void One(bool case_sensitive) {
    bool whole = true;
    const std::string head = HeadOf(&whole);
    const std::string pattern = Pattern(head);
    const bool canonical = rng_.Chance(0.5);
    const std::string column = canonical ? "canonical_path" : "path";
    const bool literal = rng_.Chance(0.6);
    std::vector<Value> params;
    const std::string arg = literal ? Value::Text(pattern).Literal() : "?1";
    if (!literal) params.push_back(Value::Text(pattern));

    std::string select = "*";
    Expectation e;
    std::string order;
    switch (rng_.Int(0, 7)) {
      case 0: case 1:
        order = " ORDER BY " + column;
        e.keys = {{canonical ? 3 : 1, false}};
        break;
      case 2:
        order = " ORDER BY " + column + " DESC";
        e.keys = {{canonical ? 3 : 1, false}};
        break;
      case 3:
        order = canonical ? " ORDER BY path" : " ORDER BY canonical_path, id";
        e.keys = canonical ? std::vector<Expectation::Key>{{1, false}}
                           : std::vector<Expectation::Key>{{3, false}, {0, false}};
        break;
      case 4:
        order = " ORDER BY filename DESC, id";
        e.keys = {{5, false}, {0, false}};
        break;
      case 5:
        select = "id, " + column;
        break;
      default:
        break;
    }
    std::string extra;
    if (rng_.Chance(0.15)) extra = " AND mime_type LIKE 'audio%'";
    else if (rng_.Chance(0.1)) extra = " AND id > 50";

    const std::string sql = "SELECT " + select + " FROM media_files WHERE " + column + " LIKE " + arg + extra + order;
    const std::string ref_sql = "SELECT " + select + " FROM media_files WHERE +" + column + " LIKE " + arg + extra + order;
    const QueryResult want = RunQuery(db_.ref(), ref_sql, params);
    const QueryResult got = RunQuery(db_.vtab(), sql, params);
    EXPECT_TRUE(SameResults(want, got, sql, params, e)) << "case_sensitive_like=" << case_sensitive;
    // The same SQL on the ordinary table agrees where its index does.
    if (!odd_ && whole) {
      EXPECT_TRUE(db_.Check(sql, params, e)) << "case_sensitive_like=" << case_sensitive;
    }

    // The plan is taken for every literal head (on canonical_path only
    // where the data let it) and for every parameter; an id range may
    // beat it for short heads.
    if (!extra.empty() && extra.find("id >") != std::string::npos) return;
    const std::string plan = QueryPlan(db_.vtab(), sql);
    const bool planned = plan.find("10:path-prefix") != std::string::npos;
    planned_ += planned ? 1 : 0;
    const bool column_ok = !canonical || canonical_plan_;
    const bool has_head = !LiteralHeadEmpty(pattern);
    if (literal && has_head) ++literal_heads_;
    if (column_ok && (!literal || has_head)) {
      EXPECT_TRUE(planned) << sql << "\n" << plan;
      if (case_sensitive) {
        EXPECT_NE(plan.find("case-sensitive"), std::string::npos) << plan;
      }
    } else {
      EXPECT_FALSE(planned) << sql << "\n" << plan;
    }
  }

  static bool LiteralHeadEmpty(const std::string& pattern) { return pattern.empty() || pattern[0] == '%' || pattern[0] == '_'; }

  DifferentialDb& db_;
  Rng rng_;
  bool canonical_plan_;
  bool odd_;
  int planned_ = 0;
  int literal_heads_ = 0;
};

void SetCaseSensitiveLike(DifferentialDb& db, bool on) {
  for (sqlite3* c : {db.vtab(), db.ref()})
    ASSERT_EQ(sqlite3_exec(c, on ? "PRAGMA case_sensitive_like = ON" : "PRAGMA case_sensitive_like = OFF", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
}

void RunPrefixStatements(const char* shape) {
  const std::string s = shape;
  for (uint64_t seed : TestSeeds({31, 32})) {
    printf("[ seed     ] %llu (ZCMEDIA_TEST_SEED=%llu reruns it), data: %s\n", static_cast<unsigned long long>(seed),
           static_cast<unsigned long long>(seed), shape);
    SCOPED_TRACE("seed " + std::to_string(seed) + ", data " + s);
    const bool odd = s == "odd";
    DifferentialDb db(odd ? OddRows(seed) : GenerateMediaRows({seed, 1500, s == "windows"}));
    ASSERT_TRUE(db.ok()) << db.error();
    PrefixQueries q(db, seed, /*canonical_plan=*/s != "windows", odd);
    const int n = static_cast<int>(150 * TestScale());
    for (bool case_sensitive : {false, true, false}) {
      SetCaseSensitiveLike(db, case_sensitive);
      q.Run(n, case_sensitive);
      if (::testing::Test::HasFailure()) break;  // the first failures tell
    }
    EXPECT_GT(q.planned(), n);  // most statements took the plan
    printf("[ compared ] %d statements, %d with the prefix plan\n", 3 * n, q.planned());
  }
}

TEST(MediaFilesPrefixDifferentialTest, UnixShapedData) { RunPrefixStatements("unix"); }
TEST(MediaFilesPrefixDifferentialTest, WindowsShapedData) { RunPrefixStatements("windows"); }
TEST(MediaFilesPrefixDifferentialTest, OddCornersOfTheTree) { RunPrefixStatements("odd"); }

// The legacy server's statement, prepared once and run again with every
// directory of the data as its prefix (the cursor's state must not leak
// from one xFilter into the next), in both letter cases.
TEST(MediaFilesPrefixDifferentialTest, LegacyPrefixListingForEveryDirectory) {
  DifferentialDb db(GenerateMediaRows({33, 2500, false}));
  ASSERT_TRUE(db.ok()) << db.error();
  const std::string sql = "SELECT * FROM media_files WHERE canonical_path LIKE ? ORDER BY canonical_path";
  ASSERT_NE(QueryPlan(db.vtab(), sql).find("10:path-prefix canonical_path-like order:3"), std::string::npos)
      << QueryPlan(db.vtab(), sql);
  sqlite3_stmt* vt = nullptr;
  sqlite3_stmt* ref = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.vtab(), sql.c_str(), -1, &vt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_prepare_v2(db.ref(), sql.c_str(), -1, &ref, nullptr), SQLITE_OK);
  std::vector<std::string> dirs;
  for (const MediaRow& r : db.rows()) dirs.push_back(r.parent_path);
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  int compared = 0;
  for (const std::string& d : dirs) {
    for (const std::string& p : {d + "/%", Upper(d) + "%", Lower(d) + "/%", d + "\\%"}) {
      const std::vector<Value> params = {Value::Text(p)};
      EXPECT_TRUE(SameResults(RunPrepared(ref, params), RunPrepared(vt, params), sql, params, {{{3, false}}}));
      ++compared;
    }
  }
  sqlite3_finalize(vt);
  sqlite3_finalize(ref);
  EXPECT_GT(compared, 100);
}

// Statements prepared while the plans' conditions held and run after
// writes broke them (a server keeps its prepared statements, and SQLite
// plans a statement once: writes to a virtual table do not make it plan
// again): the cursors check the conditions again on the state they read.
TEST(MediaFilesPrefixDifferentialTest, PreparedStatementsOutliveThePlansConditions) {
  DifferentialDb db(GenerateMediaRows({35, 800, false}));
  ASSERT_TRUE(db.ok()) << db.error();
  struct Statement {
    std::string sql;
    std::string plan;
    std::vector<std::vector<Value>> params;
    Expectation e;
    sqlite3_stmt* vt = nullptr;
    sqlite3_stmt* ref = nullptr;
  };
  std::vector<Statement> statements = {
      {"SELECT id, path FROM media_files WHERE path LIKE '/media/moved/%' ORDER BY path", "10:path-prefix", {{}},
       {{{1, false}}}},
      {"SELECT id, canonical_path FROM media_files WHERE canonical_path LIKE '/media/moved/%' ORDER BY canonical_path",
       "10:path-prefix", {{}}, {{{1, false}}}},
      {"SELECT id, canonical_path FROM media_files WHERE canonical_path LIKE 'd:/%' ORDER BY canonical_path",
       "10:path-prefix", {{}}, {{{1, false}}}},
      {"SELECT id, canonical_path FROM media_files WHERE canonical_path = ?", "3:canonical-path",
       {{Value::Text("/media/moved/x")}, {Value::Text("d:/music/a.mp3")}}, {}},
      {"SELECT id, canonical_parent_path FROM media_files WHERE canonical_parent_path = ?", "5:canonical-parent",
       {{Value::Text("d:/music")}, {Value::Text("/media/moved")}}, {}},
  };
  for (Statement& st : statements) {
    EXPECT_NE(QueryPlan(db.vtab(), st.sql).find(st.plan), std::string::npos) << QueryPlan(db.vtab(), st.sql);
    ASSERT_EQ(sqlite3_prepare_v2(db.vtab(), st.sql.c_str(), -1, &st.vt, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_prepare_v2(db.ref(), st.sql.c_str(), -1, &st.ref, nullptr), SQLITE_OK);
  }
  auto check = [&] {
    for (Statement& st : statements)
      for (const std::vector<Value>& params : st.params)
        EXPECT_TRUE(SameResults(RunPrepared(st.ref, params), RunPrepared(st.vt, params), st.sql, params, st.e));
  };
  check();
  // A record whose path moves without its parent_path (its canonical_path
  // stays: now a column of its own), and one with the Windows forms.
  for (sqlite3* c : {db.vtab(), db.ref()}) {
    ASSERT_EQ(sqlite3_exec(c,
                           ("UPDATE media_files SET path = '/media/moved/x' WHERE id = " +
                            std::to_string(db.rows()[5].id) +
                            "; INSERT INTO media_files(path, parent_path, canonical_path, canonical_parent_path, "
                            "filename, size, modified, mime_type, created_at, updated_at) VALUES ('D:\\Music\\a.mp3', "
                            "'D:\\Music', 'd:/music/a.mp3', 'd:/music', 'a.mp3', 1, 1, 'audio/mpeg', 1, 1)")
                               .c_str(),
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(c);
  }
  check();
  for (Statement& st : statements) {
    // The statements kept their plans.
    EXPECT_EQ(sqlite3_stmt_status(st.vt, SQLITE_STMTSTATUS_REPREPARE, 0), 0) << st.sql;
    sqlite3_finalize(st.vt);
    sqlite3_finalize(st.ref);
  }
}

// The directories plan (9:directories) walks the same tree from the same
// roots: '\' (a root of its own, like '/') included.
TEST(MediaFilesPrefixDifferentialTest, DirectoriesPlanOnTheOddCorners) {
  DifferentialDb db(OddRows(34));
  ASSERT_TRUE(db.ok()) << db.error();
  const std::string sql = "SELECT DISTINCT parent_path FROM media_files";
  ASSERT_NE(QueryPlan(db.vtab(), sql).find("9:directories"), std::string::npos) << QueryPlan(db.vtab(), sql);
  EXPECT_TRUE(db.Check(sql));
  for (const char* like : {"\\%", "\\\\server%", "c:%", "relative/%", "/%", "%"})
    EXPECT_TRUE(db.Check("SELECT DISTINCT parent_path FROM media_files WHERE parent_path LIKE ?", {Value::Text(like)}));
}

}  // namespace
}  // namespace zcmedia::vtabtest
