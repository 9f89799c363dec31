#include "store_commands.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <vector>

#include "elapsed_line.h"
#include "json_string.h"
#include "library.h"
#include "zcmedia/check.h"
#include "zcmedia/stats.h"
#include "zcmedia/store.h"

namespace zcmedia::shell {

namespace {
constexpr int kProblems = 1;
constexpr int kCannotRun = 2;

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "zcmedia: %s: %s\n", what.c_str(), s.ToString().c_str());
  return kCannotRun;
}

// Store::Open's NotFound advises creating a store ("opening it for
// writing"), which stats and compact never do: theirs names the directory
// and what to give instead.
Status OpenError(const std::string& dir, const Status& s) {
  if (!s.IsNotFound() || s.message().find("no META file") == std::string::npos) return s;
  return Status::NotFound(dir + " is not a zcmedia store (no META file): give a store directory or a library "
                                "file (LIB.db)");
}

// The store a command works on, and the library file when it was given one
// (empty for a store directory).
struct Target {
  std::string store_dir;
  std::string library;
};

// A missing path is NotFound naming it (the store's own error would advise
// creating a store, which these commands never do).
Status ResolveTarget(const std::string& arg, Target* target) {
  struct stat st;
  if (stat(arg.c_str(), &st) != 0 && errno == ENOENT) {
    return Status::NotFound(arg + " does not exist: no zcmedia store here; give a store directory or a library "
                                  "file (LIB.db)");
  }
  if (stat(arg.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) {
    target->store_dir = arg;
    return Status::OK();
  }
  target->library = arg;
  return scan::ResolveStoreArgument(arg, &target->store_dir);
}

// How a command names what it works on: "lib.db (store lib.zcmedia)" or the
// store directory.
std::string Describe(const Target& t) {
  return t.library.empty() ? t.store_dir : t.library + " (store " + t.store_dir + ")";
}

// One statement's single integer, or an error naming `sql`.
Status QueryInt(sqlite3* db, const std::string& sql, int64_t* value) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) *value = sqlite3_column_int64(stmt, 0);
  Status s = rc == SQLITE_ROW ? Status::OK() : Status::IOError(sqlite3_errmsg(db));
  sqlite3_finalize(stmt);
  return s;
}

// Steps `sql` to its end (or its first row when !all), counting rows.
Status ReadRows(sqlite3* db, const std::string& sql, bool all, uint64_t* rows) {
  *rows = 0;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      ++*rows;
      if (!all) {
        rc = SQLITE_DONE;
        break;
      }
    }
  }
  Status s = rc == SQLITE_DONE ? Status::OK() : Status::IOError(sqlite3_errmsg(db));
  sqlite3_finalize(stmt);
  return s;
}

// The library file's own checks (a problem is a line and *ok = false):
// PRAGMA quick_check, and each virtual table read through the extension.
// Not OK only when the file cannot be opened at all.
Status CheckLibraryFile(const std::string& path, bool deep, bool* ok) {
  sqlite3* db = nullptr;
  ZC_RETURN_IF_ERROR(scan::OpenLibraryDatabase(path, /*read_only=*/true, &db));
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  std::vector<std::string> messages;
  int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      messages.push_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
    }
  }
  if (rc != SQLITE_DONE) messages.push_back(sqlite3_errmsg(db));
  sqlite3_finalize(stmt);
  if (messages.size() == 1 && messages[0] == "ok") {
    std::printf("%s: quick_check ok\n", path.c_str());
  } else {
    *ok = false;
    for (const std::string& m : messages) std::printf("%s: quick_check: %s\n", path.c_str(), m.c_str());
    std::printf("%s: the SQLite file is damaged: restore it from a backup (the store is checked above)\n",
                path.c_str());
  }
  for (const char* table : {"media_files", "playlists", "playlist_entries"}) {
    int64_t declared = 0;
    Status s = QueryInt(db,
                        std::string("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '") + table +
                            "' AND sql LIKE 'CREATE VIRTUAL TABLE%'",
                        &declared);
    if (s.ok() && declared == 0) {
      *ok = false;
      std::printf("%s: no %s virtual table: the media server's queries of it will fail\n", path.c_str(), table);
      continue;
    }
    int64_t count = 0;
    uint64_t rows = 0;
    if (s.ok()) s = QueryInt(db, std::string("SELECT count(*) FROM ") + table, &count);
    // count(*) walks ids only; reading rows reads (and verifies) records.
    if (s.ok()) s = ReadRows(db, std::string("SELECT * FROM ") + table, deep, &rows);
    if (s.ok() && deep && rows != static_cast<uint64_t>(count))
      s = Status::Corruption("count(*) says " + std::to_string(count) + " rows, reading them gave " +
                             std::to_string(rows));
    if (s.ok()) {
      std::printf("%s: %s readable (%lld rows%s)\n", path.c_str(), table, static_cast<long long>(count),
                  deep ? ", every row read" : "");
    } else {
      *ok = false;
      std::printf("%s: %s unreadable: %s\n", path.c_str(), table, s.message().c_str());
    }
  }
  sqlite3_close(db);
  return Status::OK();
}

