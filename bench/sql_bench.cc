// zcmedia bench sql: the legacy server's SQL, the same text with the same
// bound parameters, through prepared statements on (a) the legacy SQLite
// table with all its indexes and (b) a second SQLite database whose
// media_files / playlists / playlist_entries are zcmedia virtual tables over
// a store holding the same records. Same process, the two sides interleaved
// class by class (which side goes first alternates from run to run), every
// row stepped and every column read, medians over the runs.
//
// The classes are the legacy query classes of shared/notes/legacy-schema.md
// ("What the server does with it"), each with the target. Both
// sides must return the same number of rows for every query (the bench
// aborts with the SQL and the parameter otherwise: a correctness bug) and
// the same rows (an order-insensitive checksum; a difference is reported
// and the command exits 1).
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bench_util.h"
#include "commands.h"
#include "generator.h"
#include "sqlite_legacy.h"
#include "store_writer.h"
#include "zcmedia/sqlite_extension.h"
#include "zcmedia/store.h"

namespace zcmedia::bench {

namespace {

// ---- SQLite helpers ---------------------------------------------------------

// One bound parameter.
struct Param {
  bool is_int = false;
  int64_t i = 0;
  std::string s;
  static Param Int(int64_t v) { return Param{true, v, {}}; }
  static Param Text(std::string v) { return Param{false, 0, std::move(v)}; }
};
using Params = std::vector<Param>;

std::string Describe(const Params& params) {
  std::string out;
  for (size_t i = 0; i < params.size() && i < 3; ++i) {
    if (i) out += ", ";
    out += params[i].is_int ? std::to_string(params[i].i) : "'" + params[i].s + "'";
  }
  if (params.size() > 3) out += ", ... (" + std::to_string(params.size()) + " values)";
  return out.empty() ? "none" : out;
}

[[noreturn]] void FailSql(sqlite3* db, const std::string& what) {
  throw BenchError(what + ": " + sqlite3_errmsg(db));
}

void Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    throw BenchError(message + " in: " + sql.substr(0, 300));
  }
}

// Exec that returns the error message instead of throwing ("" on success).
std::string TryExec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return "";
  std::string message = error ? error : "unknown error";
  sqlite3_free(error);
  return message;
}

// An owned prepared statement.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
      FailSql(db, "prepare '" + sql.substr(0, 300) + "'");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3_stmt* get() const { return stmt_; }
  // Text is copied (SQLITE_TRANSIENT): callers pass temporaries, and both
  // sides pay the same copy.
  void Bind(const Params& params) {
    sqlite3_reset(stmt_);
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const int rc = params[i].is_int
                         ? sqlite3_bind_int64(stmt_, index, params[i].i)
                         : sqlite3_bind_text(stmt_, index, params[i].s.data(),
                                             static_cast<int>(params[i].s.size()), SQLITE_TRANSIENT);
      if (rc != SQLITE_OK) FailSql(db_, "bind parameter " + std::to_string(index));
    }
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

sqlite3* OpenDb(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw BenchError("cannot open SQLite database '" + path + "': " + message);
  }
  return db;
}

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

