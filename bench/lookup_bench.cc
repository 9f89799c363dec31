// zcmedia bench lookup: point lookups by path and by id, and directory
// listings, on a store and on the legacy SQLite database holding the same N
// generated records. Follows perf-anchors.md section 2: keys sampled
// uniformly over the records and shuffled, page cache warmed, every column
// of every result read, medians [min–max] over interleaved runs.
#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "commands.h"
#include "generator.h"
#include "query_passes.h"
#include "sqlite_legacy.h"
#include "store_writer.h"
#include "zcmedia/store.h"

namespace zcmedia::bench {

namespace {

// Loads both databases in one pass over the generator and samples the keys
// on the way (reservoir sampling: O(sample) memory for any N).
void BuildBoth(const LookupBenchOptions& options, const std::string& store_dir,
               const std::string& db_path, KeySample* sample) {
  std::unique_ptr<Store> store;
  CheckOk(Store::Open(store_dir, StoreOptionsWithBudget(options.memory_budget), &store),
          "Store::Open('" + store_dir + "')");
  std::unique_ptr<LegacyDb> db = LegacyDb::Create(db_path);

  // Slots sampled since the last store commit: their store id is not known
  // until the batch holding them is written.
  std::vector<size_t> pending;
  BatchedStoreWriter writer(
      store.get(), [&](uint64_t first_ordinal, const std::vector<int64_t>& ids) {
        for (size_t slot : pending) {
          SampledRecord& key = sample->records()[slot];
          if (key.ordinal >= first_ordinal && key.ordinal - first_ordinal < ids.size()) {
            key.store_id = ids[key.ordinal - first_ordinal];
          }
        }
        pending.clear();
      });

  LibraryGenerator generator(options.seed, options.records);
  GeneratedRecord record;
  db->Begin();
  for (uint64_t ordinal = 0; generator.Next(&record); ++ordinal) {
    const MediaFileFields fields = record.fields();
    const int64_t sqlite_id = db->Insert(fields);
    if (SampledRecord* key = sample->Offer(ordinal, record)) {
      key->sqlite_id = sqlite_id;
      pending.push_back(static_cast<size_t>(key - sample->records().data()));
    }
    writer.Put(fields);
  }
  writer.Flush();
  db->Commit();
  if (options.compact) CheckOk(store->CompactIndexes(), "Store::CompactIndexes");
  for (const SampledRecord& key : sample->records()) {
    if (key.store_id == 0) {
      throw BenchError("no store id was reported for record " + std::to_string(key.ordinal));
    }
  }
}

// A query pass and its figures over the runs.
struct QueryKind {
  QueryPass pass;
  std::vector<double> store_rates;
  std::vector<double> sqlite_rates;
  uint64_t rows_per_run = 0;
  bool match = true;
};

}  // namespace

int RunLookupBench(const LookupBenchOptions& options) {
  if (options.records == 0) throw BenchError("--records must be at least 1");
  if (options.runs < 1) throw BenchError("--runs must be at least 1");
  if (options.lookups == 0 || options.directories == 0) {
    throw BenchError("--lookups and --directories must be at least 1");
  }

  TempDir temp(options.dir, "zcmedia-lookup-");
  const std::string store_dir = temp.path() + "/store";
  const std::string db_path = temp.path() + "/media.db";

  std::printf("bench lookup: %s records (seed %llu), %s point lookups and %s directory listings "
              "per run, %d run%s\n",
              FormatThousands(options.records).c_str(),
              static_cast<unsigned long long>(options.seed),
              FormatThousands(options.lookups).c_str(), FormatThousands(options.directories).c_str(),
              options.runs, options.runs == 1 ? "" : "s");
  std::fflush(stdout);

  KeySample sample(options.records, options.lookups, options.directories, options.seed);
  Stopwatch build_clock;
  BuildBoth(options, store_dir, db_path, &sample);
  std::printf("  built store and SQLite database in %.1f s (untimed)\n", build_clock.Seconds());
  Workload workload = MakeWorkload(sample, options.lookups, options.directories, options.seed);

  SyncFilesystems();
  if (options.restart) {
    EvictAsAfterARestart(temp.path());
  } else {
    WarmPageCache(temp.path());
  }

  // Fresh handles, as a server starting on an existing library would have.
  std::unique_ptr<Store> store;
  CheckOk(Store::Open(store_dir, StoreOptionsWithBudget(options.memory_budget), &store),
          "Store::Open('" + store_dir + "')");
  std::unique_ptr<LegacyDb> db = LegacyDb::OpenReadOnly(db_path);
  {
    // Artists for the track lists: a seeded sample of the artist listing.
    std::vector<CategoryCount> artists;
    CheckOk(store->GetSnapshot()->ListCategory(Category::kArtist, &artists), "Snapshot::ListCategory");
    std::mt19937_64 rng(options.seed ^ 0xA57);
    for (size_t i = 0; i < std::min<size_t>(artists.size(), options.directories / 10 + 1); ++i)
      workload.artists.emplace_back(artists[rng() % artists.size()].name);
  }
  std::vector<QueryKind> kinds;
  for (const QueryPass& pass : AllQueryPasses()) kinds.push_back(QueryKind{pass, {}, {}});
  if (options.restart) {
    // The warm-up: each side reads what the workload needs through its own
    // read path (the store's mappings, SQLite's reads), untimed.
    Stopwatch warm_clock;
    for (QueryKind& kind : kinds) {
      kind.pass.store(*store, workload);
      kind.pass.sqlite(*db, workload);
    }
    std::printf("  warm-up pass of every query class on both sides: %.1f s (untimed)\n", warm_clock.Seconds());
  }
  for (int run = 0; run < options.runs; ++run) {
    for (QueryKind& kind : kinds) {
      Pass store_pass, sqlite_pass;
      // Alternate which side goes first from run to run.
      if (run % 2 == 0) {
        store_pass = kind.pass.store(*store, workload);
        sqlite_pass = kind.pass.sqlite(*db, workload);
      } else {
        sqlite_pass = kind.pass.sqlite(*db, workload);
        store_pass = kind.pass.store(*store, workload);
      }
      kind.store_rates.push_back(store_pass.per_s);
      kind.sqlite_rates.push_back(sqlite_pass.per_s);
      kind.rows_per_run = sqlite_pass.rows;
      if (store_pass.checksum != sqlite_pass.checksum || store_pass.rows != sqlite_pass.rows) {
        kind.match = false;
        std::printf("  run %d %s: store and SQLite returned different rows (%llu vs %llu rows, "
                    "checksum %016llx vs %016llx)\n",
                    run + 1, kind.pass.name, static_cast<unsigned long long>(store_pass.rows),
                    static_cast<unsigned long long>(sqlite_pass.rows),
                    static_cast<unsigned long long>(store_pass.checksum),
                    static_cast<unsigned long long>(sqlite_pass.checksum));
      }
      std::printf("  run %d/%d %-21s store %8s/s  sqlite %8s/s\n", run + 1, options.runs, kind.pass.name,
                  FormatSi(store_pass.per_s).c_str(), FormatSi(sqlite_pass.per_s).c_str());
      std::fflush(stdout);
    }
  }

  std::printf("\nmedian [min–max] (runs); every column of every row read; store: one Snapshot "
              "per pass, listings sorted by filename\n");
  std::printf("%-22s %-28s %-28s %s\n", "", "store per second", "sqlite per second", "store/sqlite");
  bool all_match = true;
  JsonLine json;
  json.Add("bench", "lookup")
      .Add("records", options.records)
      .Add("runs", options.runs)
      .Add("seed", options.seed)
      .Add("lookups", options.lookups)
      .Add("directories", options.directories)
      .Add("page_cache", options.restart ? "restart" : "as-written");
  for (QueryKind& kind : kinds) {
    const Summary store_rate = Summarize(kind.store_rates);
    const Summary sqlite_rate = Summarize(kind.sqlite_rates);
    const double ratio = store_rate.median / sqlite_rate.median;
    all_match = all_match && kind.match;
    std::printf("%-22s %s %s %.1fx%s\n", kind.pass.name, PadRight(FormatSummary(store_rate), 28).c_str(),
                PadRight(FormatSummary(sqlite_rate), 28).c_str(), ratio,
                kind.match ? "" : "  RESULTS DIFFER");
    json.Add(std::string("store_") + kind.pass.json_key + "_per_s", store_rate.median)
        .Add(std::string("sqlite_") + kind.pass.json_key + "_per_s", sqlite_rate.median)
        .Add(std::string(kind.pass.json_key) + "_ratio", ratio);
  }
  const QueryKind& listings = kinds[2];
  const double rows_per_listing = double(listings.rows_per_run) / double(options.directories);
  std::printf("directory listings return %.1f rows on average\n", rows_per_listing);
  std::printf("a category pass lists %s values in 5 listings; track lists of %zu artists return %.1f rows "
              "on average\n",
              FormatThousands(kinds[3].rows_per_run).c_str(), workload.artists.size(),
              double(kinds[4].rows_per_run) / double(std::max<size_t>(1, workload.artists.size())));
  json.Add("rows_per_listing", rows_per_listing)
      .Add("category_values_per_pass", kinds[3].rows_per_run)
      .Add("results_match", all_match);
  if (!all_match) std::printf("error: the store and SQLite disagree on some results (see above)\n");
  const bool regressed = !options.baseline.empty() && CompareWithBaseline(options.baseline, json) > 0;
  if (options.json) std::printf("%s\n", json.ToString().c_str());
  if (!all_match) return 1;
  return regressed ? kRegressionExitCode : 0;
}

}  // namespace zcmedia::bench
