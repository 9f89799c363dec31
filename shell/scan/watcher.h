// `zcmedia watch`: keeps a store current from inotify events.
//
// The watch starts with a full Scan of its roots (the library is current
// from then on), puts an inotify watch on every folder below them, and then
// waits for events. Events are coalesced: once one arrives, the watcher
// waits until `settle_ms` pass without another (at most `max_delay_ms` after
// the first) and then rescans the folders they named, in one ScanFolders
// run (bulk batches): a folder whose files changed on its own, a new or
// moved-in folder recursively. A changed file thus reaches the database
// within about max_delay_ms plus the time of its rescan.
//
// The event queue can overflow (IN_Q_OVERFLOW: events were lost); the
// watcher then rescans every root, which finds whatever the lost events
// would have named. A folder that cannot be watched (the per-user limit
// fs.inotify.max_user_watches reached) is reported, and its changes are only
// seen by the next overflow rescan or the next `zcmedia scan`.
//
// The store is opened as its writer only for each rescan and closed after,
// so that other writers (a media server's playlist edits through the SQLite
// extension) are not locked out between bursts; a rescan that finds the
// store locked keeps its folders and retries at the next flush.
//
// Stopping: when `stop_fd` becomes readable (the command writes to a pipe
// from its SIGINT/SIGTERM handler), pending events are rescanned, the last
// batch is committed, and Watch returns OK.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "scanner.h"
#include "zcmedia/options.h"
#include "zcmedia/status.h"

namespace zcmedia::scan {

struct WatchOptions {
  // Roots, problem and progress callbacks, reader threads: as for Scan.
  ScanOptions scan;
  // Quiet time that ends a burst of events, and the longest a burst may
  // delay its rescan.
  int settle_ms = 300;
  int max_delay_ms = 1000;
  // Called after the initial scan and after each rescan, with its report.
  std::function<void(const ScanReport&, bool initial)> on_scan;
  // Called once the watches are in place (tests wait for it before they
  // change files).
  std::function<void()> on_ready;
  // Called before each read of the event queue (tests hold it to make the
  // kernel's queue overflow).
  std::function<void()> before_reading_events;
};

struct WatchReport {
  uint64_t events = 0;      // inotify events read
  uint64_t rescans = 0;     // flushes after the initial scan
  uint64_t overflows = 0;   // IN_Q_OVERFLOW: all roots rescanned
  uint64_t watched_folders = 0;
  ScanReport total;         // the initial scan and every rescan, summed
};

// Runs until `stop_fd` is readable. Errors: the store cannot be opened or
// refuses a write (everything committed before stays), inotify unavailable.
Status Watch(const std::string& store_dir, const Options& store_options, const WatchOptions& options,
             int stop_fd, WatchReport* report);

}  // namespace zcmedia::scan
