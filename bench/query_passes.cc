#include "query_passes.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <memory>
#include <random>
#include <utility>

#include "sqlite_legacy.h"
#include "zcmedia/store.h"

namespace zcmedia::bench {

KeySample::KeySample(uint64_t records, uint64_t lookups, uint64_t directories, uint64_t seed)
    : keys_(std::min(lookups, records), seed ^ 0x1), directories_(std::min(directories, records), seed ^ 0x2) {}

SampledRecord* KeySample::Offer(uint64_t ordinal, const GeneratedRecord& record) {
  SampledRecord* sample = keys_.Offer();
  if (sample) *sample = SampledRecord{ordinal, record.path, 0, 0};
  if (std::string* directory = directories_.Offer()) *directory = record.parent_path;
  return sample;
}

KeySample SampleGeneratedLibrary(uint64_t records, uint64_t lookups, uint64_t directories, uint64_t seed) {
  KeySample sample(records, lookups, directories, seed);
  LibraryGenerator generator(seed, records);
  GeneratedRecord record;
  for (uint64_t ordinal = 0; generator.Next(&record); ++ordinal) sample.Offer(ordinal, record);
  for (SampledRecord& key : sample.records()) {
    key.store_id = static_cast<int64_t>(key.ordinal) + 1;
    key.sqlite_id = key.store_id;
  }
  return sample;
}

Workload MakeWorkload(const KeySample& sample, uint64_t lookups, uint64_t directories, uint64_t seed) {
  Workload w;
  const auto& samples = sample.records();
  std::vector<size_t> order(lookups);
  for (size_t i = 0; i < order.size(); ++i) order[i] = i % samples.size();
  std::mt19937_64 rng(seed ^ 0x5EED);
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t i : order) {
    w.paths.push_back(samples[i].path);
    w.store_ids.push_back(samples[i].store_id);
    w.sqlite_ids.push_back(samples[i].sqlite_id);
  }
  const auto& dirs = sample.directories();
  for (uint64_t i = 0; i < directories; ++i) w.directories.push_back(dirs[i % dirs.size()]);
  std::shuffle(w.directories.begin(), w.directories.end(), rng);
  // Copy the keys, in the order of use, into one block.
  size_t bytes = 0;
  for (std::string_view key : w.paths) bytes += key.size();
  for (std::string_view key : w.directories) bytes += key.size();
  w.key_bytes = std::make_unique<char[]>(std::max<size_t>(1, bytes));
  char* next = w.key_bytes.get();
  for (auto* keys : {&w.paths, &w.directories}) {
    for (std::string_view& key : *keys) {
      std::copy(key.begin(), key.end(), next);
      key = std::string_view(next, key.size());
      next += key.size();
    }
  }
  return w;
}

