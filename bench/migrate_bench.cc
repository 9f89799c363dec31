// `zcmedia bench migrate`: the migrator (zcmedia::migrate::Migrate) on one
// generated legacy shape-D database, with and without verification, beside
// what SQLite itself needs for the same file: `VACUUM INTO` (SQLite's own
// copy of it) and reading every column of every media_files row (the floor:
// no migration can read its input faster than SQLite reads it).
//
// The legacy file is generated once, before the runs (not timed), into its
// own directory, and its pages are read once so that every side starts from
// the same warm page cache. Each side of each run then runs in a forked
// child (peak RssAnon watched from outside) writing into a fresh directory
// that is removed afterwards; sync() runs before each side; the order of the
// four sides alternates from run to run. Every side opens the legacy file as
// the migrator does a quiescent file: read-only, `immutable`, so that none
// of them creates -wal/-shm sidecars that would change what the next one
// reads (checked after every side).
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_util.h"
#include "commands.h"
#include "legacy_generator.h"
#include "zcmedia/migrate.h"

namespace zcmedia::bench {
namespace {

using Values = std::map<std::string, double>;

// The targets, for N = 1,000,000 rows: the whole migration, with
// verification, under 3 s (at least 330,000 rows/s), and faster than
// VACUUM INTO of the legacy file. The time target scales linearly with N.
constexpr double kTargetSecondsPerMillion = 3.0;
constexpr double kTargetRowsPerSecond = 330'000;

enum class SideKind { kMigrate, kMigrateNoVerify, kVacuumInto, kReadAll };
constexpr SideKind kSides[] = {SideKind::kMigrate, SideKind::kMigrateNoVerify, SideKind::kVacuumInto,
                               SideKind::kReadAll};

const char* SideName(SideKind side) {
  switch (side) {
    case SideKind::kMigrate: return "migrate";
    case SideKind::kMigrateNoVerify: return "migrate_no_verify";
    case SideKind::kVacuumInto: return "vacuum_into";
    case SideKind::kReadAll: return "read_all";
  }
  return "?";
}

// "other tables" -> "other_tables", for JSON keys.
std::string PhaseKey(std::string name) {
  std::replace(name.begin(), name.end(), ' ', '_');
  return name;
}

// The URI every side opens the legacy file with: read-only and immutable, as
// the migrator reads a quiescent file (no locks, no sidecars created).
std::string ImmutableUri(const std::string& path) {
  return "file:" + std::filesystem::absolute(path).string() + "?mode=ro&immutable=1";
}

class Connection {
 public:
  explicit Connection(const std::string& path) {
    const std::string uri = ImmutableUri(path);
    if (sqlite3_open_v2(uri.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) != SQLITE_OK) {
      const std::string error = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw BenchError("cannot open '" + uri + "': " + error);
    }
  }
  ~Connection() { sqlite3_close(db_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  sqlite3* get() const { return db_; }
  void Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : sqlite3_errmsg(db_);
      sqlite3_free(error);
      throw BenchError(sql + ": " + message);
    }
  }