// The music categories of a store, for stats.
struct CategorySummary {
  struct Top {
    std::string name;
    uint64_t tracks;
  };
  uint64_t artists = 0, albums = 0, album_artists = 0, genres = 0, years = 0;
  int64_t first_year = 0, last_year = 0;
  std::vector<Top> top_artists, top_albums, top_genres;
};

constexpr size_t kTopCategories = 5;

Status SummarizeCategories(Store& store, CategorySummary* out) {
  std::shared_ptr<const Snapshot> snapshot = store.GetSnapshot();
  std::vector<CategoryCount> values;
  const auto top = [&](std::vector<CategorySummary::Top>* list) {
    std::vector<CategoryCount> sorted = values;
    const size_t n = std::min(kTopCategories, sorted.size());
    std::partial_sort(sorted.begin(), sorted.begin() + n, sorted.end(),
                      [](const CategoryCount& a, const CategoryCount& b) {
                        return a.tracks != b.tracks ? a.tracks > b.tracks : a.name < b.name;
                      });
    for (size_t i = 0; i < n; ++i) list->push_back({std::string(sorted[i].name), sorted[i].tracks});
  };
  ZC_RETURN_IF_ERROR(snapshot->ListCategory(Category::kArtist, &values));
  out->artists = values.size();
  top(&out->top_artists);
  ZC_RETURN_IF_ERROR(snapshot->ListCategory(Category::kAlbum, &values));
  out->albums = values.size();
  top(&out->top_albums);
  ZC_RETURN_IF_ERROR(snapshot->ListCategory(Category::kGenre, &values));
  out->genres = values.size();
  top(&out->top_genres);
  ZC_RETURN_IF_ERROR(snapshot->ListCategory(Category::kAlbumArtist, &values));
  out->album_artists = values.size();
  ZC_RETURN_IF_ERROR(snapshot->ListCategory(Category::kYear, &values));
  out->years = values.size();
  for (const CategoryCount& y : values) {  // newest first, but take no order for granted
    if (out->first_year == 0 || y.year < out->first_year) out->first_year = y.year;
    if (out->last_year == 0 || y.year > out->last_year) out->last_year = y.year;
  }
  return Status::OK();
}

std::string TopText(const std::vector<CategorySummary::Top>& top) {
  std::string out;
  for (const auto& t : top) {
    if (!out.empty()) out += ", ";
    out += t.name + " (" + std::to_string(t.tracks) + ")";
  }
  return out.empty() ? "none" : out;
}

std::string TopJson(const std::vector<CategorySummary::Top>& top) {
  std::string out = "[";
  for (const auto& t : top) {
    if (out.size() > 1) out += ", ";
    out += "{\"name\": " + JsonString(t.name) + ", \"tracks\": " + std::to_string(t.tracks) + "}";
  }
  return out + "]";
}

