// `zcmedia scan`, `zcmedia watch` and `zcmedia playlist export`: the scanner
// (shell/scan/scanner.h, watcher.h, playlist_files.h) on a LIB.db, with
// progress on a terminal, problems on stderr, a summary, --json and the
// exit statuses their --help states (docs/user-guide.md lists them too).
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace zcmedia::scan {
struct ScanOptions;
}

namespace zcmedia::shell {

class ProblemPrinter;

// Exit statuses of scan and watch.
constexpr int kScanOk = 0;               // done (problems, if any, listed on stderr)
constexpr int kScanError = 1;            // the library could not be opened, created or written
constexpr int kScanUsage = 2;            // bad command line
constexpr int kScanRootUnavailable = 3;  // done, but a folder was missing, unreadable or empty: its files kept

class ScanCommands {
 public:
  // Adds the subcommands to `app`.
  explicit ScanCommands(CLI::App& app);
  // After app.parse: the exit status of the subcommand that was given, or
  // nullopt when it was none of these.
  std::optional<int> RunParsed();

 private:
  int RunScan();
  int RunWatch();
  int RunExport();
  // The scan flags scan and watch share; problems go to `printer`.
  scan::ScanOptions ScanOptionsFromFlags(ProblemPrinter* printer) const;

  CLI::App* scan_ = nullptr;
  CLI::App* watch_ = nullptr;
  CLI::App* export_ = nullptr;
  std::vector<std::string> folders_;
  std::string db_;
  int threads_ = 0;
  bool no_playlists_ = false;
  bool allow_empty_roots_ = false;
  bool json_ = false;
  bool quiet_ = false;
  size_t memory_budget_ = 0;
  int settle_ms_ = 300;
  std::string playlist_name_, playlist_output_ = "-", playlist_format_ = "m3u8";
};

}  // namespace zcmedia::shell
