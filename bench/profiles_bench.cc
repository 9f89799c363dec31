// zcmedia bench profiles: the store alone, loaded and queried under each
// memory-budget profile (6 MiB, the default, up to 1 GiB), to show what
// memory buys: a bigger budget means bigger batches (fewer fdatasyncs per
// record) and a bigger in-memory index, and costs that much heap.
//
// Each run loads a fresh store under one budget (ingest_runs.h, the load of
// bench ingest) and queries it (query_passes.h, the passes of bench lookup),
// each in a forked child whose RssAnon is sampled. Budgets are interleaved
// run by run, so that the machine's drift spreads over all of them.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench_util.h"
#include "commands.h"
#include "ingest_runs.h"
#include "query_passes.h"

namespace zcmedia::bench {

namespace {

constexpr size_t kMiB = size_t{1} << 20;
// The profiles docs/configuration.md describes, smallest (the default) first.
constexpr size_t kBudgetProfiles[] = {6 * kMiB, 64 * kMiB, 256 * kMiB, 1024 * kMiB};

// "budget_64mib": the prefix of one profile's JSON keys.
std::string JsonPrefix(size_t budget) {
  std::string key = "budget_";
  for (char c : FormatByteSize(budget))
    if (c != ' ') key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

// One profile's figures over the runs.
struct ProfileRuns {
  size_t budget = 0;
  double batch_records = 0;
  std::vector<double> records_per_s, ingest_records_per_s, bytes_per_record;
  std::vector<double> load_peak_kib, query_peak_kib, peak_kib;
  std::map<std::string, std::vector<double>> query_per_s;  // by QueryPass::json_key
};

double Median(const std::vector<double>& values) { return Summarize(values).median; }

}  // namespace

int RunProfilesBench(const ProfilesBenchOptions& options) {
  if (options.records == 0) throw BenchError("--records must be at least 1");
  if (options.runs < 1) throw BenchError("--runs must be at least 1");
  if (options.lookups == 0 || options.directories == 0)
    throw BenchError("--lookups and --directories must be at least 1");

  std::printf("bench profiles: %s records (seed %llu), the store alone under each memory budget, "
              "%d run%s each, budgets interleaved; load and queries each in a forked child whose RssAnon "
              "is sampled every 1 ms\n",
              FormatThousands(options.records).c_str(), static_cast<unsigned long long>(options.seed),
              options.runs, options.runs == 1 ? "" : "s");
  const LoadArena arena(options.dir, options.seed, options.records, /*stream=*/false);
  const KeySample sample =
      SampleGeneratedLibrary(options.records, options.lookups, options.directories, options.seed);
  const Workload workload = MakeWorkload(sample, options.lookups, options.directories, options.seed);
  const std::vector<QueryPass> passes = PassesWithoutArtists();
  std::printf("  records from an arena file (%.1f s, untimed); %s point lookups (each of path and id) and "
              "%s directory listings per run on a warm page cache\n",
              arena.build_seconds(), FormatThousands(options.lookups).c_str(),
              FormatThousands(options.directories).c_str());
  std::fflush(stdout);

  std::vector<ProfileRuns> profiles;
  for (size_t budget : kBudgetProfiles) profiles.push_back(ProfileRuns{budget});
  for (int run = 0; run < options.runs; ++run) {
    for (ProfileRuns& profile : profiles) {
      TempDir dir(options.dir, "zcmedia-profile-");
      const LoadSpec spec{options.records, options.seed, profile.budget, false, arena.path()};
      const StoreIngestRun load = MeasureStoreIngest(spec, dir.path());
      WarmPageCache(dir.path());
      const QueryRun queries = MeasureStoreQueries(dir.path(), profile.budget, workload, passes);

      profile.batch_records = load.batch_records;
      profile.records_per_s.push_back(load.records_per_s);
      profile.ingest_records_per_s.push_back(load.ingest_records_per_s);
      profile.bytes_per_record.push_back(load.bytes_per_record);
      profile.load_peak_kib.push_back(load.peak_anon_kib);
      profile.query_peak_kib.push_back(queries.peak_anon_kib);
      profile.peak_kib.push_back(std::max(load.peak_anon_kib, queries.peak_anon_kib));
      for (const auto& [key, pass] : queries.passes) profile.query_per_s[key].push_back(pass.per_s);
      std::printf("  run %d/%d %-8s load %8s rec/s to durable (%s with compaction), peak anon +%s; "
                  "queries +%s\n",
                  run + 1, options.runs, FormatByteSize(profile.budget).c_str(),
                  FormatSi(load.ingest_records_per_s).c_str(), FormatSi(load.records_per_s).c_str(),
                  FormatKib(load.peak_anon_kib).c_str(), FormatKib(queries.peak_anon_kib).c_str());
      std::fflush(stdout);
    }
  }

  std::printf("\nmedians of %d run%s\n", options.runs, options.runs == 1 ? "" : "s");
  std::printf("%-9s %9s %12s %12s %13s %10s %10s %10s %6s\n", "budget", "batch", "rec/s dur.", "rec/s +comp.",
              "peak anon KiB", "path/s", "id/s", "dir/s", "B/rec");
  JsonLine json;
  json.Add("bench", "profiles")
      .Add("records", options.records)
      .Add("runs", options.runs)
      .Add("seed", options.seed)
      .Add("lookups", options.lookups)
      .Add("directories", options.directories);
  bool all_within_budget = true;
  for (const ProfileRuns& profile : profiles) {
    const double peak = Median(profile.peak_kib);
    const bool within_budget = peak * 1024 <= double(profile.budget);
    all_within_budget = all_within_budget && within_budget;
    std::printf("%-9s %9s %12s %12s %13s %10s %10s %10s %6.0f%s\n", FormatByteSize(profile.budget).c_str(),
                FormatThousands(uint64_t(profile.batch_records)).c_str(),
                FormatSi(Median(profile.ingest_records_per_s)).c_str(), FormatSi(Median(profile.records_per_s)).c_str(),
                FormatThousands(uint64_t(std::max(0.0, peak))).c_str(),
                FormatSi(Median(profile.query_per_s.at("path_lookups"))).c_str(),
                FormatSi(Median(profile.query_per_s.at("id_lookups"))).c_str(),
                FormatSi(Median(profile.query_per_s.at("dir_listings"))).c_str(), Median(profile.bytes_per_record),
                within_budget ? "" : "  OVER BUDGET");
    const std::string prefix = JsonPrefix(profile.budget) + "_";
    json.Add(prefix + "store_memory_budget", uint64_t(profile.budget))
        .Add(prefix + "store_batch_records", profile.batch_records)
        .Add(prefix + "store_ingest_records_per_s", Median(profile.ingest_records_per_s))
        .Add(prefix + "store_records_per_s", Median(profile.records_per_s))
        .Add(prefix + "store_peak_anon_kib", peak)
        .Add(prefix + "store_ingest_peak_anon_kib", Median(profile.load_peak_kib))
        .Add(prefix + "store_query_peak_anon_kib", Median(profile.query_peak_kib))
        .Add(prefix + "store_bytes_per_record", Median(profile.bytes_per_record));
    for (const auto& [key, rates] : profile.query_per_s) json.Add(prefix + "store_" + key + "_per_s", Median(rates));
  }
  std::printf("batch: records per WriteBatch (half the recommended size: two are in flight); peak anon: the larger of the load's and "
              "the queries' RssAnon peak over the child's baseline\n");
  json.Add("all_within_budget", all_within_budget);
  const bool regressed = !options.baseline.empty() && CompareWithBaseline(options.baseline, json) > 0;
  if (options.json) std::printf("%s\n", json.ToString().c_str());
  return regressed ? kRegressionExitCode : 0;
}

}  // namespace zcmedia::bench
