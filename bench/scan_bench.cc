// `zcmedia bench scan`: the scanner (zcmedia::scan::Scan) on a generated
// tree of N small tagged MP3 files (scan_tree.h), first scan and rescan of
// the unchanged tree, beside the legacy server's way of doing the same: the
// same walk, the same TagLib reads (scan::ReadAudioTags), and one
// autocommitted INSERT per file into the legacy SQLite schema (LegacyDb);
// its rescan looks every file up by path and compares size and mtime.
//
// The tree is generated once, before the runs (not timed), and read once so
// that every side starts from the same warm page cache (dropping the
// machine's caches needs root and disturbs everything else on a shared
// host; bench_util's EvictFromPageCache would have to touch 100,000 files
// and still leave the inodes cached). Each side of each run runs in a forked
// child writing below a fresh directory; a rescan runs on the state its own
// first scan left in that directory, in a new process. sync() runs before
// each side; the order of the sides is reversed every other run.
//
// Sides:
//   zcmedia_scan       scan::Scan into a fresh LIB.db (scan::OpenOrCreateLibrary,
//                      then Store::Open on its store, as `zcmedia scan` does),
//                      --threads tag readers (0: one per core)
//   zcmedia_scan_1t    the same with one tag reader (the legacy server reads
//                      serially: the like-for-like comparison)
//   zcmedia_rescan     scan::Scan again on the zcmedia_scan side's library
//   legacy_scan        walk, ReadAudioTags per audio file, LegacyDb::Insert
//                      per file (autocommit, the legacy PRAGMAs), on one thread
//   legacy_rescan      walk, LegacyDb::FindByPath per file, size/mtime compared
// Each side's time is its scan alone (zcmedia: the Scan() call; legacy: the
// walk loop, and the close that checkpoints its WAL); opening the library or
// the database is reported apart (`*_open_ms`).
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "commands.h"
#include "library.h"
#include "media_types.h"
#include "scan_tree.h"
#include "scanner.h"
#include "sqlite_legacy.h"
#include "tag_reader.h"
#include "zcmedia/store.h"