inline uint64_t Mix(uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
inline uint64_t Fold(uint64_t h, uint64_t v) { return Mix(h ^ v) + 0x9E3779B97F4A7C15ull; }

// Reads every column of the current row and folds it into one number.
// Equal rows give equal numbers on both sides; the bench sums them per
// query, so that the order of rows (unspecified among ties) does not count.
uint64_t ReadRow(sqlite3_stmt* stmt) {
  uint64_t h = 0xCBF29CE484222325ull;
  const int columns = sqlite3_column_count(stmt);
  for (int c = 0; c < columns; ++c) {
    switch (sqlite3_column_type(stmt, c)) {
      case SQLITE_INTEGER:
        h = Fold(h, static_cast<uint64_t>(sqlite3_column_int64(stmt, c)));
        break;
      case SQLITE_FLOAT: {
        const double d = sqlite3_column_double(stmt, c);
        uint64_t bits;
        std::memcpy(&bits, &d, sizeof bits);
        h = Fold(h, bits ^ 0xF1);
        break;
      }
      case SQLITE_NULL:
        h = Fold(h, 0x5A5A5A5A);
        break;
      default: {  // TEXT, BLOB: the length and the bytes at both ends
        const unsigned char* text = sqlite3_column_text(stmt, c);
        const size_t n = static_cast<size_t>(sqlite3_column_bytes(stmt, c));
        uint64_t head = 0, tail = 0;
        if (text != nullptr && n > 0) {
          std::memcpy(&head, text, std::min<size_t>(n, 8));
          std::memcpy(&tail, text + (n > 8 ? n - 8 : 0), std::min<size_t>(n, 8));
        }
        h = Fold(Fold(Fold(h, n), head), tail);
      }
    }
  }
  return Mix(h);
}

// EXPLAIN QUERY PLAN of `sql` with `params` bound, as indented lines.
std::vector<std::string> ExplainQueryPlan(sqlite3* db, const std::string& sql, const Params& params) {
  Statement explain(db, "EXPLAIN QUERY PLAN " + sql);
  explain.Bind(params);
  std::map<int, int> depth;
  std::vector<std::string> lines;
  int rc;
  while ((rc = sqlite3_step(explain.get())) == SQLITE_ROW) {
    const int id = sqlite3_column_int(explain.get(), 0);
    const int parent = sqlite3_column_int(explain.get(), 1);
    const int d = depth.count(parent) ? depth[parent] + 1 : 0;
    depth[id] = d;
    const unsigned char* detail = sqlite3_column_text(explain.get(), 3);
    lines.push_back(std::string(size_t(d) * 2, ' ') + (detail ? reinterpret_cast<const char*>(detail) : ""));
  }
  if (rc != SQLITE_DONE) FailSql(db, "EXPLAIN QUERY PLAN");
  return lines;
}

// ---- the classes ------------------------------------------------------------

// The 19 columns, for the INSERT ... SELECT.
constexpr const char* kAllColumns =
    "id, path, parent_path, canonical_path, canonical_parent_path, filename, size, modified, mime_type, "
    "duration, title, artist, album, genre, track_number, year, album_artist, created_at, updated_at";

// Every class's key, in report order (--skip takes them).
constexpr const char* kClassKeys[] = {
    "path_lookup",   "id_lookup",      "path_in_500",    "dir_listing",    "dir_video",
    "subdirectories", "artist_listing", "album_listing",  "genre_listing",  "album_artist_listing",
    "year_listing",  "artist_tracks",  "album_tracks",   "genre_tracks",   "year_tracks",
    "playlist_tracks", "full_scan",    "count",          "count_size"};

bool IsClassKey(const std::string& key) {
  return std::find(std::begin(kClassKeys), std::end(kClassKeys), key) != std::end(kClassKeys);
}

enum class Goal { kSpeedup, kMaxMs };

struct SqlClass {
  std::string key;   // JSON: sqlite_<key>_ms, store_<key>_ms, <key>_ratio
  std::string name;  // the table's first column
  std::string sql;
  Goal goal = Goal::kSpeedup;
  double goal_value = 1.0;        // speedup (store/legacy), or ms for kMaxMs
  std::vector<Params> queries;    // one run: every query once, in this order
  bool needs_playlists = false;

  std::string TargetText() const {
    char buf[32];
    if (goal == Goal::kMaxMs) std::snprintf(buf, sizeof buf, "< %.0f ms", goal_value);
    else std::snprintf(buf, sizeof buf, ">= %.0fx", goal_value);
    return buf;
  }
};

// What one side did in one run of a class.
struct SideRun {
  double seconds = 0;
  uint64_t rows = 0;
  uint64_t checksum = 0;
  std::vector<uint32_t> rows_per_query;
};

SideRun RunSide(Statement& stmt, sqlite3* db, const SqlClass& c) {
  SideRun run;
  run.rows_per_query.reserve(c.queries.size());
  Stopwatch clock;
  for (const Params& params : c.queries) {
    stmt.Bind(params);
    uint32_t rows = 0;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      run.checksum += ReadRow(stmt.get());
      ++rows;
    }
    if (rc != SQLITE_DONE) FailSql(db, "'" + c.sql.substr(0, 200) + "' with " + Describe(params));
    run.rows += rows;
    run.rows_per_query.push_back(rows);
  }
  run.seconds = clock.Seconds();
  sqlite3_reset(stmt.get());  // the statement holds no snapshot between runs
  return run;
}

struct ClassFigures {
  std::vector<double> legacy_ms;  // per query, one value per run
  std::vector<double> store_ms;
  uint64_t rows_per_run = 0;
  bool match = true;
  bool skipped = false;
  std::string skip_reason;
};

// ---- building the two databases ----------------------------------------------

constexpr int kPlaylists = 200;
constexpr int kEntriesPerPlaylist = 50;
constexpr int64_t kPlaylistTime = 1'700'000'000;

