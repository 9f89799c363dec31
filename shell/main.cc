// zcmedia: the command-line front end. Each subcommand parses its options
// here and calls into a library (bench/ for demo and bench; scan, migrate,
// sql, stats, check and compact will join them). Errors become one line on
// stderr and a non-zero exit status; no exception leaves main.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>

#include "bench_util.h"
#include "commands.h"
#include "legacy_generator.h"
#include "migrate_command.h"
#include "scan_command.h"
#include "sql_command.h"
#include "store_commands.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr const char* kFooter =
    "Examples:\n"
    "  zcmedia scan /srv/music /srv/video --db /srv/media/library.db\n"
    "      scan folders into a library (created if missing); run again to rescan\n"
    "  zcmedia watch /srv/music --db /srv/media/library.db\n"
    "  zcmedia sql /srv/media/library.db \"SELECT artist, COUNT(*) FROM media_files GROUP BY artist\"\n"
    "  zcmedia demo\n"
    "      store 100,000 generated records in ./zcmedia-demo, reopen, check them\n"
    "  zcmedia demo --records 1M --dir /tmp/library\n"
    "  zcmedia migrate /srv/vuio/media.db /srv/vuio/new/media.db\n"
    "      convert a legacy server database (verified; the legacy file is not touched)\n"
    "  zcmedia check ./zcmedia-demo --deep\n"
    "  zcmedia stats ./zcmedia-demo --prometheus\n"
    "  zcmedia generate-legacy /tmp/media.db --rows 1M --shape C+D --windows-paths\n"
    "      a legacy server's SQLite library (shape A, B, C, D or C+D) to migrate from\n"
#if ZCMEDIA_WITH_BENCHMARKS
    "  zcmedia bench ingest --records 1M --runs 3 --json\n"
    "  zcmedia bench ingest --records 100k --budget 6MiB --dir /var/tmp\n"
    "  zcmedia bench lookup --records 1M --lookups 100k\n"
    "  zcmedia bench scale --records 1M --json\n"
    "  zcmedia bench profiles --records 100k --runs 3\n"
    "  zcmedia bench sql --records 1M --runs 5\n"
    "  zcmedia bench migrate --rows 1M --runs 3\n"
    "  zcmedia bench scan --files 100k --runs 3\n"
    "  zcmedia bench generate --records 10M\n"
#endif
    "\n"
    "Counts accept k and M suffixes (100k, 1M); sizes accept KiB, MiB, GiB.\n"
    "Run 'zcmedia <command> --help' for a command's options.";

// "100k" and "1M" for counts: decimal suffixes only.
void AddCountOption(CLI::App* app, const std::string& name, uint64_t* value,
                    const std::string& description) {
  app->add_option(name, *value, description)
      ->transform(CLI::AsNumberWithUnit(std::map<std::string, uint64_t>{{"k", 1000}, {"m", 1000000}},
                                        CLI::AsNumberWithUnit::CASE_INSENSITIVE))
      ->capture_default_str();
}

void AddSeedOption(CLI::App* app, uint64_t* seed) {
  app->add_option("--seed", *seed, "Generator seed: the same seed and N give the same records")
      ->capture_default_str();
}

// Clears *restart: the read benchmarks measure after a simulated restart
// unless told to query the page cache as the load left it.
void AddAsWrittenFlag(CLI::App* app, bool* restart) {
  app->add_flag_callback(
      "--as-written", [restart] { *restart = false; },
      "Query both databases in the page cache as the load left them, instead of after evicting them and one "
      "untimed warm-up pass (a server after a restart; only what the store reads in can be huge pages)");
}

#if ZCMEDIA_WITH_BENCHMARKS
// The options every bench command spells the same way.
void AddJsonFlag(CLI::App* app, bool* json) {
  app->add_flag("--json", *json, "Print one JSON object as the last line");
}

void AddBaselineOption(CLI::App* app, std::string* baseline) {
  app->add_option("--baseline", *baseline,
                  "JSON line of a saved run (--json); flags figures more than 10% worse, exit status 3")
      ->check(CLI::ExistingFile);
}

