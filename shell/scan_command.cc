#include "scan_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

#include "json_string.h"
#include "library.h"
#include "playlist_files.h"
#include "scanner.h"
#include "watcher.h"
#include "zcmedia/options.h"
#include "zcmedia/store.h"

namespace zcmedia::shell {
using scan::ScanProblem;
using scan::ScanProgress;
using scan::ScanReport;

namespace {
// Problems listed on stderr before the rest are only counted: a library
// with a hundred thousand broken files should not bury the summary.
constexpr uint64_t kProblemsListed = 200;
}  // namespace

// Prints a scan's or watch's problems (declared in scan_command.h for
// ScanOptionsFromFlags; used only here).
class ProblemPrinter {
 public:
  explicit ProblemPrinter(const char* command) : command_(command) {}
  void Print(const ScanProblem& p) {
    ++count_;
    if (count_ > kProblemsListed) return;
    ClearProgressLine();
    std::fprintf(stderr, "zcmedia %s: %s: %s\n", command_, scan::ScanProblemKindName(p.kind), p.message.c_str());
  }
  void Summary() const {
    if (count_ > kProblemsListed) {
      std::fprintf(stderr, "zcmedia %s: ... and %llu more problems (only the first %llu are listed)\n", command_,
                   static_cast<unsigned long long>(count_ - kProblemsListed),
                   static_cast<unsigned long long>(kProblemsListed));
    }
  }
  // The progress line shares stderr: a problem line first clears it.
  std::atomic<bool> progress_shown{false};
  void ClearProgressLine() {
    if (progress_shown.exchange(false)) std::fputs("\r\033[K", stderr);
  }