 private:
  sqlite3* db_ = nullptr;
};

// Child: Migrate() of the legacy file into `dir`/new.db (and its store
// new.zcmedia/), timed around the call.
void MigrateChild(const std::string& legacy, const std::string& dir, bool verify, uint64_t media_files,
                  Values& out) {
  migrate::MigrateOptions options;
  options.legacy_path = legacy;
  options.output_path = dir + "/new.db";
  options.verify = verify;
  migrate::MigrateReport report;
  out["baseline_anon_kib"] = double(ReadProcStatusKiB(0, "RssAnon"));
  Stopwatch clock;
  const migrate::MigrateResult result = migrate::Migrate(options, &report);
  out["seconds"] = clock.Seconds();
  if (!result.status.ok())
    throw BenchError("Migrate (exit code " + std::to_string(result.exit_code) + "): " + result.status.message());
  if (report.media_files != media_files)
    throw BenchError("Migrate moved " + std::to_string(report.media_files) + " media_files rows, the legacy file has " +
                     std::to_string(media_files));
  if (report.verified != verify)
    throw BenchError(std::string("Migrate reports verified=") + (report.verified ? "true" : "false") +
                     " with verify=" + (verify ? "true" : "false"));
  out["report_seconds"] = report.seconds;
  out["rows"] = double(report.media_files);
  out["output_bytes"] = double(report.output_bytes);
  for (const auto& [phase, seconds] : report.phase_seconds) out["phase:" + PhaseKey(phase)] += seconds;
}

// Child: VACUUM INTO a new file, on a plain read-only connection.
void VacuumIntoChild(const std::string& legacy, const std::string& dir, Values& out) {
  const std::string copy = dir + "/copy.db";
  Stopwatch clock;
  {
    Connection db(legacy);
    db.Exec("VACUUM INTO '" + copy + "'");
  }
  out["seconds"] = clock.Seconds();
  out["output_bytes"] = double(std::filesystem::file_size(copy));
}

// Child: SELECT * FROM media_files, every column of every row read with
// sqlite3_column_* as a reader would (text and its length, integers).
void ReadAllChild(const std::string& legacy, uint64_t media_files, Values& out) {
  Stopwatch clock;
  uint64_t rows = 0, touched = 0;
  {
    Connection db(legacy);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db.get(), "SELECT * FROM media_files", -1, &stmt, nullptr) != SQLITE_OK)
      throw BenchError(std::string("SELECT * FROM media_files: ") + sqlite3_errmsg(db.get()));
    const int columns = sqlite3_column_count(stmt);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      ++rows;
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER:
            touched += uint64_t(sqlite3_column_int64(stmt, c));
            break;
          case SQLITE_TEXT: {
            const unsigned char* text = sqlite3_column_text(stmt, c);
            const int bytes = sqlite3_column_bytes(stmt, c);
            touched += uint64_t(bytes) + (bytes > 0 ? text[bytes - 1] : 0);
            break;
          }
          case SQLITE_FLOAT:
            touched += uint64_t(sqlite3_column_double(stmt, c));
            break;
          case SQLITE_BLOB:
            touched += uint64_t(sqlite3_column_bytes(stmt, c));
            break;
          default:
            break;
        }
      }
    }
    const std::string error = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db.get());
    sqlite3_finalize(stmt);
    if (!error.empty()) throw BenchError("SELECT * FROM media_files: " + error);
  }
  out["seconds"] = clock.Seconds();
  DoNotOptimize(touched);
  if (rows != media_files)
    throw BenchError("SELECT * FROM media_files read " + std::to_string(rows) + " rows, want " +
                     std::to_string(media_files));
  out["rows"] = double(rows);
}

// Throws unless `legacy_dir` holds the legacy file alone (no sidecar left by
// a side, which would change what the next side reads).
void CheckLegacyAlone(const std::string& legacy_dir, const char* after) {
  for (const auto& entry : std::filesystem::directory_iterator(legacy_dir)) {
    if (entry.path().filename() != "media.db")
      throw BenchError(std::string("after ") + after + ": '" + entry.path().string() +
                       "' appeared next to the legacy file");
  }
}

struct SideFigures {
  std::vector<double> seconds, rates, output_bytes, peak_anon_kib, baseline_anon_kib;
  std::map<std::string, std::vector<double>> phase_seconds;  // migrate sides, by phase
  std::vector<std::string> phase_order;                      // as the migrator ran them
};

std::string FormatSeconds(double s) { return FormatFixed(s, "%.3f"); }
std::string FormatMegabytes(double bytes) { return FormatFixed(bytes / 1e6, "%.1f MB"); }

}  // namespace