void AddRunsOption(CLI::App* app, int* runs, const std::string& description) {
  // CLI::PositiveNumber's message prints DBL_MAX as its upper bound.
  app->add_option("-r,--runs", *runs, description)->check(CLI::Range(1, 1000000))->capture_default_str();
}

void AddBudgetOption(CLI::App* app, size_t* memory_budget) {
  app->add_option("--budget", *memory_budget,
                  "Store memory budget: bytes, or a size such as 64MiB (Options::memory_budget; default 6 MiB)")
      ->transform(CLI::AsSizeValue(false));
}
#endif

int RunCommandLine(int argc, char** argv) {
  using namespace zcmedia::bench;

  CLI::App app{"zcmedia: a crash-safe store for media-library records, and its tools"};
  app.name("zcmedia");
  app.footer(kFooter);
  app.require_subcommand(1);

  // check, stats, compact (on a store directory)
  std::string check_dir;
  bool check_deep = false, check_repair = false;
  CLI::App* check_cmd = app.add_subcommand(
      "check", "Integrity check of a store: fast (checksums of everything) or --deep (indexes against records)");
  check_cmd->add_option("store", check_dir, "Store directory, or a library file (LIB.db): its store")->required();
  check_cmd->add_flag("--deep", check_deep, "Also cross-check every index entry and record, and the totals");
  check_cmd->add_flag("--repair", check_repair,
                      "If every problem is in the indexes, rebuild them from the segments (takes the writer lock)");
  check_cmd->footer(
      "Examples:\n"
      "  zcmedia check /srv/media/library.db\n"
      "      the library's store, PRAGMA quick_check of the file, and each virtual table\n"
      "  zcmedia check /srv/media/library.zcmedia --deep --repair\n"
      "\n"
      "Exit status: 0 no problem (or every problem repaired); 1 problems remain (listed);\n"
      "2 the check could not run (no such store or library, not a library, bad command line).");
  std::string stats_dir;
  bool stats_json = false, stats_prometheus = false;
  CLI::App* stats_cmd = app.add_subcommand("stats", "Counts, sizes and totals of a store (read-only)");
  stats_cmd->add_option("store", stats_dir, "Store directory, or a library file (LIB.db): its store")->required();
  CLI::Option* json_flag = stats_cmd->add_flag("--json", stats_json, "One JSON object");
  stats_cmd->add_flag("--prometheus", stats_prometheus, "Prometheus text format")->excludes(json_flag);
  stats_cmd->footer(
      "Examples:\n"
      "  zcmedia stats /srv/media/library.db\n"
      "  zcmedia stats /srv/media/library.db --json\n"
      "  zcmedia stats /srv/media/library.zcmedia --prometheus > /var/lib/node_exporter/zcmedia.prom\n"
      "\n"
      "Read-only: a scan or a server may be writing meanwhile.\n"
      "Exit status: 0 printed; 2 no such store or library, or bad command line.");
  std::string compact_dir;
  bool compact_indexes_only = false;
  CLI::App* compact_cmd = app.add_subcommand(
      "compact", "Rewrite the live records, reclaiming the space of replaced and removed ones (readers keep reading)");
  compact_cmd->add_option("store", compact_dir, "Store directory, or a library file (LIB.db): its store")->required();
  compact_cmd->add_flag("--indexes-only", compact_indexes_only,
                        "Only merge each index into one run file (fastest lookups after a bulk load)");
  compact_cmd->footer(
      "Examples:\n"
      "  zcmedia compact /srv/media/library.db\n"
      "  zcmedia compact --indexes-only /srv/media/store\n"
      "\n"
      "Exit status: 0 compacted; 2 no such store or library, the writer lock is taken, or the compaction\n"
      "failed (the store is then as it was), or bad command line.");

  // scan, watch, playlist export
  zcmedia::shell::ScanCommands scan_commands(app);

  // migrate
  zcmedia::shell::MigrateCommandOptions migrate;
  CLI::App* migrate_cmd = app.add_subcommand(
      "migrate", "Convert a legacy media-server SQLite database into a zcmedia store and a new SQLite file "
                 "whose media tables are zcmedia virtual tables (verified; the legacy file is only read)");
  migrate_cmd->add_option("legacy", migrate.migrate.legacy_path, "The legacy database (shapes A to D)")
      ->required();
  migrate_cmd->add_option("new", migrate.migrate.output_path,
                          "The new SQLite file; the store goes next to it (NEW.zcmedia/)");
  migrate_cmd->add_flag("--force", migrate.migrate.force,
                        "Replace an existing NEW.db and its store (once the new ones are complete)");
  migrate_cmd->add_flag("--dry-run", migrate.migrate.dry_run,
                        "Read and check everything, report what would be migrated, write nothing");
  migrate_cmd->add_flag("!--no-verify", migrate.migrate.verify,
                        "Skip the verification of every row against the legacy snapshot");
  migrate_cmd->add_flag("!--no-quick-check", migrate.migrate.quick_check,
                        "Skip PRAGMA quick_check of the legacy file");
  migrate_cmd->add_flag("--set-aside", migrate.migrate.set_aside,
                        "Migrate the valid rows and keep rows that break the legacy constraints, unchanged, "
                        "in tables zcmedia_set_aside_<table> of NEW.db (default: refuse, listing them)");
  migrate_cmd->add_flag("--in-place", migrate.migrate.in_place, "Convert LEGACY.db itself (after a verified backup)");
  migrate_cmd->add_option("--backup", migrate.migrate.backup_path, "With --in-place: the backup (default LEGACY.db.bak)");
  migrate_cmd->add_option("--budget", migrate.migrate.memory_budget,
                          "Store memory budget: bytes or a size such as 64MiB (default 6 MiB)")
      ->transform(CLI::AsSizeValue(false));
  CLI::Option* migrate_json = migrate_cmd->add_flag("--json", migrate.json, "One JSON object on stdout");
  migrate_cmd->add_flag("-q,--quiet", migrate.quiet, "No progress and no summary")->excludes(migrate_json);
  migrate_cmd->footer(
      "Examples:\n"
      "  zcmedia migrate media.db new/media.db\n"
      "  zcmedia migrate media.db new/media.db --dry-run\n"
      "  zcmedia migrate media.db new/media.db --set-aside --json\n"
      "\n"
      "Exit status: 0 done; 1 error (I/O, internal); 2 bad command line; 3 bad legacy file (not SQLite,\n"
      "corrupt, truncated, unknown shape, locked); 4 rows breaking the legacy constraints (see\n"
      "--set-aside); 5 verification failed; 6 output problem (exists, directory missing or read-only,\n"
      "disk full). On any failure nothing is published and the legacy file is untouched.");

  zcmedia::shell::SqlCommandOptions sql;
  CLI::App* sql_cmd = zcmedia::shell::AddSqlCommand(&app, &sql);

  // demo
  DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo", "Store a generated library, reopen it and check every value read back");
  AddCountOption(demo_cmd, "-n,--records", &demo.records, "How many records to generate");
  demo_cmd->add_option("-d,--dir", demo.dir,
                       "Store directory; removed first if it already holds a store")
      ->capture_default_str();
  AddSeedOption(demo_cmd, &demo.seed);
  demo_cmd->footer(
      "Examples:\n"
      "  zcmedia demo\n"
      "      store 100,000 generated records in ./zcmedia-demo, reopen, check them\n"
      "  zcmedia demo --records 1M --dir /tmp/library\n"
      "\n"
      "Exit status: 0 every value read back as written; 1 a difference or an I/O error (named);\n"
      "2 bad command line.");

  // generate-legacy ----------------------------------------------------------
  // A new SQLite file in one of the legacy server's schema shapes
  // (bench/legacy_generator.h), filled with generated records.
  LegacyGenerateOptions legacy;
  std::string legacy_shape = LegacyShapeName(legacy.shape);
  bool legacy_no_id_gaps = false, legacy_json = false;
  CLI::App* legacy_cmd = app.add_subcommand(
      "generate-legacy", "Write a legacy SQLite media library (shape A, B, C, D or C+D) of generated records");
  legacy_cmd->add_option("out", legacy.path, "Database file to create (must not exist)")->required();
  AddCountOption(legacy_cmd, "-n,--rows", &legacy.rows, "media_files rows to insert");
  legacy_cmd
      ->add_option("--shape", legacy_shape,
                   "Schema shape: A, B, C, D (fresh) or C+D (D reached by ALTER TABLE from C)")
      ->check(CLI::Validator(
          [](std::string& text) {
            LegacyShape ignored;
            return ParseLegacyShape(text, &ignored) ? std::string() : "unknown shape '" + text + "'";
          },
          "A|B|C|D|C+D"))
      ->capture_default_str();
  AddSeedOption(legacy_cmd, &legacy.seed);
  legacy_cmd->add_flag("--windows-paths", legacy.windows_paths,
                       "Windows paths (C:\\Media\\..., some \\\\NAS\\...), canonical columns lower-cased with '/'");
  legacy_cmd
      ->add_option("--playlists", legacy.playlists,
                   "Playlists (default: one per 2,000 rows, at least 2; shapes C, D, C+D only)")
      ->check(CLI::NonNegativeNumber);
  legacy_cmd->add_flag("--no-id-gaps", legacy_no_id_gaps,
                       "Keep every inserted row (default: delete about 1% afterwards, and the newest ids)");
  legacy_cmd->add_flag("--json", legacy_json, "Print one JSON object instead of the summary line");
  legacy_cmd->footer(
      "Examples:\n"
      "  zcmedia generate-legacy /tmp/media.db\n"
      "  zcmedia generate-legacy /tmp/old.db --rows 20k --shape A --seed 7\n"
      "  zcmedia generate-legacy /tmp/win.db --rows 1M --shape C+D --windows-paths --json\n"
      "\n"
      "Exit status: 0 written; 1 the file exists or cannot be written (nothing is left behind);\n"
      "2 bad command line.");
  // ---------------------------------------------------------- generate-legacy

#if ZCMEDIA_WITH_BENCHMARKS
  // bench
  CLI::App* bench_cmd = app.add_subcommand("bench", "Benchmarks against the legacy SQLite database");
  bench_cmd->require_subcommand(1);
  bench_cmd->footer(
      "Examples:\n"
      "  zcmedia bench ingest --records 1M --json\n"
      "  zcmedia bench lookup --records 1M --runs 3\n"
      "  zcmedia bench scale --records 1M --json\n"
      "  zcmedia bench profiles --records 1M --runs 3\n"
      "  zcmedia bench compact --records 1M --runs 3\n"
      "  zcmedia bench txn --records 1M --runs 3\n"
      "  zcmedia bench sql --records 1M --runs 5\n"
      "  zcmedia bench migrate --rows 1M --runs 3\n"
      "  zcmedia bench scan --files 100k --runs 3\n"
      "  zcmedia bench generate --records 10M");

  IngestBenchOptions ingest;
  CLI::App* ingest_cmd = bench_cmd->add_subcommand(
      "ingest", "Bulk-store N records in the store and in legacy SQLite; records/s, bytes, memory");
  AddCountOption(ingest_cmd, "-n,--records", &ingest.records, "Records per run");
  AddRunsOption(ingest_cmd, &ingest.runs, "Runs per side (median reported)");
  AddJsonFlag(ingest_cmd, &ingest.json);
  AddBaselineOption(ingest_cmd, &ingest.baseline);
  ingest_cmd->add_option("-d,--dir", ingest.dir, "Parent of the per-run temporary directories")
      ->capture_default_str();
  AddBudgetOption(ingest_cmd, &ingest.memory_budget);
  ingest_cmd->add_flag("--keep", ingest.keep, "Keep the last run's store and database");
  ingest_cmd->add_flag("--store-only", ingest.store_only,
                       "Measure the store alone (no SQLite runs, no ratio): for quick checks at large N");
  ingest_cmd->add_flag("--stream", ingest.stream,
                       "Generate records inside the timed loops (default: read them from an arena "
                       "file written before the runs)");
  AddSeedOption(ingest_cmd, &ingest.seed);

  LookupBenchOptions lookup;
  CLI::App* lookup_cmd = bench_cmd->add_subcommand(
      "lookup", "Point lookups and directory listings on a store and on legacy SQLite");
  AddCountOption(lookup_cmd, "-n,--records", &lookup.records, "Records in both databases");
  AddCountOption(lookup_cmd, "-l,--lookups", &lookup.lookups,
                 "Point lookups per run, by path and by id each");
  AddCountOption(lookup_cmd, "--directories", &lookup.directories, "Directory listings per run");
  AddRunsOption(lookup_cmd, &lookup.runs, "Runs (median reported)");
  AddJsonFlag(lookup_cmd, &lookup.json);
  AddBaselineOption(lookup_cmd, &lookup.baseline);
  lookup_cmd->add_option("-d,--dir", lookup.dir, "Parent of the temporary directory")
      ->capture_default_str();
  AddBudgetOption(lookup_cmd, &lookup.memory_budget);
  AddSeedOption(lookup_cmd, &lookup.seed);
  bool lookup_no_compact = false;
  lookup_cmd->add_flag("--no-compact", lookup_no_compact,
                       "Query the store as loaded (several index runs per index, as a live store between "
                       "compactions), without CompactIndexes");
  AddAsWrittenFlag(lookup_cmd, &lookup.restart);

  ScaleBenchOptions scale;
  CLI::App* scale_cmd = bench_cmd->add_subcommand(
      "scale", "One run at scale N: load, size, cold and warm open, lookups, listings and memory, "
               "store beside SQLite");
  AddCountOption(scale_cmd, "-n,--records", &scale.records, "Records in both databases");
  AddCountOption(scale_cmd, "-l,--lookups", &scale.lookups, "Point lookups, by path and by id each");
  AddCountOption(scale_cmd, "--directories", &scale.directories, "Directory listings");
  AddJsonFlag(scale_cmd, &scale.json);
  AddBaselineOption(scale_cmd, &scale.baseline);
  scale_cmd->add_option("-d,--dir", scale.dir, "Parent of the temporary directory (needs room for both databases)")
      ->capture_default_str();
  AddBudgetOption(scale_cmd, &scale.memory_budget);
  scale_cmd->add_flag("--keep", scale.keep, "Keep the store and the database");
  AddSeedOption(scale_cmd, &scale.seed);

  ProfilesBenchOptions profiles;
  CLI::App* profiles_cmd = bench_cmd->add_subcommand(
      "profiles", "The store alone under the 6 MiB, 64 MiB, 256 MiB and 1 GiB memory budgets: "
                  "load rate, peak memory, lookup rates");
  AddCountOption(profiles_cmd, "-n,--records", &profiles.records, "Records per run");
  AddRunsOption(profiles_cmd, &profiles.runs, "Runs per budget (median reported)");
  AddCountOption(profiles_cmd, "-l,--lookups", &profiles.lookups, "Point lookups per run, by path and by id each");
  AddCountOption(profiles_cmd, "--directories", &profiles.directories, "Directory listings per run");
  AddJsonFlag(profiles_cmd, &profiles.json);
  AddBaselineOption(profiles_cmd, &profiles.baseline);
  profiles_cmd->add_option("-d,--dir", profiles.dir, "Parent of the per-run temporary directories")
      ->capture_default_str();
  AddSeedOption(profiles_cmd, &profiles.seed);

  CompactBenchOptions compact_bench;
  CLI::App* compact_bench_cmd = bench_cmd->add_subcommand(
      "compact", "Compaction of a store with half its records dead, beside SQLite's VACUUM");
  AddCountOption(compact_bench_cmd, "-n,--records", &compact_bench.records,
                 "Live records (twice as many are stored, then every other one removed)");
  AddRunsOption(compact_bench_cmd, &compact_bench.runs, "Runs per side (median reported)");
  AddJsonFlag(compact_bench_cmd, &compact_bench.json);
  compact_bench_cmd->add_option("-d,--dir", compact_bench.dir, "Parent of the temporary directories")
      ->capture_default_str();
  AddBudgetOption(compact_bench_cmd, &compact_bench.memory_budget);
  AddSeedOption(compact_bench_cmd, &compact_bench.seed);

  TxnBenchOptions txn_bench;
  CLI::App* txn_bench_cmd = bench_cmd->add_subcommand(
      "txn", "One transaction of one-row writes (the SQLite extension's pattern), beside Store::Write batches");
  AddCountOption(txn_bench_cmd, "-n,--records", &txn_bench.records, "Records (rows) to write");
  AddRunsOption(txn_bench_cmd, &txn_bench.runs, "Runs per side (median reported)");
  AddJsonFlag(txn_bench_cmd, &txn_bench.json);
  txn_bench_cmd->add_option("-d,--dir", txn_bench.dir, "Parent of the temporary directories")->capture_default_str();
  AddBudgetOption(txn_bench_cmd, &txn_bench.memory_budget);
  AddSeedOption(txn_bench_cmd, &txn_bench.seed);
  SqlBenchOptions sql_bench;
  CLI::App* sql_bench_cmd = bench_cmd->add_subcommand(
      "sql", "The legacy server's SQL on the legacy table and on zcmedia virtual tables over a store with the "
             "same records: same statements and parameters, time per query, targets");
  AddCountOption(sql_bench_cmd, "-n,--records", &sql_bench.records, "Records on each side");
  AddRunsOption(sql_bench_cmd, &sql_bench.runs, "Runs (median reported)");
  AddJsonFlag(sql_bench_cmd, &sql_bench.json);
  AddBaselineOption(sql_bench_cmd, &sql_bench.baseline);
  sql_bench_cmd->add_option("-d,--dir", sql_bench.dir, "Parent of the temporary directory (store, databases)")
      ->capture_default_str();
  sql_bench_cmd->add_flag("--plans", sql_bench.plans,
                          "Print EXPLAIN QUERY PLAN of both sides for every class (default: only for the classes "
                          "that miss their target)");
  sql_bench_cmd->add_option("--skip", sql_bench.skip,
                            "Leave out these classes, by JSON key (path_lookup, path_in_500, ...: an unknown key "
                            "lists them), e.g. one with a known bug, to measure the others")
      ->delimiter(',');
  AddSeedOption(sql_bench_cmd, &sql_bench.seed);
  AddAsWrittenFlag(sql_bench_cmd, &sql_bench.restart);

  MigrateBenchOptions migrate_bench;
  CLI::App* migrate_bench_cmd = bench_cmd->add_subcommand(
      "migrate", "zcmedia migrate (with and without verification) of a generated legacy shape-D database, beside "
                 "SQLite's VACUUM INTO of the same file and a read of every row; per-phase times, targets");
  AddCountOption(migrate_bench_cmd, "-n,--rows", &migrate_bench.rows, "media_files rows of the legacy database");
  AddRunsOption(migrate_bench_cmd, &migrate_bench.runs, "Runs per side (median reported)");
  AddJsonFlag(migrate_bench_cmd, &migrate_bench.json);
  AddBaselineOption(migrate_bench_cmd, &migrate_bench.baseline);
  migrate_bench_cmd
      ->add_option("-d,--dir", migrate_bench.dir, "Parent of the temporary directory (legacy file, outputs)")
      ->capture_default_str();
  AddSeedOption(migrate_bench_cmd, &migrate_bench.seed);

  ScanBenchOptions scan_bench;
  CLI::App* scan_bench_cmd = bench_cmd->add_subcommand(
      "scan", "zcmedia scan (first scan and rescan) of a generated tree of N small tagged MP3 files, beside the "
              "legacy server's way: the same TagLib reads, one INSERT per file into its SQLite schema; targets");
  AddCountOption(scan_bench_cmd, "-n,--files", &scan_bench.files, "MP3 files in the generated tree");
  AddRunsOption(scan_bench_cmd, &scan_bench.runs, "Runs per side (median reported)");
  scan_bench_cmd
      ->add_option("-j,--threads", scan_bench.threads,
                   "zcmedia's tag-reading threads (0: one per core, the default); it also runs with 1")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  AddJsonFlag(scan_bench_cmd, &scan_bench.json);
  AddBaselineOption(scan_bench_cmd, &scan_bench.baseline);
  scan_bench_cmd->add_option("-d,--dir", scan_bench.dir, "Parent of the temporary directory (tree, libraries)")
      ->capture_default_str();
  AddSeedOption(scan_bench_cmd, &scan_bench.seed);
  scan_bench_cmd->add_flag("--keep", scan_bench.keep,
                           "Leave the generated tree in place (its path is printed), e.g. to profile zcmedia scan");

  GenerateBenchOptions generate;
  CLI::App* generate_cmd = bench_cmd->add_subcommand(
      "generate", "Speed and shape of the workload generator (shares, artists, paths, uniqueness)");
  AddCountOption(generate_cmd, "-n,--records", &generate.records, "Records to generate");
  AddJsonFlag(generate_cmd, &generate.json);
  bool skip_unique = false;
  generate_cmd->add_flag("--no-unique-check", skip_unique,
                         "Skip hashing every path (saves 8 bytes of RAM per record)");
  AddSeedOption(generate_cmd, &generate.seed);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, or the error with a hint
    return code == 0 ? 0 : kExitUsage;
  }

  try {
    if (std::optional<int> status = scan_commands.RunParsed()) return *status;
    if (demo_cmd->parsed()) return RunDemo(demo);
    if (legacy_cmd->parsed()) {
      ParseLegacyShape(legacy_shape, &legacy.shape);  // validated by the parser
      legacy.id_gaps = !legacy_no_id_gaps;
      return RunGenerateLegacy(legacy, legacy_json);
    }
    if (migrate_cmd->parsed()) {
      if (!migrate.migrate.dry_run && migrate.migrate.output_path.empty() && !migrate.migrate.in_place) {
        std::fprintf(stderr, "zcmedia migrate: error: give the new database's path (or --dry-run)\n");
        return kExitUsage;
      }
      return zcmedia::shell::RunMigrate(migrate);
    }
    if (sql_cmd->parsed()) return zcmedia::shell::RunSql(sql);
    if (check_cmd->parsed()) return zcmedia::shell::RunCheck(check_dir, check_deep, check_repair);
    if (stats_cmd->parsed()) {
      using zcmedia::shell::StatsFormat;
      return zcmedia::shell::RunStats(stats_dir, stats_json         ? StatsFormat::kJson
                                                 : stats_prometheus ? StatsFormat::kPrometheus
                                                                    : StatsFormat::kText);
    }
    if (compact_cmd->parsed()) return zcmedia::shell::RunCompact(compact_dir, compact_indexes_only);
#if ZCMEDIA_WITH_BENCHMARKS
    if (ingest_cmd->parsed()) return RunIngestBench(ingest);
    if (lookup_cmd->parsed()) {
      lookup.compact = !lookup_no_compact;
      return RunLookupBench(lookup);
    }
    if (scale_cmd->parsed()) return RunScaleBench(scale);
    if (profiles_cmd->parsed()) return RunProfilesBench(profiles);

    if (compact_bench_cmd->parsed()) return RunCompactBench(compact_bench);
    if (txn_bench_cmd->parsed()) return RunTxnBench(txn_bench);
    if (sql_bench_cmd->parsed()) return RunSqlBench(sql_bench);
    if (migrate_bench_cmd->parsed()) return RunMigrateBench(migrate_bench);
    if (scan_bench_cmd->parsed()) return RunScanBench(scan_bench);
    if (generate_cmd->parsed()) {
      generate.check_unique = !skip_unique;
      return RunGenerateBench(generate);
    }
#endif
    std::fprintf(stderr, "zcmedia: no command given; see 'zcmedia --help'\n");
    return kExitUsage;
  } catch (const BenchError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "zcmedia: error: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "zcmedia: internal error: %s\n", e.what());
  } catch (...) {
    std::fflush(stdout);
    std::fprintf(stderr, "zcmedia: internal error: unknown exception\n");
  }
  return kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
  // Building the command line itself can throw (CLI11 construction errors,
  // allocation failure); nothing may escape main.
  try {
    return RunCommandLine(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zcmedia: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "zcmedia: internal error: unknown exception\n");
  }
  return kExitFailure;
}