 private:
  const char* command_;
  uint64_t count_ = 0;
};

namespace {

void ShowProgress(const ScanProgress& p, ProblemPrinter* printer) {
  char line[200];
  double rate = p.seconds > 0 ? static_cast<double>(p.media_files) / p.seconds : 0;
  int n = std::snprintf(line, sizeof line, "\rscanning: %llu files in %llu folders, %llu written, %.0f files/s",
                        static_cast<unsigned long long>(p.media_files), static_cast<unsigned long long>(p.folders),
                        static_cast<unsigned long long>(p.written), rate);
  if (p.expected_files > p.media_files && rate > 0 && n > 0 && n < static_cast<int>(sizeof line)) {
    std::snprintf(line + n, sizeof line - n, ", ETA %.0f s",
                  static_cast<double>(p.expected_files - p.media_files) / rate);
  }
  std::fputs(line, stderr);
  std::fputs("\033[K", stderr);
  std::fflush(stderr);
  printer->progress_shown = true;
}

std::string ReportJson(const ScanReport& r, const scan::LibraryPaths& lib, bool created) {
  char numbers[800];
  std::snprintf(numbers, sizeof numbers,
                "\"folders\":%llu,\"media_files\":%llu,\"unchanged\":%llu,\"added\":%llu,\"updated\":%llu,"
                "\"removed\":%llu,\"tags_read\":%llu,\"problems\":%llu,\"unavailable_roots\":%llu,"
                "\"playlists_imported\":%llu,\"batches\":%llu,\"commits\":%llu,\"seconds\":%.3f,\"database_seconds\":%.3f,\"database_cpu_seconds\":%.3f,"
                "\"tag_seconds\":%.3f",
                static_cast<unsigned long long>(r.folders), static_cast<unsigned long long>(r.media_files),
                static_cast<unsigned long long>(r.unchanged), static_cast<unsigned long long>(r.added),
                static_cast<unsigned long long>(r.updated), static_cast<unsigned long long>(r.removed),
                static_cast<unsigned long long>(r.tags_read), static_cast<unsigned long long>(r.problems),
                static_cast<unsigned long long>(r.unavailable_roots),
                static_cast<unsigned long long>(r.playlists_imported), static_cast<unsigned long long>(r.batches),
                static_cast<unsigned long long>(r.commits), r.seconds, r.database_seconds, r.database_cpu_seconds,
                r.tag_seconds);
  return std::string("{\"db\":") + JsonString(lib.db_path) + ",\"store\":" + JsonString(lib.store_dir) +
         ",\"created\":" + (created ? "true" : "false") + "," + numbers + "}";
}

void PrintSummary(const ScanReport& r) {
  double rate = r.seconds > 0 ? static_cast<double>(r.media_files) / r.seconds : 0;
  std::printf("%llu media files in %llu folders: %llu added, %llu updated, %llu removed, %llu unchanged; "
              "%llu problems; %.2f s (%.0f files/s, database %.2f s)\n",
              static_cast<unsigned long long>(r.media_files), static_cast<unsigned long long>(r.folders),
              static_cast<unsigned long long>(r.added), static_cast<unsigned long long>(r.updated),
              static_cast<unsigned long long>(r.removed), static_cast<unsigned long long>(r.unchanged),
              static_cast<unsigned long long>(r.problems), r.seconds, rate, r.database_seconds);
}

// The store options of a scan: the environment (ZCMEDIA_MEMORY_BUDGET and
// friends) over the defaults, and --budget over both.
Status StoreOptions(size_t memory_budget, Options* options) {
  ZC_RETURN_IF_ERROR(ApplyEnvironment(options));
  options->use_environment = false;  // applied: the command line must win
  if (memory_budget != 0) options->memory_budget = memory_budget;
  return ValidateOptions(*options);
}

// SIGINT/SIGTERM write to this pipe; the watcher polls its read end.
int g_stop_pipe_write = -1;
void OnStopSignal(int) {
  if (g_stop_pipe_write >= 0) {
    char c = 's';
    ssize_t ignored = ::write(g_stop_pipe_write, &c, 1);
    (void)ignored;
  }
}

}  // namespace

ScanCommands::ScanCommands(CLI::App& app) {
  scan_ = app.add_subcommand("scan", "Scan media folders into a library (LIB.db, created if missing): new and "
                                     "changed files read with TagLib, vanished ones removed");
  scan_->add_option("folders", folders_, "Folders to scan")->required();
  scan_->add_option("--db", db_, "The library's SQLite file (its store goes next to it: LIB.zcmedia/)")->required();
  scan_->add_option("-j,--threads", threads_, "Tag-reading threads (default: one per core)")
      ->check(CLI::Range(0, 256));
  scan_->add_flag("--no-playlists", no_playlists_, "Do not import .m3u/.m3u8/.pls files as playlists");
  scan_->add_flag("--allow-empty-roots", allow_empty_roots_,
                  "Remove the files of a folder that is now empty (by default an empty folder given on the "
                  "command line is taken for an unmounted disk and its files are kept)");
  scan_->add_option("--budget", memory_budget_, "Store memory budget, e.g. 64MiB (default 6 MiB)")
      ->transform(CLI::AsSizeValue(false));
  CLI::Option* json = scan_->add_flag("--json", json_, "One JSON object on stdout instead of the summary");
  scan_->add_flag("-q,--quiet", quiet_, "No progress and no summary (problems still on stderr)")->excludes(json);
  scan_->footer(
      "Examples:\n"
      "  zcmedia scan /srv/music /srv/video --db /srv/media/library.db\n"
      "      first scan: creates library.db and library.zcmedia/ next to it\n"
      "  zcmedia scan /srv/music --db /srv/media/library.db --json\n"
      "      rescan: only new and changed files are read\n"
      "\n"
      "Files whose size and modification time are unchanged are not opened. Hidden files and folders\n"
      "(names starting with '.') are skipped. Broken audio files are stored without tags and listed.\n"
      "Exit status: 0 done (problems listed on stderr); 1 the library could not be opened or written;\n"
      "2 bad command line; 3 a folder given was missing, unreadable or empty (its files were kept).");

  watch_ = app.add_subcommand("watch", "Keep a library current from file-system events (inotify) until "
                                       "SIGINT/SIGTERM");
  watch_->add_option("folders", folders_, "Folders to watch")->required();
  watch_->add_option("--db", db_, "The library's SQLite file (created if missing)")->required();
  watch_->add_option("-j,--threads", threads_, "Tag-reading threads (default: one per core)")
      ->check(CLI::Range(0, 256));
  watch_->add_flag("--no-playlists", no_playlists_, "Do not import playlist files");
  watch_->add_option("--settle-ms", settle_ms_, "Quiet time that ends a burst of events (default 300)")
      ->check(CLI::Range(10, 60000));
  watch_->add_flag("--allow-empty-roots", allow_empty_roots_,
                   "Remove the files of a watched folder that becomes empty (default: taken for an unmounted "
                   "disk, its files kept)");
  watch_->add_option("--budget", memory_budget_, "Store memory budget, e.g. 64MiB (default 6 MiB)")
      ->transform(CLI::AsSizeValue(false));
  watch_->add_flag("-q,--quiet", quiet_, "Only problems on stderr (no line per rescan)");
  watch_->footer(
      "Examples:\n"
      "  zcmedia watch /srv/music --db /srv/media/library.db\n"
      "\n"
      "Starts with a scan, then rescans the folders that events name, in bulk, once no event came for\n"
      "--settle-ms (at most a second after a burst's first event). A watched folder that disappears or is\n"
      "unmounted keeps its files and is watched again when it is back.\n"
      "Ctrl-C (SIGINT) or SIGTERM stops it after committing what was pending.\n"
      "Exit status: 0 stopped cleanly; 1 the library could not be opened or written, or inotify failed, or\n"
      "at the stop another writer held the library (the message says a scan will catch up); 2 bad command line.");

  CLI::App* playlist = app.add_subcommand("playlist", "Playlists of a library");
  playlist->require_subcommand(1);
  playlist->footer(
      "Examples:\n"
      "  zcmedia playlist export 'Road trip' --db library.db -o road-trip.m3u8\n"
      "\n"
      "Playlist files (.m3u, .m3u8, .pls) found by a scan are imported as playlists.\n"
      "Run 'zcmedia playlist export --help' for its options and exit statuses.");
  export_ = playlist->add_subcommand("export", "Write a playlist of the library as an .m3u8 or .pls file");
  export_->add_option("name", playlist_name_, "The playlist's name")->required();
  export_->add_option("--db", db_, "The library's SQLite file")->required()->check(CLI::ExistingFile);
  export_->add_option("-o,--output", playlist_output_, "The file to write ('-': standard output, the default)");
  export_->add_option("--format", playlist_format_, "m3u8 (default), m3u (the same, UTF-8) or pls")
      ->check(CLI::IsMember({"m3u8", "m3u", "pls"}));
  export_->footer(
      "Examples:\n"
      "  zcmedia playlist export 'Road trip' --db library.db -o road-trip.m3u8\n"
      "  zcmedia playlist export Favourites --db library.db --format pls > favourites.pls\n"
      "Exit status: 0 written; 1 no such playlist, or the library could not be read; 2 bad command line.");
}

std::optional<int> ScanCommands::RunParsed() {
  if (scan_->parsed()) return RunScan();
  if (watch_->parsed()) return RunWatch();
  if (export_->parsed()) return RunExport();
  return std::nullopt;
}

scan::ScanOptions ScanCommands::ScanOptionsFromFlags(ProblemPrinter* printer) const {
  scan::ScanOptions scan;
  scan.roots = folders_;
  scan.reader_threads = threads_;
  scan.import_playlists = !no_playlists_;
  scan.allow_empty_roots = allow_empty_roots_;
  scan.report_problem = [printer](const ScanProblem& p) { printer->Print(p); };
  return scan;
}

int ScanCommands::RunScan() {
  scan::LibraryPaths lib;
  bool created = false;
  Status s = scan::OpenOrCreateLibrary(db_, &lib, &created);
  if (!s.ok()) {
    std::fprintf(stderr, "zcmedia scan: error: %s\n", s.message().c_str());
    return kScanError;
  }
  Options options;
  s = StoreOptions(memory_budget_, &options);
  std::unique_ptr<Store> store;
  if (s.ok()) s = Store::Open(lib.store_dir, options, &store);
  if (!s.ok()) {
    std::fprintf(stderr, "zcmedia scan: error: opening the store %s of %s: %s\n", lib.store_dir.c_str(),
                 db_.c_str(), s.message().c_str());
    return kScanError;
  }

  ProblemPrinter printer("scan");
  scan::ScanOptions scan = ScanOptionsFromFlags(&printer);
  if (!json_ && !quiet_ && ::isatty(STDERR_FILENO)) {
    scan.progress = [&](const ScanProgress& p) { ShowProgress(p, &printer); };
  }
  ScanReport report;
  s = scan::Scan(store.get(), scan, &report);
  printer.ClearProgressLine();
  printer.Summary();
  if (!s.ok()) {
    std::fprintf(stderr, "zcmedia scan: error: %s (every batch committed before it is kept; run the scan again)\n",
                 s.message().c_str());
    return kScanError;
  }
  if (json_) {
    std::printf("%s\n", ReportJson(report, lib, created).c_str());
  } else if (!quiet_) {
    if (created) std::printf("created %s (store %s)\n", lib.db_path.c_str(), lib.store_dir.c_str());
    PrintSummary(report);
  }
  return report.unavailable_roots > 0 ? kScanRootUnavailable : kScanOk;
}

int ScanCommands::RunWatch() {
  scan::LibraryPaths lib;
  bool created = false;
  Status s = scan::OpenOrCreateLibrary(db_, &lib, &created);
  Options options;
  if (s.ok()) s = StoreOptions(memory_budget_, &options);
  if (!s.ok()) {
    std::fprintf(stderr, "zcmedia watch: error: %s\n", s.message().c_str());
    return kScanError;
  }
  int stop_pipe[2];
  if (::pipe(stop_pipe) != 0) {
    std::perror("zcmedia watch: pipe");
    return kScanError;
  }
  g_stop_pipe_write = stop_pipe[1];
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);