std::string CategoriesJson(const CategorySummary& c) {
  const auto year = [](int64_t y, uint64_t n) { return n == 0 ? std::string("null") : std::to_string(y); };
  return "{\"artists\": " + std::to_string(c.artists) + ", \"albums\": " + std::to_string(c.albums) +
         ", \"album_artists\": " + std::to_string(c.album_artists) + ", \"genres\": " + std::to_string(c.genres) +
         ", \"years\": " + std::to_string(c.years) + ", \"first_year\": " + year(c.first_year, c.years) +
         ", \"last_year\": " + year(c.last_year, c.years) + ", \"top_artists\": " + TopJson(c.top_artists) +
         ", \"top_albums\": " + TopJson(c.top_albums) + ", \"top_genres\": " + TopJson(c.top_genres) + "}";
}

uint64_t FileBytes(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

}  // namespace

int RunCheck(const std::string& store_or_library, bool deep, bool repair) {
  Target target;
  Status s = ResolveTarget(store_or_library, &target);
  if (!s.ok()) return Fail("check " + store_or_library, s);
  const std::string& dir = target.store_dir;
  CheckReport report;
  {
    ElapsedLine line("checking " + dir);
    s = CheckStore(dir, deep, &report);
  }
  if (!s.ok()) return Fail("check " + Describe(target), s);
  std::printf("%s", report.ToString().c_str());
  // The library file is checked whatever the store's verdict: both are
  // reported before any repair.
  bool library_ok = true;
  if (!target.library.empty()) {
    s = CheckLibraryFile(target.library, deep, &library_ok);
    if (!s.ok()) return Fail("check " + target.library, s);
  }
  if (report.ok()) return library_ok ? 0 : kProblems;
  if (!repair) return kProblems;
  if (!report.repairable()) {
    std::printf("not repaired: damaged records or META cannot be rebuilt from the store itself\n");
    return kProblems;
  }
  std::printf("repairing: rebuilding the indexes from the segments...\n");
  {
    ElapsedLine line("rebuilding the indexes of " + dir);
    s = RepairIndexes(dir);
  }
  if (!s.ok()) return Fail("repair " + dir, s);
  {
    ElapsedLine line("checking " + dir);
    s = CheckStore(dir, /*deep=*/true, &report);
  }
  if (!s.ok()) return Fail("check " + dir + " after the repair", s);
  std::printf("after the repair: %s", report.ToString().c_str());
  return report.ok() && library_ok ? 0 : kProblems;
}