// Loads the N generated records into the store (durable batches, then
// CompactIndexes) and into the legacy database (one transaction), and the
// same playlists into both. Both number media files, playlists and entries
// 1, 2, ... in load order.
void BuildBoth(const SqlBenchOptions& options, const std::string& store_dir, const std::string& db_path) {
  std::unique_ptr<Store> store;
  CheckOk(Store::Open(store_dir, StoreOptionsWithBudget(0), &store), "Store::Open('" + store_dir + "')");
  std::unique_ptr<LegacyDb> db = LegacyDb::Create(db_path);
  {
    BatchedStoreWriter writer(store.get());
    LibraryGenerator generator(options.seed, options.records);
    GeneratedRecord record;
    db->Begin();
    while (generator.Next(&record)) {
      const MediaFileFields fields = record.fields();
      db->Insert(fields);
      writer.Put(fields);
    }
    writer.Flush();
    db->Commit();
  }

  // Playlists: 200 of 50 distinct random media files each (fewer when N is
  // small), positions 0, 1, ...
  std::mt19937_64 rng(options.seed ^ 0x9A71157);
  const int per_playlist = static_cast<int>(std::min<uint64_t>(kEntriesPerPlaylist, options.records));
  std::vector<std::vector<int64_t>> members(kPlaylists);
  for (auto& ids : members) {
    while (ids.size() < size_t(per_playlist)) {
      const int64_t id = 1 + static_cast<int64_t>(rng() % options.records);
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
  }
  std::vector<std::string> names;
  for (int p = 0; p < kPlaylists; ++p) names.push_back("Playlist " + std::to_string(p + 1));

  db->Begin();
  {
    Statement put_playlist(db->handle(),
                           "INSERT INTO playlists (name, description, created_at, updated_at) VALUES (?, ?, ?, ?)");
    Statement put_entry(db->handle(),
                        "INSERT INTO playlist_entries (playlist_id, media_file_id, position, created_at) "
                        "VALUES (?, ?, ?, ?)");
    for (int p = 0; p < kPlaylists; ++p) {
      put_playlist.Bind({Param::Text(names[size_t(p)]), Param::Text("generated"), Param::Int(kPlaylistTime),
                         Param::Int(kPlaylistTime)});
      if (sqlite3_step(put_playlist.get()) != SQLITE_DONE) FailSql(db->handle(), "insert playlist");
      const int64_t playlist_id = sqlite3_last_insert_rowid(db->handle());
      for (int e = 0; e < per_playlist; ++e) {
        put_entry.Bind({Param::Int(playlist_id), Param::Int(members[size_t(p)][size_t(e)]), Param::Int(e),
                        Param::Int(kPlaylistTime)});
        if (sqlite3_step(put_entry.get()) != SQLITE_DONE) FailSql(db->handle(), "insert playlist entry");
      }
    }
  }
  db->Commit();

  WriteBatch batch;
  for (int p = 0; p < kPlaylists; ++p) {
    PlaylistFields f;
    f.name = names[size_t(p)];
    f.description = std::string_view("generated");
    f.created_at = f.updated_at = kPlaylistTime;
    batch.PutPlaylist(f);
  }
  std::vector<int64_t> playlist_ids;
  CheckOk(store->Write(batch, &playlist_ids), "Store::Write (playlists)");
  for (int p = 0; p < kPlaylists; ++p) {
    for (int e = 0; e < per_playlist; ++e) {
      PlaylistEntryFields f;
      f.playlist_id = playlist_ids[size_t(p)];
      f.media_file_id = members[size_t(p)][size_t(e)];
      f.position = e;
      f.created_at = kPlaylistTime;
      batch.PutPlaylistEntry(f);
    }
    if (batch.size() >= 2000) CheckOk(store->Write(batch), "Store::Write (playlist entries)");
  }
  if (!batch.empty()) CheckOk(store->Write(batch), "Store::Write (playlist entries)");
  CheckOk(store->CompactIndexes(), "Store::CompactIndexes");
}

// ---- parameters ---------------------------------------------------------------

// Sampled with a fixed seed from the legacy database (untimed): the same
// parameters go to both sides.
class Sampler {
 public:
  Sampler(sqlite3* db, uint64_t records, uint64_t seed) : db_(db), records_(records), rng_(seed ^ 0x5C1) {}

  int64_t RandomId() { return 1 + static_cast<int64_t>(rng_() % records_); }

  // Column `column` (text) of the record with id `id`.
  std::string TextOf(int64_t id, const char* column) {
    auto& stmt = text_by_id_[column];
    if (!stmt) stmt = std::make_unique<Statement>(db_, std::string("SELECT ") + column + " FROM media_files WHERE id = ?");
    stmt->Bind({Param::Int(id)});
    if (sqlite3_step(stmt->get()) != SQLITE_ROW) FailSql(db_, "sampling record " + std::to_string(id));
    const unsigned char* t = sqlite3_column_text(stmt->get(), 0);
    std::string out = t ? reinterpret_cast<const char*>(t) : "";
    sqlite3_reset(stmt->get());
    return out;
  }

  // `count` values drawn (with replacement) from the distinct values of a
  // query's first column.
  std::vector<Param> FromQuery(const std::string& sql, size_t count) {
    Statement stmt(db_, sql);
    std::vector<Param> values;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      if (sqlite3_column_type(stmt.get(), 0) == SQLITE_INTEGER)
        values.push_back(Param::Int(sqlite3_column_int64(stmt.get(), 0)));
      else
        values.push_back(Param::Text(reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0))));
    }
    if (rc != SQLITE_DONE) FailSql(db_, "sampling: " + sql);
    std::vector<Param> out;
    for (size_t i = 0; i < count && !values.empty(); ++i) out.push_back(values[rng_() % values.size()]);
    return out;
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  sqlite3* db_;
  uint64_t records_;
  std::mt19937_64 rng_;
  std::map<std::string, std::unique_ptr<Statement>> text_by_id_;
};