namespace zcmedia::bench {
namespace {

using Values = std::map<std::string, double>;

// The targets: the first scan bound by TagLib and the disk, not by
// the database (the database's share of the scan under 5%); a rescan of an
// unchanged 100,000-file tree in under 2 seconds (scaled linearly with N).
constexpr double kTargetDatabaseShare = 0.05;
constexpr double kTargetRescanSecondsPer100k = 2.0;

enum class SideKind { kScan, kScan1, kRescan, kLegacyScan, kLegacyRescan };
constexpr SideKind kSides[] = {SideKind::kScan, SideKind::kScan1, SideKind::kLegacyScan, SideKind::kRescan,
                               SideKind::kLegacyRescan};

// JSON key prefix: the legacy sides carry "sqlite_" (the reference, not
// compared against a baseline).
// CPU seconds (user + system) of this process so far: each side runs in a
// child process of its own, so a difference is that side's CPU.
// CPU seconds of the calling thread so far.
double ThreadCpuSeconds() {
  struct timespec t;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return 0;
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

double ProcessCpuSeconds() {
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

const char* SideKey(SideKind side) {
  switch (side) {
    case SideKind::kScan: return "zcmedia_scan";
    case SideKind::kScan1: return "zcmedia_scan_1t";
    case SideKind::kRescan: return "zcmedia_rescan";
    case SideKind::kLegacyScan: return "sqlite_legacy_scan";
    case SideKind::kLegacyRescan: return "sqlite_legacy_rescan";
  }
  return "?";
}

bool IsRescan(SideKind side) { return side == SideKind::kRescan || side == SideKind::kLegacyRescan; }
bool IsZcmedia(SideKind side) { return side == SideKind::kScan || side == SideKind::kScan1 || side == SideKind::kRescan; }

// What the generated tree should give every side.
struct Expected {
  uint64_t media_files = 0;
  uint64_t audio_files = 0;
  uint64_t tagged_files = 0;
  int64_t duration_ms_total = 0;
};

// ---- zcmedia ----

// Child: `zcmedia scan` of `tree` into `dir`/lib.db (created when missing,
// so the same child serves the first scan and the rescan).
void ZcmediaChild(const std::string& tree, const std::string& dir, int threads, bool rescan, const Expected& want,
                  Values& out) {
  out["baseline_anon_kib"] = double(ReadProcStatusKiB(0, "RssAnon"));
  Stopwatch open_clock;
  scan::LibraryPaths lib;
  bool created = false;
  CheckOk(scan::OpenOrCreateLibrary(dir + "/lib.db", &lib, &created), "opening the library");
  if (created == rescan) throw BenchError(rescan ? "the rescan found no library" : "the first scan found a library");
  std::unique_ptr<Store> store;
  CheckOk(Store::Open(lib.store_dir, Options{}, &store), "opening the store");
  out["open_seconds"] = open_clock.Seconds();

  scan::ScanOptions options;
  options.roots = {tree};
  options.reader_threads = threads;
  std::string first_problem;
  options.report_problem = [&](const scan::ScanProblem& p) {
    if (first_problem.empty()) first_problem = p.message;
  };
  scan::ScanReport report;
  Stopwatch clock;
  const double cpu_before = ProcessCpuSeconds();
  CheckOk(scan::Scan(store.get(), options, &report), "scan");
  out["seconds"] = clock.Seconds();
  out["cpu_seconds"] = ProcessCpuSeconds() - cpu_before;
  out["database_cpu_seconds"] = report.database_cpu_seconds;
  out["report_seconds"] = report.seconds;
  out["database_seconds"] = report.database_seconds;
  out["tag_seconds"] = report.tag_seconds;
  out["media_files"] = double(report.media_files);
  out["added"] = double(report.added);
  out["updated"] = double(report.updated);
  out["removed"] = double(report.removed);
  out["unchanged"] = double(report.unchanged);
  out["tags_read"] = double(report.tags_read);
  out["batches"] = double(report.batches);
  if (report.problems > 0)
    throw BenchError("the scan reported " + std::to_string(report.problems) + " problems, the first: " + first_problem);
  auto expect = [](uint64_t got, uint64_t wanted, const char* what) {
    if (got != wanted)
      throw BenchError(std::string("the scan's ") + what + " is " + std::to_string(got) + ", want " +
                       std::to_string(wanted));
  };
  expect(report.media_files, want.media_files, "media_files");
  expect(report.added, rescan ? 0 : want.media_files, "added");
  expect(report.unchanged, rescan ? want.media_files : 0, "unchanged");
  expect(report.updated + report.removed, 0, "updated + removed");
  expect(report.tags_read, rescan ? 0 : want.audio_files, "tags_read");

  // What was stored (not timed): every record, the tagged ones, the summed
  // durations: the legacy side must store the same.
  std::shared_ptr<const Snapshot> snapshot = store->GetSnapshot();
  uint64_t records = 0, titled = 0;
  int64_t duration = 0;
  std::unique_ptr<RecordIterator> it = snapshot->NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const MediaFileView r = it->record();
    ++records;
    titled += r.title().has_value() ? 1 : 0;
    duration += r.duration().value_or(0);
  }
  CheckOk(it->status(), "reading the store back");
  out["records"] = double(records);
  out["titled"] = double(titled);
  out["duration_ms_total"] = double(duration);
}

// ---- the legacy server's way ----

// The walk both legacy sides use: readdir per folder, dot entries skipped,
// one fstatat per media file (by extension, as the scanner decides), files
// before subfolders. What the scanner does minus its comparison with the
// store; every entry of this tree is a file or a folder (no links).
class LegacyWalk {
 public:
  using FileFn = std::function<void(const std::string& path, std::string_view mime, const struct stat& st)>;
  explicit LegacyWalk(FileFn file) : file_(std::move(file)) {}

  void Folder(const std::string& folder) {
    DIR* dir = ::opendir(folder.c_str());
    if (dir == nullptr) throw BenchError("cannot open the folder '" + folder + "': " + std::strerror(errno));
    std::vector<std::string> subfolders;
    while (struct dirent* e = ::readdir(dir)) {
      if (e->d_name[0] == '.') continue;
      if (e->d_type == DT_DIR) {
        subfolders.push_back(folder + "/" + e->d_name);
        continue;
      }
      std::optional<std::string_view> mime = scan::MimeTypeForFilename(e->d_name);
      if (!mime) continue;
      struct stat st;
      if (::fstatat(::dirfd(dir), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
      file_(folder + "/" + e->d_name, *mime, st);
    }
    ::closedir(dir);
    for (const std::string& sub : subfolders) Folder(sub);
  }

 private:
  FileFn file_;
};

void LegacyScanChild(const std::string& tree, const std::string& dir, const Expected& want, Values& out) {
  out["baseline_anon_kib"] = double(ReadProcStatusKiB(0, "RssAnon"));
  const std::string path = dir + "/media.db";
  Stopwatch open_clock;
  std::unique_ptr<LegacyDb> db = LegacyDb::Create(path);
  out["open_seconds"] = open_clock.Seconds();
  const int64_t now = int64_t(std::time(nullptr));
  double tag_seconds = 0, database_seconds = 0, database_cpu_seconds = 0;
  uint64_t files = 0, tags_read = 0, unreadable = 0;
  std::string first_problem;
  Stopwatch clock;
  LegacyWalk walk([&](const std::string& file, std::string_view mime, const struct stat& st) {
    ++files;
    MediaFileFields f;
    f.path = file;
    FillDerivedColumns(f);
    f.size = st.st_size;
    f.modified = st.st_mtim.tv_sec;
    f.mime_type = mime;
    scan::AudioTags t;
    if (MimeFamilyOf(mime) == MimeFamily::kAudio) {
      Stopwatch tag_clock;
      const Status s = scan::ReadAudioTags(file, &t);
      tag_seconds += tag_clock.Seconds();
      ++tags_read;
      if (!s.ok() && unreadable++ == 0) first_problem = s.ToString();
      scan::ApplyAudioTags(t, &f);
    }
    f.created_at = f.updated_at = now;
    Stopwatch db_clock;
    const double db_cpu_before = ThreadCpuSeconds();
    db->Insert(f);
    database_cpu_seconds += ThreadCpuSeconds() - db_cpu_before;
    database_seconds += db_clock.Seconds();
  });
  const double cpu_before = ProcessCpuSeconds();
  walk.Folder(tree);
  {
    Stopwatch db_clock;
    const double db_cpu_before = ThreadCpuSeconds();
    db.reset();  // the close checkpoints the WAL
    database_cpu_seconds += ThreadCpuSeconds() - db_cpu_before;
    database_seconds += db_clock.Seconds();
  }
  out["seconds"] = clock.Seconds();
  out["cpu_seconds"] = ProcessCpuSeconds() - cpu_before;
  out["database_cpu_seconds"] = database_cpu_seconds;
  out["database_seconds"] = database_seconds;
  out["tag_seconds"] = tag_seconds;
  out["media_files"] = double(files);
  out["tags_read"] = double(tags_read);
  if (unreadable > 0)
    throw BenchError("TagLib could not read " + std::to_string(unreadable) + " files, the first: " + first_problem);
  if (files != want.media_files)
    throw BenchError("the legacy walk found " + std::to_string(files) + " media files, want " +
                     std::to_string(want.media_files));

  // What was stored (not timed).
  sqlite3* check = nullptr;
  sqlite3_stmt* stmt = nullptr;
  bool ok = sqlite3_open_v2(path.c_str(), &check, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
            sqlite3_prepare_v2(check, "SELECT COUNT(*), COUNT(title), TOTAL(duration) FROM media_files", -1, &stmt,
                               nullptr) == SQLITE_OK &&
            sqlite3_step(stmt) == SQLITE_ROW;
  if (ok) {
    out["records"] = double(sqlite3_column_int64(stmt, 0));
    out["titled"] = double(sqlite3_column_int64(stmt, 1));
    out["duration_ms_total"] = sqlite3_column_double(stmt, 2);
  }
  const std::string error = check ? sqlite3_errmsg(check) : "out of memory";
  sqlite3_finalize(stmt);
  sqlite3_close(check);
  if (!ok) throw BenchError("reading back " + path + ": " + error);
}

void LegacyRescanChild(const std::string& tree, const std::string& dir, const Expected& want, Values& out) {
  out["baseline_anon_kib"] = double(ReadProcStatusKiB(0, "RssAnon"));
  Stopwatch open_clock;
  std::unique_ptr<LegacyDb> db = LegacyDb::OpenReadOnly(dir + "/media.db");
  out["open_seconds"] = open_clock.Seconds();
  double database_seconds = 0, database_cpu_seconds = 0;
  uint64_t files = 0, unchanged = 0;
  Stopwatch clock;
  const double cpu_before = ProcessCpuSeconds();
  LegacyWalk walk([&](const std::string& file, std::string_view, const struct stat& st) {
    ++files;
    MediaFileFields record;
    Stopwatch db_clock;
    const double db_cpu_before = ThreadCpuSeconds();
    const bool found = db->FindByPath(file, &record);
    database_cpu_seconds += ThreadCpuSeconds() - db_cpu_before;
    database_seconds += db_clock.Seconds();
    if (found && record.size == st.st_size && record.modified == st.st_mtim.tv_sec) ++unchanged;
  });
  walk.Folder(tree);
  out["seconds"] = clock.Seconds();
  out["cpu_seconds"] = ProcessCpuSeconds() - cpu_before;
  out["database_cpu_seconds"] = database_cpu_seconds;
  out["database_seconds"] = database_seconds;
  out["media_files"] = double(files);
  out["unchanged"] = double(unchanged);
  if (files != want.media_files || unchanged != files)
    throw BenchError("the legacy rescan found " + std::to_string(files) + " media files, " +
                     std::to_string(unchanged) + " unchanged; want " + std::to_string(want.media_files) + " of each");
}

// ---- checks of the generated tree ----

// TagLib must read back what the generator wrote: the tags and the length
// from the Info header; an untagged file gives its length and nothing else.
void CheckSample(const GeneratedTrack& t) {
  if (t.path.empty()) return;
  scan::AudioTags got;
  CheckOk(scan::ReadAudioTags(t.path, &got), "reading the generated " + t.path);
  auto text = [](const std::string& s) -> std::optional<std::string> {
    if (s.empty()) return std::nullopt;
    return s;
  };
  auto number = [](int64_t v) -> std::optional<int64_t> {
    if (v == 0) return std::nullopt;
    return v;
  };
  scan::AudioTags want;
  want.title = text(t.title);
  want.artist = text(t.artist);
  want.album = text(t.album);
  want.genre = text(t.genre);
  want.album_artist = text(t.album_artist);
  want.track_number = number(t.track_number);
  want.year = number(t.year);
  want.duration_ms = t.duration_ms;
  if (got == want) return;
  auto show = [](const scan::AudioTags& a) {
    auto s = [](const std::optional<std::string>& v) { return v ? "'" + *v + "'" : std::string("null"); };
    auto n = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : std::string("null"); };
    return "title " + s(a.title) + ", artist " + s(a.artist) + ", album " + s(a.album) + ", genre " + s(a.genre) +
           ", album artist " + s(a.album_artist) + ", track " + n(a.track_number) + ", year " + n(a.year) +
           ", duration " + n(a.duration_ms) + " ms";
  };
  throw BenchError("TagLib reads the generated " + t.path + " as {" + show(got) + "}, the generator wrote {" +
                   show(want) + "}");
}

struct SideFigures {
  std::vector<double> seconds, rates, database_share, database_cpu_share, database_seconds, tag_seconds, open_seconds,
      peak_anon_kib, batches;
};

std::string FormatSeconds(double s) { return FormatFixed(s, "%.3f"); }
std::string FormatPercent(double share) { return FormatFixed(share * 100, "%.1f%%"); }
std::string FormatMs(double s) { return FormatFixed(s * 1e3, "%.1f"); }

std::string SideLabel(SideKind side, int readers) {
  switch (side) {
    case SideKind::kScan: return "zcmedia scan, " + std::to_string(readers) + (readers == 1 ? " reader" : " readers");
    case SideKind::kScan1: return "zcmedia scan, 1 reader";
    case SideKind::kRescan: return "zcmedia rescan";
    case SideKind::kLegacyScan: return "legacy scan (serial)";
    case SideKind::kLegacyRescan: return "legacy rescan";
  }
  return "?";
}

}  // namespace

int RunScanBench(const ScanBenchOptions& options) {
  if (options.files == 0) throw BenchError("--files must be at least 1");
  if (options.runs < 1) throw BenchError("--runs must be at least 1");
  if (options.threads < 0) throw BenchError("--threads must be 0 (one per core) or more");
  const int readers =
      options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  const double target_rescan_seconds = kTargetRescanSecondsPer100k * double(options.files) / 1e5;
  std::printf("bench scan: %s generated MP3 files (seed %llu), %d run%s; zcmedia with %d tag reader%s%s and with 1\n",
              FormatThousands(options.files).c_str(), static_cast<unsigned long long>(options.seed), options.runs,
              options.runs == 1 ? "" : "s", readers, readers == 1 ? "" : "s",
              options.threads == 0 ? " (one per core, the default)" : "");
  std::fflush(stdout);

  TempDir work(options.dir, "zcmedia-scan-bench-");
  if (options.keep) work.Keep();
  const std::string tree = work.path() + "/tree";
  ScanTreeOptions generate;
  generate.root = tree;
  generate.audio_files = options.files;
  generate.seed = options.seed;
  const ScanTreeReport generated = GenerateScanTree(generate);
  CheckSample(generated.tagged_sample);
  CheckSample(generated.untagged_sample);
  Expected want;
  want.media_files = generated.media_files();
  want.audio_files = generated.audio_files;
  want.tagged_files = generated.tagged_files;
  want.duration_ms_total = generated.duration_ms_total;
  std::printf(
      "tree (not timed): %s media files (%s MP3s, %s tagged; %s cover.jpg; %s videos), %s artists, %s albums, "
      "%s folders, %.1f MB, generated in %.1f s\n",
      FormatThousands(want.media_files).c_str(), FormatThousands(generated.audio_files).c_str(),
      FormatThousands(generated.tagged_files).c_str(), FormatThousands(generated.covers).c_str(),
      FormatThousands(generated.videos).c_str(), FormatThousands(generated.artists).c_str(),
      FormatThousands(generated.albums).c_str(), FormatThousands(generated.folders).c_str(),
      double(generated.bytes) / 1e6, generated.seconds);
  WarmPageCache(tree);
  std::printf("page cache: warm (the tree was read once before the runs; dropping caches needs root and would "
              "disturb the shared machine)\n");
  std::fflush(stdout);

  std::map<SideKind, SideFigures> figures;
  for (int run = 0; run < options.runs; ++run) {
    // Groups: a first scan and the rescan of its state, in one directory.
    std::vector<std::vector<SideKind>> groups = {
        {SideKind::kScan, SideKind::kRescan}, {SideKind::kScan1}, {SideKind::kLegacyScan, SideKind::kLegacyRescan}};
    if (run % 2 == 1) std::reverse(groups.begin(), groups.end());
    for (const std::vector<SideKind>& group : groups) {
      TempDir dir(work.path(), "run-");
      for (SideKind side : group) {
        SyncFilesystems();
        ChildReport report = RunInChild([&](Values& out) {
          switch (side) {
            case SideKind::kScan: ZcmediaChild(tree, dir.path(), options.threads, false, want, out); break;
            case SideKind::kScan1: ZcmediaChild(tree, dir.path(), 1, false, want, out); break;
            case SideKind::kRescan: ZcmediaChild(tree, dir.path(), options.threads, true, want, out); break;
            case SideKind::kLegacyScan: LegacyScanChild(tree, dir.path(), want, out); break;
            case SideKind::kLegacyRescan: LegacyRescanChild(tree, dir.path(), want, out); break;
          }
        });
        FailIfChildFailed(report, SideKey(side));
        if (report.values.count("records")) {
          // Both ways must store the same: every file, the same tags, the
          // same lengths.
          const double records = report.at("records"), titled = report.at("titled");
          const double duration = report.at("duration_ms_total");
          if (records != double(want.media_files) || titled != double(want.tagged_files) ||
              duration != double(want.duration_ms_total))
            throw BenchError(std::string(SideKey(side)) + " stored " + FormatThousands(uint64_t(records)) +
                             " records, " + FormatThousands(uint64_t(titled)) + " with a title, durations summing to " +
                             FormatThousands(uint64_t(duration)) + " ms; the tree has " +
                             FormatThousands(want.media_files) + ", " + FormatThousands(want.tagged_files) + ", " +
                             FormatThousands(uint64_t(want.duration_ms_total)) + " ms");
        }
        SideFigures& f = figures[side];
        const double seconds = report.at("seconds");
        f.seconds.push_back(seconds);
        f.rates.push_back(double(want.media_files) / seconds);
        f.database_seconds.push_back(report.at("database_seconds"));
        f.database_share.push_back(report.at("database_seconds") / seconds);
        const double cpu = report.at("cpu_seconds");
        f.database_cpu_share.push_back(cpu > 0 ? report.at("database_cpu_seconds") / cpu : 0);
        if (!IsRescan(side)) f.tag_seconds.push_back(report.at("tag_seconds"));
        if (IsZcmedia(side)) f.batches.push_back(report.at("batches"));
        f.open_seconds.push_back(report.at("open_seconds"));
        f.peak_anon_kib.push_back(double(report.peak_anon_kib) - report.at("baseline_anon_kib"));
        std::printf("  run %d/%d %-22s %7.3f s  %8s files/s  database %5s (cpu %5s)", run + 1, options.runs,
                    SideLabel(side, readers).c_str(), seconds, FormatSi(f.rates.back()).c_str(),
                    FormatPercent(f.database_share.back()).c_str(),
                    FormatPercent(f.database_cpu_share.back()).c_str());
        if (!IsRescan(side)) std::printf("  tags %.2f s", f.tag_seconds.back());
        if (IsZcmedia(side) && !IsRescan(side)) std::printf("  %.0f batches", f.batches.back());
        std::printf("  open %.1f ms  peak anon +%s\n", f.open_seconds.back() * 1e3,
                    FormatKib(f.peak_anon_kib.back()).c_str());
        std::fflush(stdout);
      }
    }
  }

  // ---- the table ----
  auto median = [&](SideKind side, std::vector<double> SideFigures::*member) {
    return Summarize(figures[side].*member).median;
  };
  std::printf("\nmedian [min–max] (runs) of %d run%s; files/s = %s media files / seconds of the scan alone; "
              "database = time inside the store's writes (zcmedia) or inside INSERT / SELECT (legacy), of the scan's "
              "wall time; db cpu = the database's CPU time (zcmedia: its writer thread's) of the process's CPU time; "
              "tags = time inside TagLib, summed over readers\n",
              options.runs, options.runs == 1 ? "" : "s", FormatThousands(want.media_files).c_str());
  std::printf("%s %s %s %s %s %s %s %s\n", PadRight("side", 24).c_str(), PadRight("seconds", 26).c_str(),
              PadRight("files/s", 24).c_str(), PadRight("database", 9).c_str(), PadRight("db cpu", 7).c_str(),
              PadRight("tags (s)", 9).c_str(),
              PadRight("open (ms)", 10).c_str(), "peak anon");
  for (SideKind side : kSides) {
    SideFigures& f = figures[side];
    std::printf("%s %s %s %s %s %s %s +%s\n", PadRight(SideLabel(side, readers), 24).c_str(),
                PadRight(FormatSummary(Summarize(f.seconds), FormatSeconds), 26).c_str(),
                PadRight(FormatSummary(Summarize(f.rates)), 24).c_str(),
                PadRight(FormatPercent(Summarize(f.database_share).median), 9).c_str(),
                PadRight(FormatPercent(Summarize(f.database_cpu_share).median), 7).c_str(),
                PadRight(f.tag_seconds.empty() ? "-" : FormatFixed(Summarize(f.tag_seconds).median, "%.2f"), 9).c_str(),
                PadRight(FormatMs(Summarize(f.open_seconds).median), 10).c_str(),
                FormatKib(Summarize(f.peak_anon_kib).median).c_str());
  }
  const double scan_ratio = median(SideKind::kScan, &SideFigures::rates) / median(SideKind::kLegacyScan, &SideFigures::rates);
  const double scan1_ratio =
      median(SideKind::kScan1, &SideFigures::rates) / median(SideKind::kLegacyScan, &SideFigures::rates);
  const double rescan_ratio =
      median(SideKind::kRescan, &SideFigures::rates) / median(SideKind::kLegacyRescan, &SideFigures::rates);
  std::printf("\nzcmedia / legacy, files/s: first scan %.2fx (%d reader%s), %.2fx (1 reader, like for like); "
              "rescan %.2fx\n",
              scan_ratio, readers, readers == 1 ? "" : "s", scan1_ratio, rescan_ratio);

  // ---- targets ----
  const double share = median(SideKind::kScan, &SideFigures::database_share);
  const double share1 = median(SideKind::kScan1, &SideFigures::database_share);
  const double cpu_share = median(SideKind::kScan, &SideFigures::database_cpu_share);
  const double rescan_s = median(SideKind::kRescan, &SideFigures::seconds);
  const double rescan_open_s = median(SideKind::kRescan, &SideFigures::open_seconds);
  const bool share_met = share < kTargetDatabaseShare;
  const bool rescan_met = rescan_s + rescan_open_s < target_rescan_seconds;
  std::printf("target: database under %.0f%% of the first scan: %s of its wall time with %d reader%s (%s with 1; "
              "%s of its CPU)  %s\n",
              kTargetDatabaseShare * 100, FormatPercent(share).c_str(), readers, readers == 1 ? "" : "s",
              FormatPercent(share1).c_str(), FormatPercent(cpu_share).c_str(), share_met ? "PASS" : "MISS");
  std::printf("target: rescan of the unchanged tree under %.3f s (2 s per 100,000 files, scaled linearly): "
              "%.3f s (open %.3f s + scan %.3f s)  %s\n",
              target_rescan_seconds, rescan_s + rescan_open_s, rescan_open_s, rescan_s, rescan_met ? "PASS" : "MISS");

  JsonLine json;
  json.Add("bench", "scan")
      .Add("records", options.files)
      .Add("files", options.files)
      .Add("runs", options.runs)
      .Add("seed", options.seed)
      .Add("reader_threads", readers)
      .Add("page_cache", "warm")
      .Add("media_files", want.media_files)
      .Add("audio_files", generated.audio_files)
      .Add("tagged_files", generated.tagged_files)
      .Add("covers", generated.covers)
      .Add("videos", generated.videos)
      .Add("folders", generated.folders)
      .Add("tree_bytes", generated.bytes)
      .Add("generation_s", generated.seconds);
  for (SideKind side : kSides) {
    SideFigures& f = figures[side];
    const std::string prefix = SideKey(side);
    const Summary seconds = Summarize(f.seconds);
    json.Add(prefix + "_ms", seconds.median * 1e3)
        .Add(prefix + "_ms_min", seconds.min * 1e3)
        .Add(prefix + "_ms_max", seconds.max * 1e3)
        .Add(prefix + "_files_per_s", Summarize(f.rates).median)
        .Add(prefix + "_database_s", Summarize(f.database_seconds).median)
        .Add(prefix + "_database_share", Summarize(f.database_share).median)
        .Add(prefix + "_database_cpu_share", Summarize(f.database_cpu_share).median);
    if (!f.tag_seconds.empty()) json.Add(prefix + "_tag_s", Summarize(f.tag_seconds).median);
    json.Add(prefix + "_open_ms", Summarize(f.open_seconds).median * 1e3);
    if (IsZcmedia(side))
      json.Add(prefix + "_peak_anon_kib", Summarize(f.peak_anon_kib).median)
          .Add(prefix + "_batches", Summarize(f.batches).median);
  }
  json.Add("scan_ratio", scan_ratio)
      .Add("scan_1t_ratio", scan1_ratio)
      .Add("rescan_ratio", rescan_ratio)
      .Add("target_database_share", kTargetDatabaseShare)
      .Add("target_rescan_seconds", target_rescan_seconds)
      .Add("target_database_share_met", share_met)
      .Add("target_rescan_met", rescan_met)
      .Add("all_targets_met", share_met && rescan_met);
  if (options.keep) std::printf("kept the tree: %s\n", tree.c_str());
  const bool regressed = !options.baseline.empty() && CompareWithBaseline(options.baseline, json) > 0;
  if (options.json) std::printf("%s\n", json.ToString().c_str());
  return regressed ? kRegressionExitCode : 0;
}

}  // namespace zcmedia::bench