int RunStats(const std::string& store_or_library, StatsFormat format) {
  Target target;
  Status s = ResolveTarget(store_or_library, &target);
  if (!s.ok()) return Fail("open " + store_or_library, s);
  const std::string& dir = target.store_dir;
  Options options;
  options.read_only = true;
  options.create_if_missing = false;
  std::unique_ptr<Store> store;
  s = Store::Open(dir, options, &store);
  if (!s.ok()) return Fail("open " + Describe(target), OpenError(dir, s));
  const StoreStats stats = store->GetStats();
  CategorySummary categories;
  if (format != StatsFormat::kPrometheus) {
    s = SummarizeCategories(*store, &categories);
    if (!s.ok()) return Fail("list the music categories of " + Describe(target), s);
  }
  switch (format) {
    case StatsFormat::kJson: {
      // StatsToJson's keys stay at the top level (what scripts of the store
      // form read); the additions go before its closing brace.
      std::string json = StatsToJson(stats);
      std::string extra = "\"store_dir\": " + JsonString(dir) + ", \"categories\": " + CategoriesJson(categories);
      if (!target.library.empty()) {
        extra += ", \"library\": " + JsonString(target.library) +
                 ", \"library_bytes\": " + std::to_string(FileBytes(target.library));
      }
      const size_t close = json.rfind('}');
      if (close == std::string::npos) return Fail("stats of " + dir, Status::Corruption("no JSON object"));
      const size_t last = json.find_last_not_of(" \n\t", close - 1);
      json.insert(close, (last != std::string::npos && json[last] == '{' ? "" : ", ") + extra);
      std::printf("%s\n", json.c_str());
      break;
    }
    case StatsFormat::kPrometheus:
      std::printf("%s", StatsToPrometheus(stats).c_str());
      break;
    case StatsFormat::kText: {
      static const char* const kFamilies[] = {"audio", "video", "image", "other"};
      if (!target.library.empty()) {
        std::printf("%s: library file %s, store %s\n", target.library.c_str(),
                    FormatByteSize(FileBytes(target.library)).c_str(), dir.c_str());
      }
      std::printf("%s: %llu records (sequence %llu)\n", dir.c_str(), static_cast<unsigned long long>(stats.record_count),
                  static_cast<unsigned long long>(stats.sequence));
      std::printf("  %llu playlists, %llu playlist entries\n", static_cast<unsigned long long>(stats.playlists),
                  static_cast<unsigned long long>(stats.playlist_entries));
      for (int f = 0; f < kMimeFamilies; ++f)
        std::printf("  %-6s %12llu files %20s\n", kFamilies[f], static_cast<unsigned long long>(stats.files[f]),
                    FormatByteSize(static_cast<uint64_t>(stats.bytes[f])).c_str());
      std::printf("  segments %s, indexes %s in %llu run files, %llu records not yet in run files\n",
                  FormatByteSize(stats.segment_bytes).c_str(), FormatByteSize(stats.index_bytes).c_str(),
                  static_cast<unsigned long long>(stats.index_runs),
                  static_cast<unsigned long long>(stats.memtable_records));
      std::printf("  dead space %s (what a compaction would reclaim)\n", FormatByteSize(stats.dead_bytes).c_str());
      std::printf("  music: %llu artists, %llu albums, %llu album artists, %llu genres, %llu years",
                  static_cast<unsigned long long>(categories.artists),
                  static_cast<unsigned long long>(categories.albums),
                  static_cast<unsigned long long>(categories.album_artists),
                  static_cast<unsigned long long>(categories.genres),
                  static_cast<unsigned long long>(categories.years));
      if (categories.years > 0)
        std::printf(" (%lld-%lld)", static_cast<long long>(categories.first_year),
                    static_cast<long long>(categories.last_year));
      std::printf("\n  top artists (tracks): %s\n", TopText(categories.top_artists).c_str());
      std::printf("  top albums (tracks):  %s\n", TopText(categories.top_albums).c_str());
      std::printf("  top genres (tracks):  %s\n", TopText(categories.top_genres).c_str());
      break;
    }
  }
  return 0;
}

int RunCompact(const std::string& store_or_library, bool indexes_only) {
  Target target;
  Status s = ResolveTarget(store_or_library, &target);
  if (!s.ok()) return Fail("open " + store_or_library, s);
  const std::string& dir = target.store_dir;
  Options options;
  options.create_if_missing = false;
  std::unique_ptr<Store> store;
  s = Store::Open(dir, options, &store);
  if (!s.ok()) return Fail("open " + Describe(target), OpenError(dir, s));
  if (indexes_only) {
    {
      ElapsedLine line("compacting the indexes of " + dir);
      s = store->CompactIndexes();
    }
    if (!s.ok()) return Fail("compact the indexes of " + dir, s);
    const StoreInfo info = store->Info();
    std::printf("%s: indexes compacted into %llu run files (%s)\n", dir.c_str(),
                static_cast<unsigned long long>(info.index_runs), FormatByteSize(info.index_bytes).c_str());
    return 0;
  }
  const auto start = std::chrono::steady_clock::now();
  CompactionResult result;
  {
    ElapsedLine line("compacting " + dir);
    s = store->Compact(&result);
  }
  if (!s.ok()) return Fail("compact " + dir + " (the store is as it was)", s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const StoreInfo info = store->Info();
  std::printf("%s: %llu live records rewritten in %.2f s; segments %s -> %s, %llu index run files (%s)\n",
              dir.c_str(), static_cast<unsigned long long>(result.records), seconds,
              FormatByteSize(result.bytes_before).c_str(), FormatByteSize(result.bytes_after).c_str(),
              static_cast<unsigned long long>(info.index_runs), FormatByteSize(info.index_bytes).c_str());
  return 0;
}

}  // namespace zcmedia::shell
