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
#include "store_commands.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr const char* kFooter =
    "Examples:\n"
    "  zcmedia demo\n"
    "      store 100,000 generated records in ./zcmedia-demo, reopen, check them\n"
    "  zcmedia demo --records 1M --dir /tmp/library\n"
    "  zcmedia check ./zcmedia-demo --deep\n"
    "  zcmedia stats ./zcmedia-demo --prometheus\n"
#if ZCMEDIA_WITH_BENCHMARKS
    "  zcmedia bench ingest --records 1M --runs 3 --json\n"
    "  zcmedia bench ingest --records 100k --budget 6MiB --dir /var/tmp\n"
    "  zcmedia bench lookup --records 1M --lookups 100k\n"
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
  check_cmd->add_option("store", check_dir, "Store directory")->required();
  check_cmd->add_flag("--deep", check_deep, "Also cross-check every index entry and record, and the totals");
  check_cmd->add_flag("--repair", check_repair,
                      "If every problem is in the indexes, rebuild them from the segments (takes the writer lock)");
  std::string stats_dir;
  bool stats_json = false, stats_prometheus = false;
  CLI::App* stats_cmd = app.add_subcommand("stats", "Counts, sizes and totals of a store (read-only)");
  stats_cmd->add_option("store", stats_dir, "Store directory")->required();
  CLI::Option* json_flag = stats_cmd->add_flag("--json", stats_json, "One JSON object");
  stats_cmd->add_flag("--prometheus", stats_prometheus, "Prometheus text format")->excludes(json_flag);
  std::string compact_dir;
  CLI::App* compact_cmd =
      app.add_subcommand("compact", "Merge each index into one run file (fastest lookups after a bulk load)");
  compact_cmd->add_option("store", compact_dir, "Store directory")->required();

  // demo
  DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo", "Store a generated library, reopen it and check every value read back");
  AddCountOption(demo_cmd, "-n,--records", &demo.records, "How many records to generate");
  demo_cmd->add_option("-d,--dir", demo.dir,
                       "Store directory; removed first if it already holds a store")
      ->capture_default_str();
  AddSeedOption(demo_cmd, &demo.seed);

#if ZCMEDIA_WITH_BENCHMARKS
  // bench
  CLI::App* bench_cmd = app.add_subcommand("bench", "Benchmarks against the legacy SQLite database");
  bench_cmd->require_subcommand(1);
  bench_cmd->footer(
      "Examples:\n"
      "  zcmedia bench ingest --records 1M --json\n"
      "  zcmedia bench lookup --records 1M --runs 3\n"
      "  zcmedia bench generate --records 10M");

  IngestBenchOptions ingest;
  CLI::App* ingest_cmd = bench_cmd->add_subcommand(
      "ingest", "Bulk-store N records in the store and in legacy SQLite; records/s, bytes, memory");
  AddCountOption(ingest_cmd, "-n,--records", &ingest.records, "Records per run");
  ingest_cmd->add_option("-r,--runs", ingest.runs, "Runs per side (median reported)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  ingest_cmd->add_flag("--json", ingest.json, "Print one JSON object as the last line");
  ingest_cmd->add_option("--baseline", ingest.baseline,
                    "JSON line of a saved run (--json); flags figures more than 10% worse, exit status 3")
      ->check(CLI::ExistingFile);
  ingest_cmd->add_option("-d,--dir", ingest.dir, "Parent of the per-run temporary directories")
      ->capture_default_str();
  ingest_cmd->add_option("--budget", ingest.memory_budget,
                         "Store memory budget in bytes (Options::memory_budget; default 6 MiB)")
      ->transform(CLI::AsSizeValue(false));
  ingest_cmd->add_flag("--keep", ingest.keep, "Keep the last run's store and database");
  ingest_cmd->add_flag("--store-only", ingest.store_only,
                       "Measure the store alone (no SQLite runs, no ratio): for quick checks at large N");
  ingest_cmd->add_flag("--reader", ingest.reader,
                       "A thread looks records up by id and path (skewed keys) during the store's load: peak memory "
                       "with the lookup cache in use");
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
  lookup_cmd->add_option("-r,--runs", lookup.runs, "Runs (median reported)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  lookup_cmd->add_flag("--json", lookup.json, "Print one JSON object as the last line");
  lookup_cmd->add_option("--baseline", lookup.baseline,
                    "JSON line of a saved run (--json); flags figures more than 10% worse, exit status 3")
      ->check(CLI::ExistingFile);
  lookup_cmd->add_option("-d,--dir", lookup.dir, "Parent of the temporary directory")
      ->capture_default_str();
  lookup_cmd->add_option("--budget", lookup.memory_budget, "Store memory budget in bytes")
      ->transform(CLI::AsSizeValue(false));
  bool lookup_no_compact = false;
  lookup_cmd->add_flag("--no-compact", lookup_no_compact,
                       "Query the store as loaded (several index runs), without CompactIndexes");
  AddSeedOption(lookup_cmd, &lookup.seed);

  GenerateBenchOptions generate;
  CLI::App* generate_cmd = bench_cmd->add_subcommand(
      "generate", "Speed and shape of the workload generator (shares, artists, paths, uniqueness)");
  AddCountOption(generate_cmd, "-n,--records", &generate.records, "Records to generate");
  generate_cmd->add_flag("--json", generate.json, "Print one JSON object as the last line");
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
    if (demo_cmd->parsed()) return RunDemo(demo);
    if (check_cmd->parsed()) return zcmedia::shell::RunCheck(check_dir, check_deep, check_repair);
    if (stats_cmd->parsed()) {
      using zcmedia::shell::StatsFormat;
      return zcmedia::shell::RunStats(stats_dir, stats_json         ? StatsFormat::kJson
                                                 : stats_prometheus ? StatsFormat::kPrometheus
                                                                    : StatsFormat::kText);
    }
    if (compact_cmd->parsed()) return zcmedia::shell::RunCompactIndexes(compact_dir);
#if ZCMEDIA_WITH_BENCHMARKS
    if (ingest_cmd->parsed()) return RunIngestBench(ingest);
    if (lookup_cmd->parsed()) {
      lookup.compact = !lookup_no_compact;
      return RunLookupBench(lookup);
    }
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