std::vector<SqlClass> MakeClasses(sqlite3* legacy, const SqlBenchOptions& options) {
  Sampler sample(legacy, options.records, options.seed);
  std::vector<SqlClass> classes;
  auto add = [&](std::string key, std::string name, std::string sql, Goal goal, double goal_value) -> SqlClass& {
    if (!IsClassKey(key)) throw BenchError("internal: class key '" + key + "' missing from kClassKeys");
    SqlClass c;
    c.key = std::move(key);
    c.name = std::move(name);
    c.sql = std::move(sql);
    c.goal = goal;
    c.goal_value = goal_value;
    classes.push_back(std::move(c));
    return classes.back();
  };
  auto repeat = [](SqlClass& c, int times) { c.queries.assign(size_t(times), Params{}); };
  auto one_each = [](SqlClass& c, const std::vector<Param>& values) {
    for (const Param& v : values) c.queries.push_back({v});
  };

  // Point lookups.
  {
    SqlClass& c = add("path_lookup", "point lookup by canonical_path",
                      "SELECT * FROM media_files WHERE canonical_path = ?", Goal::kSpeedup, 2);
    for (int i = 0; i < 10'000; ++i) c.queries.push_back({Param::Text(sample.TextOf(sample.RandomId(), "canonical_path"))});
  }
  {
    SqlClass& c = add("id_lookup", "point lookup by id", "SELECT * FROM media_files WHERE id = ?", Goal::kSpeedup, 2);
    for (int i = 0; i < 10'000; ++i) c.queries.push_back({Param::Int(sample.RandomId())});
  }
  {
    const size_t values = std::min<uint64_t>(500, options.records);
    std::string sql = "SELECT * FROM media_files WHERE canonical_path IN (";
    for (size_t i = 0; i < values; ++i) sql += i ? ", ?" : "?";
    sql += ") ORDER BY canonical_path";
    SqlClass& c = add("path_in_500", "canonical_path IN (500 values)", sql, Goal::kSpeedup, 2);
    for (int q = 0; q < 20; ++q) {
      Params params;
      for (size_t i = 0; i < values; ++i) params.push_back(Param::Text(sample.TextOf(sample.RandomId(), "canonical_path")));
      c.queries.push_back(std::move(params));
    }
  }

  // Directory browsing: parents of uniformly sampled records (big folders
  // come up more often, as in bench lookup).
  {
    SqlClass& c = add("dir_listing", "directory listing",
                      "SELECT * FROM media_files WHERE canonical_parent_path = ? ORDER BY filename LIMIT 1000",
                      Goal::kSpeedup, 2);
    for (int i = 0; i < 2'000; ++i)
      c.queries.push_back({Param::Text(sample.TextOf(sample.RandomId(), "canonical_parent_path"))});
  }
  {
    SqlClass& c = add("dir_video", "directory, mime_type LIKE 'video%'",
                      "SELECT * FROM media_files WHERE canonical_parent_path = ? AND mime_type LIKE 'video%' "
                      "ORDER BY filename LIMIT 1000",
                      Goal::kSpeedup, 2);
    // Folders holding video (parents of sampled video records), so that
    // the filter leaves rows to read.
    for (int i = 0, tries = 0; i < 2'000 && tries < 200'000; ++tries) {
      const int64_t id = sample.RandomId();
      if (sample.TextOf(id, "mime_type").rfind("video", 0) != 0) continue;
      c.queries.push_back({Param::Text(sample.TextOf(id, "canonical_parent_path"))});
      ++i;
    }
  }
  {
    SqlClass& c = add("subdirectories", "subdirectories (DISTINCT, LIKE ? || '/%')",
                      "SELECT DISTINCT canonical_parent_path, parent_path FROM media_files "
                      "WHERE canonical_parent_path LIKE ? || '/%' AND canonical_parent_path != ?",
                      Goal::kSpeedup, 1);
    // The folder above a sampled record's folder: an artist, a show, a
    // photo year, the movies folder.
    for (int i = 0; i < 10; ++i) {
      std::string dir = sample.TextOf(sample.RandomId(), "canonical_parent_path");
      const size_t slash = dir.rfind('/');
      if (slash != std::string::npos && slash > 0) dir.resize(slash);
      c.queries.push_back({Param::Text(dir), Param::Text(dir)});
    }
  }

  // Music categories.
  for (const char* column : {"artist", "album", "genre", "album_artist"}) {
    const std::string col = column;
    SqlClass& c = add(col + "_listing", col + " listing",
                      "SELECT " + col + ", COUNT(*) FROM media_files WHERE mime_type LIKE 'audio/%' AND " + col +
                          " IS NOT NULL AND " + col + " != '' GROUP BY " + col + " ORDER BY " + col +
                          " COLLATE NOCASE",
                      Goal::kSpeedup, 5);
    repeat(c, 2);
  }
  {
    SqlClass& c = add("year_listing", "year listing",
                      "SELECT year, COUNT(*) FROM media_files WHERE mime_type LIKE 'audio/%' AND year IS NOT NULL "
                      "GROUP BY year ORDER BY year DESC",
                      Goal::kSpeedup, 5);
    repeat(c, 2);
  }
  struct Tracks {
    const char* column;
    const char* order;
    int queries;
  };
  for (const Tracks& t : {Tracks{"artist", "album, track_number, filename", 500},
                          Tracks{"album", "track_number, filename", 500},
                          Tracks{"genre", "artist, album, track_number, filename", 20},
                          Tracks{"year", "artist, album, track_number, filename", 10}}) {
    const std::string col = t.column;
    SqlClass& c = add(col + "_tracks", "tracks of one " + col,
                      "SELECT * FROM media_files WHERE mime_type LIKE 'audio/%' AND " + col + " = ? ORDER BY " +
                          t.order,
                      Goal::kSpeedup, 1);
    // Uniform over the distinct values (of tagged audio), seeded.
    one_each(c, sample.FromQuery("SELECT DISTINCT " + col + " FROM media_files WHERE mime_type LIKE 'audio/%' AND " +
                                     col + " IS NOT NULL AND " + col + " != '' ORDER BY 1",
                                 size_t(t.queries)));
  }
  {
    SqlClass& c = add("playlist_tracks", "playlist tracks (JOIN)",
                      "SELECT m.* FROM media_files m JOIN playlist_entries pe ON m.id = pe.media_file_id "
                      "WHERE pe.playlist_id = ? ORDER BY pe.position",
                      Goal::kSpeedup, 1);
    c.needs_playlists = true;
    Statement ids(legacy, "SELECT id FROM playlists ORDER BY id");
    while (sqlite3_step(ids.get()) == SQLITE_ROW) c.queries.push_back({Param::Int(sqlite3_column_int64(ids.get(), 0))});
  }

  // Whole-table queries.
  repeat(add("full_scan", "full scan ORDER BY filename", "SELECT * FROM media_files ORDER BY filename",
             Goal::kSpeedup, 1),
         1);
  repeat(add("count", "COUNT(*)", "SELECT COUNT(*) FROM media_files", Goal::kMaxMs, 20), 20);
  repeat(add("count_size", "COUNT(*), SUM(size)", "SELECT COUNT(*), COALESCE(SUM(size),0) FROM media_files",
             Goal::kSpeedup, 1),
         3);
  return classes;
}

// ---- INSERT ... SELECT ------------------------------------------------------------

const std::string kInsertSelectSql = std::string("INSERT INTO media_files (") + kAllColumns + ") SELECT " +
                                     kAllColumns + " FROM src.media_files";

// An empty zcmedia media_files table over a fresh store in `store_dir`,
// with the legacy database attached as `src`.
DbHandle OpenStoreTarget(const std::string& store_dir, const std::string& source_db) {
  DbHandle db(OpenDb(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  char* error = nullptr;
  if (zcmedia_register(db.get(), &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    throw BenchError("zcmedia_register: " + message);
  }
  Exec(db.get(), "CREATE VIRTUAL TABLE media_files USING zcmedia(store=" + Quote(store_dir) + ", kind='media_files')");
  Exec(db.get(), "ATTACH DATABASE " + Quote(source_db) + " AS src");
  return db;
}

// One INSERT ... SELECT of every source row into an empty target: rows per
// second, or nullopt with *error set when the statement fails.
std::optional<double> TimeInsertSelect(sqlite3* db, uint64_t records, std::string* error) {
  Statement insert(db, kInsertSelectSql);
  Stopwatch clock;
  const int rc = sqlite3_step(insert.get());
  const double seconds = clock.Seconds();
  if (rc != SQLITE_DONE) {
    *error = std::string(sqlite3_errstr(sqlite3_extended_errcode(db))) + ": " + sqlite3_errmsg(db);
    return std::nullopt;
  }
  const int64_t changes = sqlite3_changes64(db);
  if (uint64_t(changes) != records)
    throw BenchError("INSERT ... SELECT inserted " + std::to_string(changes) + " rows, want " +
                     std::to_string(records) + ": " + kInsertSelectSql);
  return double(records) / seconds;
}

double LegacyInsertSelect(const std::string& dir, const std::string& source_db, uint64_t records) {
  TempDir target(dir, "zcmedia-sql-insert-");
  std::unique_ptr<LegacyDb> db = LegacyDb::Create(target.path() + "/media.db");
  Exec(db->handle(), "ATTACH DATABASE " + Quote(source_db) + " AS src");
  SyncFilesystems();
  std::string error;
  std::optional<double> rate = TimeInsertSelect(db->handle(), records, &error);
  if (!rate) throw BenchError("legacy INSERT ... SELECT: " + error);
  return *rate;
}

std::optional<double> StoreInsertSelect(const std::string& dir, const std::string& source_db, uint64_t records,
                                        std::string* error) {
  TempDir target(dir, "zcmedia-sql-insert-");
  DbHandle db = OpenStoreTarget(target.path() + "/store", source_db);
  SyncFilesystems();
  return TimeInsertSelect(db.get(), records, error);
}

// ---- formatting -----------------------------------------------------------------

std::string FormatMs(double ms) {
  char buf[32];
  if (!std::isfinite(ms)) return "n/a";
  if (ms < 1) std::snprintf(buf, sizeof buf, "%.3g µs", ms * 1000);
  else if (ms < 1000) std::snprintf(buf, sizeof buf, "%.3g ms", ms);
  else std::snprintf(buf, sizeof buf, "%.3g s", ms / 1000);
  return buf;
}

void PrintPlans(sqlite3* legacy, sqlite3* store, const SqlClass& c) {
  const Params& params = c.queries.empty() ? Params{} : c.queries.front();
  std::printf("\n%s: %s\n  parameters: %s\n", c.name.c_str(), c.sql.substr(0, 160).c_str(), Describe(params).c_str());
  for (auto [side, db] : {std::pair{"legacy", legacy}, std::pair{"store ", store}}) {
    std::printf("  %s plan:\n", side);
    for (const std::string& line : ExplainQueryPlan(db, c.sql, params)) std::printf("    %s\n", line.c_str());
  }
}

}  // namespace

int RunSqlBench(const SqlBenchOptions& options) {
  if (options.records == 0) throw BenchError("--records must be at least 1");
  if (options.runs < 1) throw BenchError("--runs must be at least 1");
  for (const std::string& key : options.skip) {
    if (IsClassKey(key)) continue;
    std::string known;
    for (const char* k : kClassKeys) known += std::string(known.empty() ? "" : ", ") + k;
    throw BenchError("--skip: no class '" + key + "' (classes: " + known + ")");
  }

  TempDir temp(options.dir, "zcmedia-sql-");
  const std::string store_dir = temp.path() + "/store";
  const std::string db_path = temp.path() + "/media.db";
  std::printf("bench sql: %s records (seed %llu), %d run%s; the legacy server's SQL on the legacy table and on "
              "zcmedia virtual tables, same statements, same parameters\n",
              FormatThousands(options.records).c_str(), static_cast<unsigned long long>(options.seed), options.runs,
              options.runs == 1 ? "" : "s");
  std::fflush(stdout);

  Stopwatch build_clock;
  BuildBoth(options, store_dir, db_path);
  std::printf("  built store and legacy database (%d playlists of %d entries each side) in %.1f s (untimed)\n",
              kPlaylists, kEntriesPerPlaylist, build_clock.Seconds());
  SyncFilesystems();
  if (options.restart) EvictAsAfterARestart(temp.path());

  // (a) the legacy database as the server opens it, read-only here.
  std::unique_ptr<LegacyDb> legacy = LegacyDb::OpenReadOnly(db_path);
  // (b) a database whose tables are zcmedia virtual tables over the store.
  // A file database with the legacy server's connection settings (WAL,
  // 2 MB cache, ...), as a server's converted media.db would be: SQLite
  // takes a read transaction on it for every statement, as on the legacy file.
  DbHandle vtab(OpenDb(temp.path() + "/vtab.db", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  Exec(vtab.get(), kLegacyConnectionPragmas);
  {
    char* error = nullptr;
    if (zcmedia_register(vtab.get(), &error) != SQLITE_OK) {
      std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      throw BenchError("zcmedia_register: " + message);
    }
  }
  Exec(vtab.get(), "CREATE VIRTUAL TABLE media_files USING zcmedia(store=" + Quote(store_dir) + ", kind='media_files')");
  std::string playlists_missing;
  for (const char* kind : {"playlists", "playlist_entries"}) {
    const std::string error = TryExec(vtab.get(), std::string("CREATE VIRTUAL TABLE ") + kind +
                                                      " USING zcmedia(store=" + Quote(store_dir) + ", kind='" + kind +
                                                      "')");
    if (!error.empty() && playlists_missing.empty()) playlists_missing = error;
  }
  if (!playlists_missing.empty())
    std::printf("  note: the playlist tables are not available in the extension yet (%s): the playlist class is "
                "skipped\n",
                playlists_missing.c_str());

  std::vector<SqlClass> classes = MakeClasses(legacy->handle(), options);
  std::vector<ClassFigures> figures(classes.size());
  // Statements prepared once per side, reused across runs.
  std::vector<std::unique_ptr<Statement>> legacy_stmts(classes.size()), store_stmts(classes.size());
  for (size_t i = 0; i < classes.size(); ++i) {
    if (std::find(options.skip.begin(), options.skip.end(), classes[i].key) != options.skip.end()) {
      figures[i].skipped = true;
      figures[i].skip_reason = "skipped (--skip)";
      continue;
    }
    if (classes[i].needs_playlists && !playlists_missing.empty()) {
      figures[i].skipped = true;
      figures[i].skip_reason = "n/a (playlist tables not available)";
      continue;
    }
    legacy_stmts[i] = std::make_unique<Statement>(legacy->handle(), classes[i].sql);
    store_stmts[i] = std::make_unique<Statement>(vtab.get(), classes[i].sql);
  }

  // INSERT ... SELECT: probed once on a throwaway store; while the
  // extension refuses writes the class is reported n/a.
  std::string insert_unavailable;
  {
    std::string error;
    TempDir probe(options.dir, "zcmedia-sql-probe-");
    DbHandle db = OpenStoreTarget(probe.path() + "/store", db_path);
    if (sqlite3_exec(db.get(), (kInsertSelectSql + " WHERE id = 1").c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
      insert_unavailable = std::string(sqlite3_errstr(sqlite3_extended_errcode(db.get()))) + ": " +
                           sqlite3_errmsg(db.get());
  }
  if (!insert_unavailable.empty())
    std::printf("  note: INSERT INTO media_files SELECT ... fails on the virtual table (%s): reported as n/a (writes "
                "not available)\n",
                insert_unavailable.c_str());
  std::vector<double> insert_legacy, insert_store;

  if (options.restart) {
    // The warm-up: each side reads what the statements need through its own
    // read path (the store's mappings, SQLite's reads), untimed.
    Stopwatch warm_clock;
    for (size_t i = 0; i < classes.size(); ++i) {
      if (figures[i].skipped) continue;
      RunSide(*store_stmts[i], vtab.get(), classes[i]);
      RunSide(*legacy_stmts[i], legacy->handle(), classes[i]);
    }
    std::printf("  warm-up run of every class on both sides: %.1f s (untimed)\n", warm_clock.Seconds());
  } else {
    WarmPageCache(temp.path());
  }

  bool all_match = true;
  for (int run = 0; run < options.runs; ++run) {
    for (size_t i = 0; i < classes.size(); ++i) {
      const SqlClass& c = classes[i];
      ClassFigures& f = figures[i];
      if (f.skipped) continue;
      SideRun a, b;
      if (run % 2 == 0) {
        b = RunSide(*store_stmts[i], vtab.get(), c);
        a = RunSide(*legacy_stmts[i], legacy->handle(), c);
      } else {
        a = RunSide(*legacy_stmts[i], legacy->handle(), c);
        b = RunSide(*store_stmts[i], vtab.get(), c);
      }
      for (size_t q = 0; q < c.queries.size(); ++q) {
        if (a.rows_per_query[q] != b.rows_per_query[q]) {
          std::string plans;
          for (auto [side, db] : {std::pair{"legacy", legacy->handle()}, std::pair{"store", vtab.get()}}) {
            plans += std::string("\n  EXPLAIN QUERY PLAN, ") + side + ":";
            for (const std::string& line : ExplainQueryPlan(db, c.sql, c.queries[q])) plans += "\n    " + line;
          }
          std::fflush(stdout);
          throw BenchError("CORRECTNESS BUG: class '" + c.name + "' (" + c.key + "): the legacy table returned " +
                           std::to_string(a.rows_per_query[q]) + " rows, the zcmedia virtual tables " +
                           std::to_string(b.rows_per_query[q]) + ", for\n  " + c.sql + "\n  with parameters " +
                           Describe(c.queries[q]) + plans +
                           "\n  (--skip " + c.key + " measures the other classes)");
        }
      }
      if (a.checksum != b.checksum) {
        if (f.match)
          std::printf("  RESULTS DIFFER: class '%s': same row counts, different rows (checksum %016llx vs "
                      "%016llx)\n    %s\n",
                      c.name.c_str(), static_cast<unsigned long long>(a.checksum),
                      static_cast<unsigned long long>(b.checksum), c.sql.c_str());
        f.match = false;
        all_match = false;
      }
      const double queries = double(c.queries.size());
      f.legacy_ms.push_back(a.seconds * 1000 / queries);
      f.store_ms.push_back(b.seconds * 1000 / queries);
      f.rows_per_run = a.rows;
      std::printf("  run %d/%d %s legacy %s store %s (%zu quer%s, %s rows)\n", run + 1, options.runs,
                  PadRight(c.name, 42).c_str(), PadRight(FormatMs(f.legacy_ms.back()), 10).c_str(),
                  PadRight(FormatMs(f.store_ms.back()), 10).c_str(),
                  c.queries.size(), c.queries.size() == 1 ? "y" : "ies", FormatThousands(a.rows).c_str());
      std::fflush(stdout);
    }
    if (insert_unavailable.empty()) {
      std::string error;
      std::optional<double> store_rate;
      double legacy_rate;
      if (run % 2 == 0) {
        store_rate = StoreInsertSelect(options.dir, db_path, options.records, &error);
        legacy_rate = LegacyInsertSelect(options.dir, db_path, options.records);
      } else {
        legacy_rate = LegacyInsertSelect(options.dir, db_path, options.records);
        store_rate = StoreInsertSelect(options.dir, db_path, options.records, &error);
      }
      if (!store_rate) throw BenchError("INSERT ... SELECT on the virtual table failed after the probe worked: " + error);
      insert_legacy.push_back(legacy_rate);
      insert_store.push_back(*store_rate);
      std::printf("  run %d/%d %-42s legacy %-10s store %-10s rows/s\n", run + 1, options.runs,
                  "INSERT INTO media_files SELECT ...", FormatSi(legacy_rate).c_str(), FormatSi(*store_rate).c_str());
      std::fflush(stdout);
    }
  }

  // ---- the table ----
  std::printf("\nmedian of %d run%s, time per query (rows/s for INSERT ... SELECT); ratio = legacy time / store "
              "time (store speed over legacy)\n",
              options.runs, options.runs == 1 ? "" : "s");
  std::printf("%s %-12s %-12s %-8s %-10s %s\n", PadRight("class", 44).c_str(), "legacy", "store", "ratio", "target",
              "met");
  JsonLine json;
  json.Add("bench", "sql")
      .Add("records", options.records)
      .Add("runs", options.runs)
      .Add("seed", options.seed)
      .Add("page_cache", options.restart ? "restart" : "as-written");
  bool all_met = true;
  std::vector<size_t> missed;
  for (size_t i = 0; i < classes.size(); ++i) {
    const SqlClass& c = classes[i];
    const ClassFigures& f = figures[i];
    if (f.skipped) {
      std::printf("%s %s\n", PadRight(c.name, 44).c_str(), f.skip_reason.c_str());
      json.Add(c.key, f.skip_reason);
      continue;
    }
    const double legacy_ms = Summarize(f.legacy_ms).median;
    const double store_ms = Summarize(f.store_ms).median;
    const double ratio = legacy_ms / store_ms;
    const bool met = c.goal == Goal::kMaxMs ? store_ms < c.goal_value : ratio >= c.goal_value;
    all_met = all_met && met;
    if (!met || ratio < 1) missed.push_back(i);
    char ratio_text[32];
    std::snprintf(ratio_text, sizeof ratio_text, "%.2fx", ratio);
    std::printf("%s %s %s %-8s %-10s %s%s\n", PadRight(c.name, 44).c_str(), PadRight(FormatMs(legacy_ms), 12).c_str(),
                PadRight(FormatMs(store_ms), 12).c_str(), ratio_text, c.TargetText().c_str(), met ? "yes" : "NO",
                ratio < 1 ? "  (slower than legacy)" : "");
    json.Add("sqlite_" + c.key + "_ms", legacy_ms)
        .Add("store_" + c.key + "_ms", store_ms)
        .Add(c.key + "_ratio", ratio)
        .Add(c.key + "_rows_per_query", double(f.rows_per_run) / double(c.queries.size()))
        .Add(c.key + "_target_met", met);
  }
  {
    const std::string name = "INSERT INTO media_files SELECT ... (rows/s)";
    if (!insert_unavailable.empty()) {
      std::printf("%s n/a (writes not available)%s\n", PadRight(name, 44).c_str(), "");
      json.Add("insert_select", "n/a (writes not available)");
    } else {
      const double legacy_rate = Summarize(insert_legacy).median;
      const double store_rate = Summarize(insert_store).median;
      const double ratio = store_rate / legacy_rate;
      const bool met = ratio >= 20;
      all_met = all_met && met;
      char ratio_text[32];
      std::snprintf(ratio_text, sizeof ratio_text, "%.2fx", ratio);
      std::printf("%s %-12s %-12s %-8s %-10s %s\n", PadRight(name, 44).c_str(), FormatSi(legacy_rate).c_str(),
                  FormatSi(store_rate).c_str(), ratio_text, ">= 20x", met ? "yes" : "NO");
      json.Add("sqlite_insert_select_per_s", legacy_rate)
          .Add("store_insert_select_per_s", store_rate)
          .Add("insert_select_ratio", ratio)
          .Add("insert_select_target_met", met);
    }
  }
  std::printf("targets: every class >= 1x; point lookups and directory listings >= 2x; category listings >= 5x; "
              "COUNT(*) < 20 ms; INSERT ... SELECT >= 20x\n");

  // The plans of the classes that miss their target or are slower than the
  // legacy table (all of them with --plans): what the vtab author needs.
  if (options.plans) {
    missed.clear();
    for (size_t i = 0; i < classes.size(); ++i)
      if (!figures[i].skipped) missed.push_back(i);
  }
  if (!missed.empty()) {
    std::printf("\nEXPLAIN QUERY PLAN, both sides, of the classes %s:\n",
                options.plans ? "(all, --plans)" : "that miss their target or are slower than legacy");
    for (size_t i : missed) PrintPlans(legacy->handle(), vtab.get(), classes[i]);
  }

  json.Add("all_targets_met", all_met).Add("results_match", all_match);
  if (!all_match) std::printf("error: the legacy table and the virtual tables returned different rows (see above)\n");
  // Statements go before their connections.
  legacy_stmts.clear();
  store_stmts.clear();
  const bool regressed = !options.baseline.empty() && CompareWithBaseline(options.baseline, json) > 0;
  if (options.json) std::printf("%s\n", json.ToString().c_str());
  if (!all_match) return 1;
  return regressed ? kRegressionExitCode : 0;
}

}  // namespace zcmedia::bench