namespace {

// Times one lookup per key; `lookup` returns the TouchColumns of the row it
// found (a template, so that the lambda is inlined into the timed loop).
template <typename Key, typename Lookup>
Pass TimePointLookups(const std::vector<Key>& keys, Lookup lookup) {
  Pass pass;
  Stopwatch clock;
  for (const Key& key : keys) pass.checksum += lookup(key);
  pass.per_s = double(keys.size()) / clock.Seconds();
  pass.rows = keys.size();
  return pass;
}

Pass StorePathLookups(Store& store, const Workload& w) {
  std::shared_ptr<const Snapshot> snapshot = store.GetSnapshot();
  MediaFileView view;
  return TimePointLookups(w.paths, [&](std::string_view path) {
    Status status = snapshot->FindByPath(path, &view);
    if (!status.ok()) CheckOk(status, "Snapshot::FindByPath('" + std::string(path) + "')");
    return TouchColumns(view.Fields());
  });
}

Pass StoreIdLookups(Store& store, const Workload& w) {
  std::shared_ptr<const Snapshot> snapshot = store.GetSnapshot();
  MediaFileView view;
  return TimePointLookups(w.store_ids, [&](int64_t id) {
    Status status = snapshot->Get(id, &view);
    if (!status.ok()) CheckOk(status, "Snapshot::Get(" + std::to_string(id) + ")");
    return TouchColumns(view.Fields());
  });
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

Pass SqlitePathLookups(LegacyDb& db, const Workload& w) {
  MediaFileFields fields;
  return TimePointLookups(w.paths, [&](std::string_view path) {
    if (!db.FindByPath(path, &fields)) throw BenchError("SQLite has no row for '" + std::string(path) + "'");
    return TouchColumns(fields);
  });
}

Pass SqliteIdLookups(LegacyDb& db, const Workload& w) {
  MediaFileFields fields;
  return TimePointLookups(w.sqlite_ids, [&](int64_t id) {
    if (!db.FindById(id, &fields)) throw BenchError("SQLite has no row with id " + std::to_string(id));
    return TouchColumns(fields);
  });
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


constexpr QueryPass kQueryPasses[] = {
    {"point lookup by path", "path_lookups", StorePathLookups, SqlitePathLookups, false},
    {"point lookup by id", "id_lookups", StoreIdLookups, SqliteIdLookups, false},
    {"directory listing", "dir_listings", StoreDirectoryListings, SqliteDirectoryListings, false},
    {"category listing", "category_listings", StoreCategoryListings, SqliteCategoryListings, false},
    {"tracks of an artist", "artist_tracks", StoreArtistTracks, SqliteArtistTracks, true},
};

using Values = std::map<std::string, double>;

// A checksum a double carries exactly, for the trip from child to parent.
constexpr uint64_t kChildChecksumMask = (uint64_t{1} << 52) - 1;

void ReportPass(const QueryPass& kind, const Pass& pass, Values& out) {
  const std::string key = kind.json_key;
  out[key + ".per_s"] = pass.per_s;
  out[key + ".rows"] = double(pass.rows);
  out[key + ".checksum"] = double(pass.checksum & kChildChecksumMask);
}

// Runs `open_and_query` (opens one side and reports each pass with
// ReportPass) in a sampled child; collects the figures and checks the ids
// against the paths.
template <typename OpenAndQuery>
QueryRun MeasureQueries(const char* side, std::span<const QueryPass> passes, OpenAndQuery open_and_query) {
  ChildReport report = RunInChild([&](Values& out) {
    out["baseline_anon_kib"] = double(ReadProcStatusKiB(0, "RssAnon"));
    open_and_query(out);
  });
  FailIfChildFailed(report, std::string(side) + " queries");
  QueryRun run;
  run.peak_anon_kib = double(report.peak_anon_kib) - report.at("baseline_anon_kib");
  for (const QueryPass& kind : passes) {
    const std::string key = kind.json_key;
    Pass& pass = run.passes[key];
    pass.per_s = report.at(key + ".per_s");
    pass.rows = uint64_t(report.at(key + ".rows"));
    pass.checksum = uint64_t(report.at(key + ".checksum"));
  }
  // The paths and ids of a workload name the same records in the same
  // order: if the ids were not the ones the records got, this shows it.
  auto by_path = run.passes.find("path_lookups"), by_id = run.passes.find("id_lookups");
  if (by_path != run.passes.end() && by_id != run.passes.end() &&
      by_path->second.checksum != by_id->second.checksum)
    throw BenchError(std::string(side) + ": the lookups by id returned other records than the lookups by path "
                     "(are the ids not 1.. in load order?)");
  return run;
}

}  // namespace

std::span<const QueryPass> AllQueryPasses() { return kQueryPasses; }

std::vector<QueryPass> PassesWithoutArtists() {
  std::vector<QueryPass> passes;
  for (const QueryPass& kind : kQueryPasses)
    if (!kind.needs_artists) passes.push_back(kind);
  return passes;
}

QueryRun MeasureStoreQueries(const std::string& store_dir, size_t memory_budget, const Workload& workload,
                             std::span<const QueryPass> passes) {
  return MeasureQueries("store", passes, [&](Values& out) {
    std::unique_ptr<Store> store;
    CheckOk(Store::Open(store_dir, StoreOptionsWithBudget(memory_budget), &store),
            "Store::Open('" + store_dir + "')");
    for (const QueryPass& kind : passes) ReportPass(kind, kind.store(*store, workload), out);
  });
}

QueryRun MeasureSqliteQueries(const std::string& db_path, const Workload& workload,
                              std::span<const QueryPass> passes) {
  return MeasureQueries("SQLite", passes, [&](Values& out) {
    std::unique_ptr<LegacyDb> db = LegacyDb::OpenReadOnly(db_path);
    for (const QueryPass& kind : passes) ReportPass(kind, kind.sqlite(*db, workload), out);
  });
}

}  // namespace zcmedia::bench
