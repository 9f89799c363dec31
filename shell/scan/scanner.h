// The media scanner: walks folders and makes the store's records match the
// media files in them, in bulk.
//
// What a scan does, folder by folder (one folder's listing in memory at a
// time, whatever the library size):
//   - lists the folder (readdir; one fstatat per media file for size and
//     mtime) and the store's records of that folder (Snapshot::ListDirectory);
//   - a file the store does not have is added; a file whose size or mtime
//     (Unix seconds) differs is re-read and updated, keeping its id; a file
//     whose size and mtime are unchanged is not opened at all;
//   - a record whose file is gone is removed (the store removes its playlist
//     entries with it), and so is everything below a subfolder that is gone;
//   - audio files are read by TagLib on `reader_threads` threads (title,
//     artist, album, genre, track number, year, album artist, duration in
//     ms); video and image files need no reading (duration and tags NULL, as
//     the legacy server stores them).
//
// What a scan never does: remove the records of a folder it could not read.
// A root that is missing, unreadable, or empty while the store holds files
// below it (an unmounted disk looks like that) is reported and left alone,
// and so is a subfolder that cannot be opened. Symlinks are followed; a link
// back into its own ancestry (a loop) is reported and skipped. A file whose
// tags cannot be read (truncated, empty, not what its extension says) is
// stored without tags and reported: the legacy server lists every file by
// its extension.
//
// Durability: the writer thread appends batches of
// Store::recommended_batch_records() to a store transaction that commits
// about once a second and at the end, so readers (the SQLite extension,
// other processes) see the library grow second by second, and a crash or
// kill loses at most the last second's files -- which the next scan finds
// and adds again, as it would any new file. Scan returns after the last
// commit is durable.
//
// Concurrency: the scan is the store's writer for its whole run. Not for
// concurrent use on one Store by two scans.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "zcmedia/status.h"
#include "zcmedia/store.h"

namespace zcmedia::scan {

// Something the scan skipped or could not do fully; the scan goes on.
struct ScanProblem {
  enum class Kind {
    kUnavailableRoot,    // missing, unreadable or empty root: its records kept
    kUnreadableFolder,   // a subfolder that could not be opened: its records kept
    kUnreadableFile,     // stat failed (permissions, vanished meanwhile)
    kUnreadableTags,     // TagLib could not read it: stored without tags
    kSymlinkLoop,        // a link into its own ancestry: not followed
    kPlaylist,           // a playlist file that could not be imported (fully)
    kLibraryLocked,      // watch: another writer holds the store; retried
  };
  Kind kind;
  std::string path;
  std::string message;  // what happened and, where it helps, what to do
};
const char* ScanProblemKindName(ScanProblem::Kind kind);

// Counters of one scan. Times are wall-clock seconds.
struct ScanReport {
  uint64_t folders = 0;          // folders listed
  uint64_t media_files = 0;      // media files found on disk
  uint64_t unchanged = 0;        // size and mtime as stored: not opened
  uint64_t added = 0;
  uint64_t updated = 0;
  uint64_t removed = 0;          // records whose file is gone
  uint64_t tags_read = 0;        // audio files opened by TagLib
  uint64_t problems = 0;         // ScanProblems reported
  uint64_t unavailable_roots = 0; // roots left alone (kUnavailableRoot)
  uint64_t playlists_imported = 0;
  uint64_t batches = 0;          // WriteBatches written (of recommended size)
  uint64_t commits = 0;          // store commits (about one per second of writing)
  double seconds = 0;            // the whole scan
  double database_seconds = 0;   // encoding records and inside the store's writes
                                 // and commits (the database's share), wall clock
  double database_cpu_seconds = 0;  // CPU time of the writer thread, which does
                                    // only that (no waiting for a core)
  double tag_seconds = 0;        // summed over reader threads, inside TagLib

  // Adds every counter of `other` (a watch sums its rescans).
  ScanReport& operator+=(const ScanReport& other);
};

// A snapshot of a running scan's progress, for a terminal line.
struct ScanProgress {
  uint64_t folders = 0;
  uint64_t media_files = 0;      // found so far
  uint64_t written = 0;          // added + updated + removed committed so far
  uint64_t expected_files = 0;   // the library's files below the roots when the
                                 // scan began (0 on a first scan): for an ETA
  double seconds = 0;
};

struct ScanOptions {
  // Folders to scan. Made absolute and normalised (no trailing '/'); a root
  // inside another root is scanned once.
  std::vector<std::string> roots;
  // Tag-reading threads. 0: one per available core.
  int reader_threads = 0;
  // Import .m3u/.m3u8/.pls files found while scanning as playlists.
  bool import_playlists = true;
  // Remove the records below a root that exists but is empty. Off by
  // default: an unmounted disk's mount point is an empty folder.
  bool allow_empty_roots = false;
  // Called on the calling thread at most every `progress_interval_ms`.
  std::function<void(const ScanProgress&)> progress;
  int progress_interval_ms = 200;
  // Called for each problem, from any of the scan's threads but never
  // concurrently. Unset: problems are only counted.
  std::function<void(const ScanProblem&)> report_problem;
};

// The roots a scan walks: each made absolute and lexically normal (no
// trailing '/', symlinks not resolved: stored paths keep the names the user
// gave), sorted, without repeats and without roots inside other roots.
std::vector<std::string> NormaliseRoots(const std::vector<std::string>& roots);

// Scans `options.roots` into `store` (opened writable). OK when the scan ran
// to its end, problems included (report->problems counts them); an error
// only when the store refused a write or could not be read, in which case
// every batch committed before stays committed and a rerun continues.
Status Scan(Store* store, const ScanOptions& options, ScanReport* report);

// The same for a set of folders, each either on its own (its files and the
// disappearance of its subfolders; new subfolders are scanned whole) or
// recursively: what `zcmedia watch` runs for the folders its events name.
// `options.roots` is ignored; the folders must be absolute and normalised.
struct FolderToScan {
  std::string path;
  bool recursive = false;
  // A root of the watch: checked and reported as Scan checks its roots
  // (missing, not a folder, empty while the library holds files below).
  bool root = false;
};
Status ScanFolders(Store* store, const std::vector<FolderToScan>& folders, const ScanOptions& options,
                   ScanReport* report);

}  // namespace zcmedia::scan
