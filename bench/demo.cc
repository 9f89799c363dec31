// zcmedia demo: the store's main job end to end. Stores a generated library,
// closes it, reopens it, and checks that what comes back (by id, by path, by
// directory, and every record in id order) equals what was written.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench_util.h"
#include "commands.h"
#include "generator.h"
#include "store_writer.h"
#include "zcmedia/check.h"
#include "zcmedia/store.h"

namespace zcmedia::bench {

namespace {

constexpr size_t kRecordSamples = 2'000;
constexpr size_t kFolderSamples = 100;
constexpr size_t kMaxFilesPerFolder = 150;  // the generator's bound
constexpr uint64_t kTimedLookups = 100'000;
constexpr int kMaxReportedMismatches = 10;

struct ExpectedRecord {
  GeneratedRecord record;
  uint64_t ordinal = 0;
  int64_t id = 0;  // known once the batch holding it is committed

  MediaFileFields fields() const {
    MediaFileFields f = record.fields();
    f.id = id;
    return f;
  }
};

struct ExpectedFolder {
  std::string parent;
  std::vector<ExpectedRecord> records;
};

std::string Quote(const OptText& t) {
  if (!t) return "NULL";
  // Built piecewise: `"'" + std::string` trips a GCC 12 -Wrestrict false positive.
  std::string quoted(1, '\'');
  quoted += *t;
  quoted += '\'';
  return quoted;
}
std::string Quote(const OptInt& i) { return i ? std::to_string(*i) : std::string("NULL"); }

// "title: 'a' != 'b'; year: NULL != 1999" for the columns that differ.
std::string DescribeDifference(const MediaFileFields& want, const MediaFileFields& got) {
  std::string out;
  auto add = [&](const char* column, const std::string& a, const std::string& b) {
    if (a == b) return;
    if (!out.empty()) out += "; ";
    out += std::string(column) + ": wrote " + a + ", read " + b;
  };
  add("id", std::to_string(want.id), std::to_string(got.id));
  add("path", Quote(OptText(want.path)), Quote(OptText(got.path)));
  add("parent_path", Quote(want.parent_path), Quote(got.parent_path));
  add("canonical_path", Quote(want.canonical_path), Quote(got.canonical_path));
  add("canonical_parent_path", Quote(want.canonical_parent_path), Quote(got.canonical_parent_path));
  add("filename", Quote(want.filename), Quote(got.filename));
  add("size", std::to_string(want.size), std::to_string(got.size));
  add("modified", std::to_string(want.modified), std::to_string(got.modified));
  add("mime_type", Quote(want.mime_type), Quote(got.mime_type));
  add("duration", Quote(want.duration), Quote(got.duration));
  add("title", Quote(want.title), Quote(got.title));
  add("artist", Quote(want.artist), Quote(got.artist));
  add("album", Quote(want.album), Quote(got.album));
  add("genre", Quote(want.genre), Quote(got.genre));
  add("track_number", Quote(want.track_number), Quote(got.track_number));
  add("year", Quote(want.year), Quote(got.year));
  add("album_artist", Quote(want.album_artist), Quote(got.album_artist));
  add("created_at", std::to_string(want.created_at), std::to_string(got.created_at));
  add("updated_at", std::to_string(want.updated_at), std::to_string(got.updated_at));
  return out.empty() ? "SameColumns is false but every column prints equal" : out;
}

class Checker {
 public:
  // Compares one record; prints the first few mismatches in full.
  void Expect(const MediaFileFields& want, const MediaFileFields& got, const std::string& how) {
    ++checked_;
    if (SameColumns(want, got)) return;
    Mismatch(how + " '" + std::string(want.path) + "': " + DescribeDifference(want, got));
  }
  void Mismatch(const std::string& what) {
    if (++mismatches_ <= kMaxReportedMismatches) std::printf("  MISMATCH %s\n", what.c_str());
  }
  uint64_t checked() const { return checked_; }
  uint64_t mismatches() const { return mismatches_; }