  ProblemPrinter printer("watch");
  scan::WatchOptions watch;
  watch.scan = ScanOptionsFromFlags(&printer);
  watch.settle_ms = settle_ms_;
  watch.max_delay_ms = std::max(settle_ms_, 1000);
  watch.on_scan = [&](const ScanReport& r, bool initial) {
    if (quiet_) return;
    if (initial) {
      std::printf("initial scan: ");
      PrintSummary(r);
      std::printf("watching %zu folder(s); Ctrl-C to stop\n", folders_.size());
    } else if (r.added + r.updated + r.removed > 0) {
      std::time_t now = std::time(nullptr);
      char stamp[32];
      std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::localtime(&now));
      std::printf("%s %llu added, %llu updated, %llu removed (%.2f s)\n", stamp,
                  static_cast<unsigned long long>(r.added), static_cast<unsigned long long>(r.updated),
                  static_cast<unsigned long long>(r.removed), r.seconds);
    }
    std::fflush(stdout);
  };
  scan::WatchReport report;
  s = scan::Watch(lib.store_dir, options, watch, stop_pipe[0], &report);
  g_stop_pipe_write = -1;
  ::close(stop_pipe[0]);
  ::close(stop_pipe[1]);
  printer.Summary();
  if (!s.ok()) {
    std::fprintf(stderr, "zcmedia watch: error: %s\n", s.message().c_str());
    return kScanError;
  }
  if (!quiet_) {
    std::printf("stopped: %llu events, %llu rescans, %llu overflows; %llu added, %llu updated, %llu removed\n",
                static_cast<unsigned long long>(report.events), static_cast<unsigned long long>(report.rescans),
                static_cast<unsigned long long>(report.overflows),
                static_cast<unsigned long long>(report.total.added),
                static_cast<unsigned long long>(report.total.updated),
                static_cast<unsigned long long>(report.total.removed));
  }
  return kScanOk;
}

int ScanCommands::RunExport() {
  scan::LibraryPaths lib;
  Status s = scan::LocateLibrary(db_, &lib);
  Options options;
  options.read_only = true;
  options.create_if_missing = false;
  std::unique_ptr<Store> store;
  if (s.ok()) s = Store::Open(lib.store_dir, options, &store);
  if (s.ok()) {
    scan::PlaylistFormat format = playlist_format_ == "pls"    ? scan::PlaylistFormat::kPls
                                  : playlist_format_ == "m3u" ? scan::PlaylistFormat::kM3u
                                                               : scan::PlaylistFormat::kM3u8;
    s = scan::ExportPlaylist(*store->GetSnapshot(), playlist_name_, format, playlist_output_);
  }
  if (!s.ok()) {
    std::fprintf(stderr, "zcmedia playlist export: error: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace zcmedia::shell
