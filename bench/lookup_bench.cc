// zcmedia bench lookup: point lookups by path and by id, and directory
// listings, on a store and on the legacy SQLite database holding the same N
// generated records. Follows perf-anchors.md section 2: keys sampled
// uniformly over the records and shuffled, page cache warmed, every column
// of every result read, medians [min–max] over interleaved runs. The same
// lookups are also run with skewed keys (Zipf), where the store's lookup
// cache can help; its hit rate is reported per query.
#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "commands.h"
#include "generator.h"
#include "sqlite_legacy.h"
#include "store_writer.h"
#include "zcmedia/store.h"

namespace zcmedia::bench {

namespace {

struct SampledRecord {
  uint64_t ordinal = 0;
  std::string path;
  int64_t store_id = 0;
  int64_t sqlite_id = 0;
};

// One sequence of point lookups: the same records by path and by id.
struct PointKeys {
  std::vector<std::string_view> paths;   // views into the samples
  std::vector<int64_t> store_ids;        // same records as `paths`, same order
  std::vector<int64_t> sqlite_ids;
  void Add(const SampledRecord& sample) {
    paths.push_back(sample.path);
    store_ids.push_back(sample.store_id);
    sqlite_ids.push_back(sample.sqlite_id);
  }
};

struct Workload {
  PointKeys uniform;  // every sampled record equally likely
  // Zipf (s = 1) over the sampled records in a random order of popularity:
  // a few records are asked for often (what a server's hot folders and
  // recently played tracks look like), most rarely.
  PointKeys zipf;
  std::vector<std::string_view> directories;
  std::vector<std::string> artists;  // for track lists: sampled from the artist listing
};

// Loads both databases in one pass over the generator and samples the keys
// on the way (reservoir sampling: O(sample) memory for any N).
void BuildBoth(const LookupBenchOptions& options, const std::string& store_dir,
               const std::string& db_path, Reservoir<SampledRecord>* keys,
               Reservoir<std::string>* directories) {
  Options store_options;
  if (options.memory_budget) store_options.memory_budget = options.memory_budget;
  std::unique_ptr<Store> store;
  CheckOk(Store::Open(store_dir, store_options, &store), "Store::Open('" + store_dir + "')");
  std::unique_ptr<LegacyDb> db = LegacyDb::Create(db_path);

  // Slots sampled since the last store commit: their store id is not known
  // until the batch holding them is written.
  std::vector<size_t> pending;
  BatchedStoreWriter writer(
      store.get(), [&](uint64_t first_ordinal, const std::vector<int64_t>& ids) {
        for (size_t slot : pending) {
          SampledRecord& sample = keys->items()[slot];
          if (sample.ordinal >= first_ordinal && sample.ordinal - first_ordinal < ids.size()) {
            sample.store_id = ids[sample.ordinal - first_ordinal];
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
    if (SampledRecord* sample = keys->Offer()) {
      *sample = SampledRecord{ordinal, record.path, 0, sqlite_id};
      pending.push_back(static_cast<size_t>(sample - keys->items().data()));
    }
    // The parent of a uniformly sampled record: big folders are listed more
    // often, as in the reference runs.
    if (std::string* directory = directories->Offer()) *directory = record.parent_path;
    writer.Put(fields);
  }
  writer.Flush();
  db->Commit();
  if (options.compact) CheckOk(store->CompactIndexes(), "Store::CompactIndexes");
  for (const SampledRecord& sample : keys->items()) {
    if (sample.store_id == 0) {
      throw BenchError("no store id was reported for record " + std::to_string(sample.ordinal));
    }
  }
}

// L keys from a sample of up to L: cycled when N < L, then shuffled.
Workload MakeWorkload(const LookupBenchOptions& options, const Reservoir<SampledRecord>& keys,
                      const Reservoir<std::string>& directories) {
  Workload w;
  const auto& samples = keys.items();
  std::vector<size_t> order(options.lookups);
  for (size_t i = 0; i < order.size(); ++i) order[i] = i % samples.size();
  std::mt19937_64 rng(options.seed ^ 0x5EED);
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t i : order) w.uniform.Add(samples[i]);
  const auto& dirs = directories.items();
  for (uint64_t i = 0; i < options.directories; ++i) w.directories.push_back(dirs[i % dirs.size()]);
  std::shuffle(w.directories.begin(), w.directories.end(), rng);
  // After the uniform keys and the directories, which stay as they were.
  // Rank r (0-based) of the popularity order is drawn with weight 1/(r+1).
  std::vector<size_t> popularity(samples.size());
  for (size_t i = 0; i < popularity.size(); ++i) popularity[i] = i;
  std::shuffle(popularity.begin(), popularity.end(), rng);
  std::vector<double> cdf(samples.size());
  double total = 0;
  for (size_t r = 0; r < cdf.size(); ++r) cdf[r] = total += 1.0 / double(r + 1);
  std::uniform_real_distribution<double> unit(0.0, total);
  for (uint64_t k = 0; k < options.lookups; ++k) {
    const size_t rank = std::min<size_t>(std::lower_bound(cdf.begin(), cdf.end(), unit(rng)) - cdf.begin(),
                                         cdf.size() - 1);
    w.zipf.Add(samples[popularity[rank]]);
  }
  return w;
}

struct Pass {
  double per_s = 0;
  uint64_t checksum = 0;
  uint64_t rows = 0;
};

Pass StorePathLookups(Store& store, const PointKeys& keys) {
  std::shared_ptr<const Snapshot> snapshot = store.GetSnapshot();
  Pass pass;
  MediaFileView view;
  Stopwatch clock;
  for (std::string_view path : keys.paths) {
    Status status = snapshot->FindByPath(path, &view);
    if (!status.ok()) CheckOk(status, "Snapshot::FindByPath('" + std::string(path) + "')");
    pass.checksum += TouchColumns(view.Fields());
  }
  pass.per_s = double(keys.paths.size()) / clock.Seconds();
  pass.rows = keys.paths.size();
  return pass;
}

Pass StoreIdLookups(Store& store, const PointKeys& keys) {
  std::shared_ptr<const Snapshot> snapshot = store.GetSnapshot();
  Pass pass;
  MediaFileView view;
  Stopwatch clock;
  for (int64_t id : keys.store_ids) {
    Status status = snapshot->Get(id, &view);
    if (!status.ok()) CheckOk(status, "Snapshot::Get(" + std::to_string(id) + ")");
    pass.checksum += TouchColumns(view.Fields());
  }
  pass.per_s = double(keys.store_ids.size()) / clock.Seconds();
  pass.rows = keys.store_ids.size();
  return pass;
}

Pass StoreDirectoryListings(Store& store, const Workload& w) {
  std::shared_ptr<const Snapshot> snapshot = store.GetSnapshot();
  Pass pass;
  std::vector<MediaFileView> views;
  std::vector<std::pair<std::string_view, MediaFileView>> by_name;
  Stopwatch clock;
  for (std::string_view directory : w.directories) {
    views.clear();
    CheckOk(snapshot->ListDirectory(directory, &views),
            "Snapshot::ListDirectory('" + std::string(directory) + "')");
    // The legacy query orders by filename; the store lists in id order.
    by_name.clear();
    for (const MediaFileView& v : views) by_name.emplace_back(v.filename().value_or(""), v);
    std::sort(by_name.begin(), by_name.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& entry : by_name) pass.checksum += TouchColumns(entry.second.Fields());
    pass.rows += views.size();
  }
  pass.per_s = double(w.directories.size()) / clock.Seconds();
  return pass;
}

// One pass lists every music category once (artists, albums, genres, album
// artists, years), as a server's music browser does; counted per listing.
constexpr Category kListedCategories[] = {Category::kArtist, Category::kAlbum, Category::kGenre,
                                          Category::kAlbumArtist, Category::kYear};
constexpr const char* kListedColumns[] = {"artist", "album", "genre", "album_artist", "year"};

// Listing results are compared order-insensitively: the legacy ORDER BY
// leaves the order of NOCASE-equal names open.
uint64_t ValueChecksum(std::string_view text, uint64_t count) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
  return (h ^ count) * 0x9E3779B97F4A7C15ull;
}

Pass StoreCategoryListings(Store& store, const Workload&) {
  std::shared_ptr<const Snapshot> snapshot = store.GetSnapshot();
  Pass pass;
  std::vector<CategoryCount> values;
  Stopwatch clock;
  for (Category category : kListedCategories) {
    CheckOk(snapshot->ListCategory(category, &values), "Snapshot::ListCategory");
    for (const CategoryCount& v : values)
      pass.checksum += ValueChecksum(category == Category::kYear ? std::to_string(v.year) : std::string(v.name),
                                     v.tracks);
    pass.rows += values.size();
  }
  pass.per_s = double(std::size(kListedCategories)) / clock.Seconds();
  return pass;
}

Pass SqliteCategoryListings(LegacyDb& db, const Workload&) {
  Pass pass;
  Stopwatch clock;
  for (const char* column : kListedColumns) {
    pass.rows += db.ListCategory(column, [&](std::string_view text, int64_t count) {
      pass.checksum += ValueChecksum(text, static_cast<uint64_t>(count));
    });
  }
  pass.per_s = double(std::size(kListedColumns)) / clock.Seconds();
  return pass;
}

Pass StoreArtistTracks(Store& store, const Workload& w) {
  std::shared_ptr<const Snapshot> snapshot = store.GetSnapshot();
  Pass pass;
  std::vector<MediaFileView> tracks;
  Stopwatch clock;
  for (const std::string& artist : w.artists) {
    CheckOk(snapshot->ListTracks(Category::kArtist, artist, &tracks), "Snapshot::ListTracks");
    for (const MediaFileView& t : tracks) pass.checksum = pass.checksum * 31 + TouchColumns(t.Fields());
    pass.rows += tracks.size();
  }
  pass.per_s = double(w.artists.size()) / clock.Seconds();
  return pass;
}

Pass SqliteArtistTracks(LegacyDb& db, const Workload& w) {
  Pass pass;
  Stopwatch clock;
  for (const std::string& artist : w.artists) {
    pass.rows += db.ListArtistTracks(
        artist, [&](const MediaFileFields& f) { pass.checksum = pass.checksum * 31 + TouchColumns(f); });
  }
  pass.per_s = double(w.artists.size()) / clock.Seconds();
  return pass;
}

Pass SqlitePathLookups(LegacyDb& db, const PointKeys& keys) {
  Pass pass;
  MediaFileFields fields;
  Stopwatch clock;
  for (std::string_view path : keys.paths) {
    if (!db.FindByPath(path, &fields)) throw BenchError("SQLite has no row for '" + std::string(path) + "'");
    pass.checksum += TouchColumns(fields);
  }
  pass.per_s = double(keys.paths.size()) / clock.Seconds();
  pass.rows = keys.paths.size();
  return pass;
}

Pass SqliteIdLookups(LegacyDb& db, const PointKeys& keys) {
  Pass pass;
  MediaFileFields fields;
  Stopwatch clock;
  for (int64_t id : keys.sqlite_ids) {
    if (!db.FindById(id, &fields)) throw BenchError("SQLite has no row with id " + std::to_string(id));
    pass.checksum += TouchColumns(fields);
  }
  pass.per_s = double(keys.sqlite_ids.size()) / clock.Seconds();
  pass.rows = keys.sqlite_ids.size();
  return pass;
}

Pass SqliteDirectoryListings(LegacyDb& db, const Workload& w) {
  Pass pass;
  Stopwatch clock;
  for (std::string_view directory : w.directories) {
    pass.rows += db.ListDirectory(
        directory, [&](const MediaFileFields& fields) { pass.checksum += TouchColumns(fields); });
  }
  pass.per_s = double(w.directories.size()) / clock.Seconds();
  return pass;
}

struct QueryKind {
  const char* name;
  const char* json_key;
  Pass (*store)(Store&, const Workload&);
  Pass (*sqlite)(LegacyDb&, const Workload&);
  std::vector<double> store_rates;
  std::vector<double> sqlite_rates;
  uint64_t rows_per_run = 0;
  bool match = true;
  uint64_t cache_hits = 0, cache_misses = 0;  // over every store pass
};

// Point lookups by path or id over one of the workload's key sequences.
template <const PointKeys Workload::*kKeys>
Pass StorePaths(Store& store, const Workload& w) { return StorePathLookups(store, w.*kKeys); }
template <const PointKeys Workload::*kKeys>
Pass StoreIds(Store& store, const Workload& w) { return StoreIdLookups(store, w.*kKeys); }
template <const PointKeys Workload::*kKeys>
Pass SqlitePaths(LegacyDb& db, const Workload& w) { return SqlitePathLookups(db, w.*kKeys); }
template <const PointKeys Workload::*kKeys>
Pass SqliteIds(LegacyDb& db, const Workload& w) { return SqliteIdLookups(db, w.*kKeys); }

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

  Reservoir<SampledRecord> keys(std::min(options.lookups, options.records), options.seed ^ 0x1);
  Reservoir<std::string> directories(std::min(options.directories, options.records),
                                     options.seed ^ 0x2);
  Stopwatch build_clock;
  BuildBoth(options, store_dir, db_path, &keys, &directories);
  std::printf("  built store and SQLite database in %.1f s (untimed)\n", build_clock.Seconds());
  Workload workload = MakeWorkload(options, keys, directories);

  // Fresh handles, as a server starting on an existing library would have.
  Options store_options;
  if (options.memory_budget) store_options.memory_budget = options.memory_budget;
  std::unique_ptr<Store> store;
  CheckOk(Store::Open(store_dir, store_options, &store), "Store::Open('" + store_dir + "')");
  std::unique_ptr<LegacyDb> db = LegacyDb::OpenReadOnly(db_path);
  {
    // Artists for the track lists: a seeded sample of the artist listing.
    std::vector<CategoryCount> artists;
    CheckOk(store->GetSnapshot()->ListCategory(Category::kArtist, &artists), "Snapshot::ListCategory");
    std::mt19937_64 rng(options.seed ^ 0xA57);
    for (size_t i = 0; i < std::min<size_t>(artists.size(), options.directories / 10 + 1); ++i)
      workload.artists.emplace_back(artists[rng() % artists.size()].name);
  }
  SyncFilesystems();
  WarmPageCache(temp.path());

  QueryKind kinds[] = {
      {"point lookup by path", "path_lookups", StorePaths<&Workload::uniform>, SqlitePaths<&Workload::uniform>, {}, {}},
      {"point lookup by id", "id_lookups", StoreIds<&Workload::uniform>, SqliteIds<&Workload::uniform>, {}, {}},
      {"path lookup, Zipf keys", "path_lookups_zipf", StorePaths<&Workload::zipf>, SqlitePaths<&Workload::zipf>, {}, {}},
      {"id lookup, Zipf keys", "id_lookups_zipf", StoreIds<&Workload::zipf>, SqliteIds<&Workload::zipf>, {}, {}},
      {"directory listing", "dir_listings", StoreDirectoryListings, SqliteDirectoryListings, {}, {}},
      {"category listing", "category_listings", StoreCategoryListings, SqliteCategoryListings, {}, {}},
      {"tracks of an artist", "artist_tracks", StoreArtistTracks, SqliteArtistTracks, {}, {}},
  };
  for (int run = 0; run < options.runs; ++run) {
    for (QueryKind& kind : kinds) {
      Pass store_pass, sqlite_pass;
      const StoreStats cache_before = store->GetStats();
      // Alternate which side goes first from run to run.
      if (run % 2 == 0) {
        store_pass = kind.store(*store, workload);
        sqlite_pass = kind.sqlite(*db, workload);
      } else {
        sqlite_pass = kind.sqlite(*db, workload);
        store_pass = kind.store(*store, workload);
      }
      const StoreStats cache_after = store->GetStats();
      kind.cache_hits += cache_after.cache_hits - cache_before.cache_hits;
      kind.cache_misses += cache_after.cache_misses - cache_before.cache_misses;
      kind.store_rates.push_back(store_pass.per_s);
      kind.sqlite_rates.push_back(sqlite_pass.per_s);
      kind.rows_per_run = sqlite_pass.rows;
      if (store_pass.checksum != sqlite_pass.checksum || store_pass.rows != sqlite_pass.rows) {
        kind.match = false;
        std::printf("  run %d %s: store and SQLite returned different rows (%llu vs %llu rows, "
                    "checksum %016llx vs %016llx)\n",
                    run + 1, kind.name, static_cast<unsigned long long>(store_pass.rows),
                    static_cast<unsigned long long>(sqlite_pass.rows),
                    static_cast<unsigned long long>(store_pass.checksum),
                    static_cast<unsigned long long>(sqlite_pass.checksum));
      }
      std::printf("  run %d/%d %-21s store %8s/s  sqlite %8s/s\n", run + 1, options.runs, kind.name,
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
      .Add("compacted", options.compact);
  for (QueryKind& kind : kinds) {
    const Summary store_rate = Summarize(kind.store_rates);
    const Summary sqlite_rate = Summarize(kind.sqlite_rates);
    const double ratio = store_rate.median / sqlite_rate.median;
    all_match = all_match && kind.match;
    std::printf("%-22s %s %s %.1fx%s\n", kind.name, PadRight(FormatSummary(store_rate), 28).c_str(),
                PadRight(FormatSummary(sqlite_rate), 28).c_str(), ratio,
                kind.match ? "" : "  RESULTS DIFFER");
    json.Add(std::string("store_") + kind.json_key + "_per_s", store_rate.median)
        .Add(std::string("sqlite_") + kind.json_key + "_per_s", sqlite_rate.median)
        .Add(std::string(kind.json_key) + "_ratio", ratio);
  }
  std::printf("store lookup cache (%s): hit rate", FormatByteSize(store->GetStats().cache_capacity).c_str());
  for (const QueryKind& kind : kinds) {
    if (kind.cache_hits + kind.cache_misses == 0) continue;
    const double rate = double(kind.cache_hits) / double(kind.cache_hits + kind.cache_misses);
    std::printf(" %s %.1f%%;", kind.json_key, 100 * rate);
    json.Add(std::string(kind.json_key) + "_cache_hit_rate", rate);
  }
  std::printf("\n");
  const QueryKind& listings = kinds[4];
  const double rows_per_listing = double(listings.rows_per_run) / double(options.directories);
  std::printf("directory listings return %.1f rows on average\n", rows_per_listing);
  std::printf("a category pass lists %s values in 5 listings; track lists of %zu artists return %.1f rows "
              "on average\n",
              FormatThousands(kinds[5].rows_per_run).c_str(), workload.artists.size(),
              double(kinds[6].rows_per_run) / double(std::max<size_t>(1, workload.artists.size())));
  json.Add("rows_per_listing", rows_per_listing)
      .Add("category_values_per_pass", kinds[5].rows_per_run)
      .Add("results_match", all_match);
  if (!all_match) std::printf("error: the store and SQLite disagree on some results (see above)\n");
  const bool regressed = !options.baseline.empty() && CompareWithBaseline(options.baseline, json) > 0;
  if (options.json) std::printf("%s\n", json.ToString().c_str());
  if (!all_match) return 1;
  return regressed ? kRegressionExitCode : 0;
}

}  // namespace zcmedia::bench