 private:
  uint64_t checked_ = 0;
  uint64_t mismatches_ = 0;
};

// The demo directory is removed first only when it holds a store (or is
// empty): never delete a directory the user did not create with the demo.
void PrepareDirectory(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw BenchError("'" + dir + "' exists and is not a directory; pass another --dir");
  }
  if (std::filesystem::is_empty(dir, ec)) return;
  Options probe;
  probe.create_if_missing = false;
  probe.read_only = true;
  std::unique_ptr<Store> existing;
  Status status = Store::Open(dir, probe, &existing);
  if (!status.ok()) {
    throw BenchError("'" + dir + "' exists and is not a zcmedia store (" + status.ToString() +
                     "); remove it or pass another --dir");
  }
  existing.reset();
  std::printf("  removing the previous demo store in %s\n", dir.c_str());
  RemoveTree(dir);
}

}  // namespace

int RunDemo(const DemoOptions& options) {
  const uint64_t n = options.records;
  if (n == 0) throw BenchError("--records must be at least 1");
  const std::string& dir = options.dir;
  std::printf("zcmedia demo: %s generated records (seed %llu) -> %s\n", FormatThousands(n).c_str(),
              static_cast<unsigned long long>(options.seed), dir.c_str());
  PrepareDirectory(dir);

  // --- write ---------------------------------------------------------------
  Reservoir<ExpectedRecord> samples(kRecordSamples, options.seed ^ 0xD1);
  Reservoir<ExpectedFolder> folders(kFolderSamples, options.seed ^ 0xD2);
  // Sampled records whose batch is not written yet (pointers stay valid:
  // every sample vector is reserved up front and never grows past it).
  std::vector<ExpectedRecord*> pending;
  double write_s, compact_s;
  size_t batch_records;
  {
    std::unique_ptr<Store> store;
    Stopwatch clock;
    CheckOk(Store::Open(dir, Options{}, &store), "Store::Open('" + dir + "')");
    BatchedStoreWriter writer(
        store.get(), [&](uint64_t first_ordinal, const std::vector<int64_t>& ids) {
          for (ExpectedRecord* expected : pending) {
            if (expected->ordinal >= first_ordinal && expected->ordinal - first_ordinal < ids.size()) {
              expected->id = ids[expected->ordinal - first_ordinal];
            }
          }
          pending.clear();
        });
    batch_records = writer.batch_records();

    LibraryGenerator generator(options.seed, n);
    GeneratedRecord record;
    ExpectedFolder* folder = nullptr;  // the sampled folder being filled, if any
    std::string current_parent;
    for (uint64_t ordinal = 0; generator.Next(&record); ++ordinal) {
      // Files of a folder come out together, so a folder can be sampled when
      // its first file appears and filled as the rest arrive.
      if (ordinal == 0 || record.parent_path != current_parent) {
        current_parent = record.parent_path;
        folder = folders.Offer();
        if (folder) {
          folder->parent = record.parent_path;
          folder->records.clear();
          folder->records.reserve(kMaxFilesPerFolder);
          // A replaced folder's records may still be pending: forget them.
          pending.erase(std::remove_if(pending.begin(), pending.end(),
                                       [&](ExpectedRecord* p) {
                                         return p >= folder->records.data() &&
                                                p < folder->records.data() + kMaxFilesPerFolder;
                                       }),
                        pending.end());
        }
      }
      if (folder) {
        if (folder->records.size() == kMaxFilesPerFolder) {
          throw BenchError("generator put more than 150 files in " + folder->parent);
        }
        pending.push_back(&folder->records.emplace_back(ExpectedRecord{record, ordinal, 0}));
      }
      if (ExpectedRecord* sample = samples.Offer()) {
        *sample = ExpectedRecord{record, ordinal, 0};
        pending.push_back(sample);
      }
      writer.Put(record.fields());
    }
    writer.Flush();
    write_s = clock.Seconds();
    CheckOk(store->CompactIndexes(), "Store::CompactIndexes");
    compact_s = clock.Seconds() - write_s;
  }  // closes the store
  const DiskUsage usage = MeasureDirectory(dir);
  std::printf("  stored %s records in %.3f s, index compaction (%.3f s) included: %s rec/s "
              "(batches of %s, durable commit each)\n",
              FormatThousands(n).c_str(), write_s + compact_s, compact_s,
              FormatSi(double(n) / (write_s + compact_s)).c_str(),
              FormatThousands(batch_records).c_str());
  std::printf("  on disk: %.1f MB in %s files, %.0f bytes/record\n", double(usage.apparent_bytes) / 1e6,
              FormatThousands(usage.files).c_str(), double(usage.apparent_bytes) / double(n));

  // --- reopen and check ------------------------------------------------------
  Options reopen_options;
  reopen_options.create_if_missing = false;
  std::unique_ptr<Store> store;
  Stopwatch open_clock;
  CheckOk(Store::Open(dir, reopen_options, &store), "reopening Store::Open('" + dir + "')");
  const double reopen_s = open_clock.Seconds();
  std::shared_ptr<const Snapshot> snapshot = store->GetSnapshot();
  std::printf("  reopened in %.1f ms: %s records, next id %lld\n", reopen_s * 1e3,
              FormatThousands(snapshot->record_count()).c_str(),
              static_cast<long long>(snapshot->next_id()));

  Checker check;
  if (snapshot->record_count() != n) {
    check.Mismatch("record_count: wrote " + std::to_string(n) + ", store reports " +
                   std::to_string(snapshot->record_count()));
  }

  MediaFileView view;
  for (const ExpectedRecord& expected : samples.items()) {
    const MediaFileFields want = expected.fields();
    Status status = snapshot->Get(expected.id, &view);
    if (!status.ok()) {
      check.Mismatch("Get(" + std::to_string(expected.id) + ") for '" + expected.record.path +
                     "': " + status.ToString());
    } else {
      check.Expect(want, view.Fields(), "Get(" + std::to_string(expected.id) + ")");
    }
    status = snapshot->FindByPath(expected.record.path, &view);
    if (!status.ok()) {
      check.Mismatch("FindByPath('" + expected.record.path + "'): " + status.ToString());
    } else {
      check.Expect(want, view.Fields(), "FindByPath");
    }
  }

  uint64_t listed = 0;
  std::vector<MediaFileView> views;
  for (const ExpectedFolder& folder : folders.items()) {
    views.clear();
    Status status = snapshot->ListDirectory(folder.parent, &views);
    if (!status.ok()) {
      check.Mismatch("ListDirectory('" + folder.parent + "'): " + status.ToString());
      continue;
    }
    listed += views.size();
    if (views.size() != folder.records.size()) {
      check.Mismatch("ListDirectory('" + folder.parent + "') returned " + std::to_string(views.size()) +
                     " records, wrote " + std::to_string(folder.records.size()));
    }
    std::unordered_map<std::string_view, const ExpectedRecord*> by_path;
    for (const ExpectedRecord& expected : folder.records) by_path[expected.record.path] = &expected;
    int64_t previous_id = 0;
    for (const MediaFileView& v : views) {
      auto it = by_path.find(v.path());
      if (it == by_path.end()) {
        check.Mismatch("ListDirectory('" + folder.parent + "') returned a record not written there: '" +
                       std::string(v.path()) + "'");
        continue;
      }
      check.Expect(it->second->fields(), v.Fields(), "ListDirectory");
      if (v.id() <= previous_id) check.Mismatch("ListDirectory('" + folder.parent + "') not in id order");
      previous_id = v.id();
    }
  }

  // Every record, in id order, against the regenerated stream: ids were
  // assigned in Put order, so the two sequences line up.
  uint64_t scanned = 0;
  {
    LibraryGenerator generator(options.seed, n);
    GeneratedRecord record;
    std::unique_ptr<RecordIterator> it = snapshot->NewIterator();
    int64_t previous_id = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!generator.Next(&record)) {
        check.Mismatch("the iterator returns more than " + std::to_string(n) + " records");
        break;
      }
      MediaFileFields want = record.fields();
      want.id = it->id();
      if (it->id() <= previous_id) check.Mismatch("iterator ids not increasing at id " + std::to_string(it->id()));
      previous_id = it->id();
      check.Expect(want, it->record().Fields(), "scan at id " + std::to_string(it->id()));
      ++scanned;
    }
    if (!it->status().ok()) check.Mismatch("iterator: " + it->status().ToString());
    if (scanned != n) {
      check.Mismatch("the iterator returned " + std::to_string(scanned) + " records, wrote " +
                     std::to_string(n));
    }
  }

  // Absent keys must be NotFound, not errors or wrong rows.
  {
    Status status = snapshot->FindByPath("/media/music/no such artist/none.flac", &view);
    if (!status.IsNotFound()) check.Mismatch("FindByPath of an absent path: " + status.ToString());
    status = snapshot->Get(snapshot->next_id() + 1000, &view);
    if (!status.IsNotFound()) check.Mismatch("Get of an absent id: " + status.ToString());
  }

  std::printf("  checked %s records by id and by path, %zu directories (%s records), and all %s "
              "records in id order: ",
              FormatThousands(samples.items().size()).c_str(), folders.items().size(),
              FormatThousands(listed).c_str(), FormatThousands(scanned).c_str());
  if (check.mismatches()) {
    std::printf("%s MISMATCHES in %s comparisons\n", FormatThousands(check.mismatches()).c_str(),
                FormatThousands(check.checked()).c_str());
    return 1;
  }
  std::printf("OK\n");

  // --- figures ---------------------------------------------------------------
  uint64_t sink = 0;
  const auto& sampled = samples.items();
  Stopwatch id_clock;
  for (uint64_t i = 0; i < kTimedLookups; ++i) {
    if (snapshot->Get(sampled[i % sampled.size()].id, &view).ok()) sink += TouchColumns(view.Fields());
  }
  const double id_rate = double(kTimedLookups) / id_clock.Seconds();
  Stopwatch path_clock;
  for (uint64_t i = 0; i < kTimedLookups; ++i) {
    if (snapshot->FindByPath(sampled[i % sampled.size()].record.path, &view).ok()) {
      sink += TouchColumns(view.Fields());
    }
  }
  const double path_rate = double(kTimedLookups) / path_clock.Seconds();
  const auto& sampled_folders = folders.items();
  const uint64_t listings = std::max<uint64_t>(1000, sampled_folders.size());
  Stopwatch dir_clock;
  for (uint64_t i = 0; i < listings; ++i) {
    views.clear();
    if (snapshot->ListDirectory(sampled_folders[i % sampled_folders.size()].parent, &views).ok()) {
      for (const MediaFileView& v : views) sink += TouchColumns(v.Fields());
    }
  }
  const double dir_rate = double(listings) / dir_clock.Seconds();
  DoNotOptimize(sink);
  std::printf("  lookups (warm, every column read): %s/s by id, %s/s by path, %s directory "
              "listings/s\n",
              FormatSi(id_rate).c_str(), FormatSi(path_rate).c_str(), FormatSi(dir_rate).c_str());

  // --- music categories, totals, statistics, integrity -----------------------
  std::vector<CategoryCount> artists, albums, genres, years;
  CheckOk(snapshot->ListCategory(Category::kArtist, &artists), "ListCategory(artists)");
  CheckOk(snapshot->ListCategory(Category::kAlbum, &albums), "ListCategory(albums)");
  CheckOk(snapshot->ListCategory(Category::kGenre, &genres), "ListCategory(genres)");
  CheckOk(snapshot->ListCategory(Category::kYear, &years), "ListCategory(years)");
  // Every listed count must match the track list of that value.
  uint64_t artist_tracks = 0;
  const CategoryCount* busiest = nullptr;
  for (size_t i = 0; i < artists.size(); i += std::max<size_t>(1, artists.size() / 50)) {
    CheckOk(snapshot->ListTracks(Category::kArtist, artists[i].name, &views), "ListTracks");
    if (views.size() != artists[i].tracks)
      check.Mismatch("artist '" + std::string(artists[i].name) + "': listed with " +
                     std::to_string(artists[i].tracks) + " tracks, " + std::to_string(views.size()) + " found");
    artist_tracks += views.size();
    if (busiest == nullptr || artists[i].tracks > busiest->tracks) busiest = &artists[i];
  }
  const LibraryTotals totals = snapshot->totals();
  if (totals.total_files() != snapshot->record_count())
    check.Mismatch("totals count " + std::to_string(totals.total_files()) + " files, the store holds " +
                   std::to_string(snapshot->record_count()));
  std::printf("  music: %s artists, %s albums, %s genres, %s years (newest %lld)%s\n",
              FormatThousands(artists.size()).c_str(), FormatThousands(albums.size()).c_str(),
              FormatThousands(genres.size()).c_str(), FormatThousands(years.size()).c_str(),
              years.empty() ? 0LL : static_cast<long long>(years.front().year),
              busiest ? (", e.g. " + std::string(busiest->name) + " with " + std::to_string(busiest->tracks) +
                         " tracks").c_str()
                      : "");
  auto files = [&](MimeFamily f) { return FormatThousands(totals.files[static_cast<int>(f)]); };
  std::printf("  library: %s audio, %s video, %s image files, %s in all (maintained totals, no scan)\n",
              files(MimeFamily::kAudio).c_str(), files(MimeFamily::kVideo).c_str(), files(MimeFamily::kImage).c_str(),
              FormatByteSize(static_cast<uint64_t>(totals.total_bytes())).c_str());
  // The directory tree: /media's subdirectories hold every file, so their
  // counts must add up to the maintained totals.
  std::vector<DirectoryInfo> top;
  CheckOk(snapshot->ListSubdirectories("/media", std::nullopt, &top), "ListSubdirectories('/media')");
  std::vector<DirectoryInfo> with_video;
  CheckOk(snapshot->ListSubdirectories("/media", MimeFamily::kVideo, &with_video), "ListSubdirectories(video)");
  uint64_t below = 0;
  std::string names;
  for (const DirectoryInfo& d : top) {
    below += d.total_files();
    names += (names.empty() ? "" : ", ") + std::string(d.name) + " (" + FormatThousands(d.total_files()) + ")";
  }
  if (below != totals.total_files())
    check.Mismatch("the subdirectories of /media hold " + std::to_string(below) + " files, the totals say " +
                   std::to_string(totals.total_files()));
  std::printf("  directories: /media holds %s; %s of them hold video\n", names.c_str(),
              FormatThousands(with_video.size()).c_str());
  const StoreStats stats = store->GetStats();
  uint64_t errors = 0;
  for (uint64_t e : stats.errors) errors += e;
  std::printf("  stats since the reopen: %s lookups, %s errors\n", FormatThousands(stats.lookups).c_str(),
              FormatThousands(errors).c_str());
  CheckReport report;
  CheckOk(CheckStore(dir, /*deep=*/true, &report), "CheckStore('" + dir + "')");
  std::printf("  deep check: %s batches, %s index entries and %s live records cross-checked: %s\n",
              FormatThousands(report.batches).c_str(), FormatThousands(report.index_entries).c_str(),
              FormatThousands(report.live_records).c_str(), report.ok() ? "OK" : "PROBLEMS");
  if (!report.ok()) {
    std::printf("%s", report.ToString().c_str());
    return 1;
  }
  if (check.mismatches()) {
    std::printf("%s MISMATCHES\n", FormatThousands(check.mismatches()).c_str());
    return 1;
  }
  std::printf("  the store is left in %s\n", dir.c_str());
  return 0;
}

}  // namespace zcmedia::bench