int RunMigrateBench(const MigrateBenchOptions& options) {
  if (options.rows == 0) throw BenchError("--rows must be at least 1");
  if (options.runs < 1) throw BenchError("--runs must be at least 1");
  const double target_seconds = kTargetSecondsPerMillion * double(options.rows) / 1e6;
  std::printf("bench migrate: legacy shape D, %s rows (seed %llu), %d run%s\n", FormatThousands(options.rows).c_str(),
              static_cast<unsigned long long>(options.seed), options.runs, options.runs == 1 ? "" : "s");
  std::fflush(stdout);

  TempDir work(options.dir, "zcmedia-migrate-bench-");
  const std::string legacy_dir = work.path() + "/legacy";
  std::filesystem::create_directory(legacy_dir);
  const std::string legacy = legacy_dir + "/media.db";
  LegacyGenerateOptions generate;
  generate.path = legacy;
  generate.rows = options.rows;
  generate.shape = LegacyShape::kD;
  generate.seed = options.seed;
  const LegacyGenerateReport generated = GenerateLegacyDatabase(generate);
  const uint64_t legacy_bytes = std::filesystem::file_size(legacy);
  std::printf("legacy file (not timed): %s media_files rows, %s playlists, %s entries, %s, generated in %.1f s\n",
              FormatThousands(generated.media_files).c_str(), FormatThousands(generated.playlists).c_str(),
              FormatThousands(generated.playlist_entries).c_str(), FormatMegabytes(double(legacy_bytes)).c_str(),
              generated.seconds);
  WarmPageCache(legacy_dir);
  std::fflush(stdout);

  std::map<SideKind, SideFigures> figures;
  for (int run = 0; run < options.runs; ++run) {
    std::vector<SideKind> order(std::begin(kSides), std::end(kSides));
    if (run % 2 == 1) std::reverse(order.begin(), order.end());
    for (SideKind side : order) {
      TempDir dir(work.path(), "run-");
      SyncFilesystems();
      ChildReport report = RunInChild([&](Values& out) {
        switch (side) {
          case SideKind::kMigrate: MigrateChild(legacy, dir.path(), true, generated.media_files, out); break;
          case SideKind::kMigrateNoVerify:
            MigrateChild(legacy, dir.path(), false, generated.media_files, out);
            break;
          case SideKind::kVacuumInto: VacuumIntoChild(legacy, dir.path(), out); break;
          case SideKind::kReadAll: ReadAllChild(legacy, generated.media_files, out); break;
        }
      });
      FailIfChildFailed(report, SideName(side));
      CheckLegacyAlone(legacy_dir, SideName(side));
      SideFigures& f = figures[side];
      const double seconds = report.at("seconds");
      const double rate = double(generated.media_files) / seconds;
      f.seconds.push_back(seconds);
      f.rates.push_back(rate);
      const bool migrating = side == SideKind::kMigrate || side == SideKind::kMigrateNoVerify;
      if (migrating) {
        f.baseline_anon_kib.push_back(report.at("baseline_anon_kib"));
        f.peak_anon_kib.push_back(double(report.peak_anon_kib) - report.at("baseline_anon_kib"));
      }
      if (side != SideKind::kReadAll) f.output_bytes.push_back(report.at("output_bytes"));
      std::string phases;
      for (const auto& [key, value] : report.values) {
        if (key.rfind("phase:", 0) != 0) continue;
        f.phase_seconds[key.substr(6)].push_back(value);
      }
      if (migrating && f.phase_order.empty()) {
        // report.values is sorted by name; the report's order is the run order.
        for (migrate::Phase p : {migrate::Phase::kCheck, migrate::Phase::kMediaFiles, migrate::Phase::kPlaylists,
                                 migrate::Phase::kOtherTables, migrate::Phase::kIndexes, migrate::Phase::kVerify,
                                 migrate::Phase::kFinish}) {
          const std::string key = PhaseKey(migrate::PhaseName(p));
          if (f.phase_seconds.count(key)) f.phase_order.push_back(key);
        }
        for (const auto& [key, values] : f.phase_seconds)  // a phase this list does not know yet
          if (std::find(f.phase_order.begin(), f.phase_order.end(), key) == f.phase_order.end())
            f.phase_order.push_back(key);
      }
      if (migrating) {
        for (const std::string& key : f.phase_order) {
          auto it = report.values.find("phase:" + key);
          char part[64];
          std::snprintf(part, sizeof part, "%s%s %.2f", phases.empty() ? "" : ", ", key.c_str(),
                        it == report.values.end() ? 0.0 : it->second);
          phases += part;
        }
      }
      std::printf("  run %d/%d %-18s %7.3f s  %8s rows/s", run + 1, options.runs, SideName(side), seconds,
                  FormatSi(rate).c_str());
      if (side != SideKind::kReadAll)
        std::printf("  %s", FormatMegabytes(report.at("output_bytes")).c_str());
      if (migrating)
        std::printf("  peak anon +%s  (%s)", FormatKib(f.peak_anon_kib.back()).c_str(), phases.c_str());
      std::printf("\n");
      std::fflush(stdout);
    }
  }

  // ---- the table ----
  auto median = [&](SideKind side) { return Summarize(figures[side].seconds).median; };
  const double migrate_s = median(SideKind::kMigrate);
  const double vacuum_s = median(SideKind::kVacuumInto);
  const double read_s = median(SideKind::kReadAll);
  std::printf("\nmedian [min–max] (runs) of %d run%s; rows/s = %s media_files rows / seconds\n", options.runs,
              options.runs == 1 ? "" : "s", FormatThousands(generated.media_files).c_str());
  std::printf("%s %s %s %s %s\n", PadRight("side", 19).c_str(), PadRight("seconds", 28).c_str(),
              PadRight("rows/s", 26).c_str(), PadRight("output", 10).c_str(), "peak anon");
  for (SideKind side : kSides) {
    SideFigures& f = figures[side];
    std::printf("%s %s %s %s %s\n", PadRight(SideName(side), 19).c_str(),
                PadRight(FormatSummary(Summarize(f.seconds), FormatSeconds), 28).c_str(),
                PadRight(FormatSummary(Summarize(f.rates)), 26).c_str(),
                PadRight(f.output_bytes.empty() ? "-" : FormatMegabytes(Summarize(f.output_bytes).median), 10).c_str(),
                f.peak_anon_kib.empty() ? "-" : ("+" + FormatKib(Summarize(f.peak_anon_kib).median)).c_str());
  }
  {  // the migrator's phases (MigrateReport::phase_seconds), both migrate sides
    SideFigures& with = figures[SideKind::kMigrate];
    SideFigures& without = figures[SideKind::kMigrateNoVerify];
    std::printf("\n%s %s %s\n", PadRight("phase (s)", 19).c_str(), PadRight("migrate", 28).c_str(),
                "migrate_no_verify");
    auto cell = [](SideFigures& f, const std::string& key) {
      auto it = f.phase_seconds.find(key);
      return it == f.phase_seconds.end() ? std::string("-") : FormatSummary(Summarize(it->second), FormatSeconds);
    };
    for (const std::string& key : with.phase_order)
      std::printf("%s %s %s\n", PadRight(key, 19).c_str(), PadRight(cell(with, key), 28).c_str(),
                  cell(without, key).c_str());
    for (const std::string& key : without.phase_order)  // a phase only the run without verification had
      if (!with.phase_seconds.count(key))
        std::printf("%s %s %s\n", PadRight(key, 19).c_str(), PadRight("-", 28).c_str(), cell(without, key).c_str());
  }
  const double vacuum_ratio = migrate_s / vacuum_s;
  const double read_ratio = migrate_s / read_s;
  std::printf("\nratio migrate / vacuum_into: %.2f (below 1: the migration is faster than SQLite's copy)\n",
              vacuum_ratio);
  std::printf("ratio migrate / read_all   : %.2f (how far above the floor)\n", read_ratio);
  std::printf("peak anon: RssAnon of the migrating child sampled every 1 ms, over its value before Migrate()\n");

  // ---- the targets ----
  const double migrate_rate = Summarize(figures[SideKind::kMigrate].rates).median;
  const bool seconds_met = migrate_s < target_seconds;
  const bool rate_met = migrate_rate >= kTargetRowsPerSecond;
  const bool vacuum_met = migrate_s < vacuum_s;
  const bool all_met = seconds_met && rate_met && vacuum_met;
  std::printf("\ntargets (issue: 1,000,000 rows migrated with verification in under 3 s, faster than VACUUM INTO)%s\n",
              options.rows == 1'000'000 ? ""
                                        : "; the 3 s target is scaled linearly to this N (3 s per 1,000,000 rows)");
  std::printf("  migrate under %.3f s%s: %.3f s  %s\n", target_seconds,
              options.rows == 1'000'000 ? "" : " (scaled)", migrate_s, seconds_met ? "met" : "NOT MET");
  std::printf("  migrate at least %s rows/s: %s rows/s  %s\n", FormatThousands(uint64_t(kTargetRowsPerSecond)).c_str(),
              FormatThousands(uint64_t(migrate_rate)).c_str(), rate_met ? "met" : "NOT MET");
  std::printf("  migrate faster than VACUUM INTO: %.3f s vs %.3f s  %s\n", migrate_s, vacuum_s,
              vacuum_met ? "met" : "NOT MET");

  JsonLine json;
  json.Add("bench", "migrate")
      .Add("records", options.rows)
      .Add("media_files", generated.media_files)
      .Add("playlists", generated.playlists)
      .Add("playlist_entries", generated.playlist_entries)
      .Add("runs", options.runs)
      .Add("seed", options.seed)
      .Add("legacy_bytes", legacy_bytes);
  for (SideKind side : kSides) {
    SideFigures& f = figures[side];
    // SQLite's own figures carry the sqlite_ prefix: the reference, not
    // compared against a baseline.
    const bool migrating = side == SideKind::kMigrate || side == SideKind::kMigrateNoVerify;
    const std::string prefix = migrating ? SideName(side) : "sqlite_" + std::string(SideName(side));
    const Summary seconds = Summarize(f.seconds);
    json.Add(prefix + "_ms", seconds.median * 1e3)
        .Add(prefix + "_ms_min", seconds.min * 1e3)
        .Add(prefix + "_ms_max", seconds.max * 1e3)
        .Add(prefix + "_rows_per_s", Summarize(f.rates).median);
    if (!f.output_bytes.empty()) {
      const double bytes = Summarize(f.output_bytes).median;
      json.Add(prefix + "_output_bytes", bytes);
      if (migrating) json.Add(prefix + "_bytes_per_record", bytes / double(generated.media_files));
    }
    if (migrating) {
      json.Add(prefix + "_peak_anon_kib", Summarize(f.peak_anon_kib).median)
          .Add(prefix + "_baseline_anon_kib", Summarize(f.baseline_anon_kib).median);
      for (const std::string& key : f.phase_order)
        json.Add(prefix + "_phase_" + key + "_s", Summarize(f.phase_seconds[key]).median);
    }
  }
  json.Add("migrate_vacuum_into_time_ratio", vacuum_ratio)
      .Add("migrate_read_all_time_ratio", read_ratio)
      .Add("target_seconds", target_seconds)
      .Add("target_rows_per_second", kTargetRowsPerSecond)
      .Add("target_seconds_met", seconds_met)
      .Add("target_rows_per_s_met", rate_met)
      .Add("target_faster_than_vacuum_into_met", vacuum_met)
      .Add("all_targets_met", all_met);
  const bool regressed = !options.baseline.empty() && CompareWithBaseline(options.baseline, json) > 0;
  if (options.json) std::printf("%s\n", json.ToString().c_str());
  return regressed ? kRegressionExitCode : 0;
}

}  // namespace zcmedia::bench
