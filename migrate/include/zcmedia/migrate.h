// Migrate: converts a legacy media-server SQLite database (shapes A to D,
// shared notes "legacy-schema") into a zcmedia store plus a new SQLite file
// whose media_files, playlists and playlist_entries are zcmedia virtual
// tables (docs/migration.md).
//
// Guarantees (each tested in tests/migrate/):
//   - The legacy file is only read, in one consistent snapshot (a live -wal
//     included), and never modified: not the database file, not its -wal.
//     (A running legacy server's -shm gets the read mark any SQLite reader
//     leaves; a quiescent file gets no sidecar at all.)
//   - Ids are kept exactly, and the AUTOINCREMENT high-water marks
//     (sqlite_sequence) carry over, so new ids continue after them.
//   - The output appears atomically: every file is written and verified in
//     a staging directory next to NEW.db, then renamed into place. A run
//     that is interrupted at any moment (SIGKILL, power loss, a full disk)
//     leaves either the previous state or the complete output, never a
//     NEW.db that looks valid but is not; the same command run again
//     cleans up and succeeds.
//   - Verification (default): row counts and an order-independent checksum
//     of every column of every row, the legacy snapshot against the new file
//     read through the extension. Any difference fails the migration and
//     names the first differing rows; nothing is left behind.
//   - Rows the store cannot hold as the legacy table declares them (NULL in
//     a NOT NULL column, a value of the wrong type, an empty path, a
//     duplicate path, a playlist entry naming a missing file or playlist)
//     stop the migration with their ids, unless `set_aside` is given: then
//     they are copied unchanged into ordinary tables of NEW.db
//     (zcmedia_set_aside_<table>) and everything else is migrated. Nothing is
//     ever dropped silently.
//
// Not thread-safe; one migration per output at a time (a lock file next to
// NEW.db refuses a second one, naming its pid).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zcmedia/status.h"

namespace zcmedia::migrate {

// What a migration is doing, for progress displays. Phases run in order.
enum class Phase {
  kCheck,       // the shape (PRAGMA quick_check runs alongside the load)
  kMediaFiles,  // streaming media_files into the store
  kPlaylists,   // playlists and playlist entries
  kOtherTables, // every other table copied unchanged, the virtual tables
  kVerify,      // checksums of the legacy snapshot against the new file
  kIndexes,     // waiting for the store's index merge (it runs alongside
                // the two phases before, on a thread of its own)
  kFinish,      // syncing and renaming into place
};
const char* PhaseName(Phase phase);

struct Progress {
  Phase phase = Phase::kCheck;
  uint64_t rows_done = 0;   // rows of the phase's table(s) done so far
  uint64_t rows_total = 0;  // 0 when unknown
};

struct MigrateOptions {
  // The legacy database (read-only unless in_place). Required.
  std::string legacy_path;
  // The new SQLite file. Required unless dry_run. The store directory goes
  // next to it, named after it with the extension replaced by ".zcmedia"
  // (media.db -> media.zcmedia/, DefaultStorePath); the virtual tables name
  // it relative to NEW.db, so the two can move together.
  std::string output_path;
  // Replace an existing output (NEW.db and its store). The old files are
  // removed only once the new ones are complete and verified. Default: off.
  bool force = false;
  // Read and check everything (shape, types, constraints, quick_check) and
  // report what would be migrated; write nothing. Default: off.
  bool dry_run = false;
  // Compare the new file against the legacy snapshot. Default: on.
  bool verify = true;
  // Run PRAGMA quick_check on the legacy file first. Default: on.
  bool quick_check = true;
  // Migrate valid rows and keep the invalid ones in set-aside tables
  // instead of refusing (see top). Default: off.
  bool set_aside = false;
  // Convert legacy_path itself (output_path empty or the same file): lock
  // it against every other process (refused while one has it open: stop the
  // server first), back it up to backup_path with SQLite's backup API and
  // verify the backup (quick_check, and every table's checksum against the
  // locked legacy file), migrate from the backup, and only then replace
  // legacy_path (its -wal checkpointed first). A failure before the
  // replacement leaves legacy_path as it was and the backup in place.
  // Default: off.
  bool in_place = false;
  // Where in_place puts the backup. Default (empty): legacy_path + ".bak".
  std::string backup_path;
  // The store's memory budget in bytes; 0 keeps Options' default (6 MiB,
  // or ZCMEDIA_MEMORY_BUDGET).
  size_t memory_budget = 0;
  // Called from the migrating thread at phase changes and every few
  // thousand rows. May be empty.
  std::function<void(const Progress&)> progress;
  // Called once everything is written and verified, right before the output
  // is renamed into place; an error aborts the migration (nothing is
  // published). May be empty. (--in-place uses it to let go of the legacy
  // file's WAL while it still holds the legacy file's lock.)
  std::function<Status()> before_publish;
};

// One offending row (Refused or set aside).
struct RejectedRow {
  std::string table;   // media_files, playlists, playlist_entries
  int64_t id = 0;
  std::string reason;  // "path is NULL", "size holds TEXT 'abc'", ...
};

struct TableCount {
  std::string table;
  uint64_t rows = 0;
};

struct MigrateReport {
  std::string shape;            // "A", "B", "C", "D", or "C+D" (ALTERed from C)
  std::string schema_version;   // database_metadata's, "" when absent
  std::string store_path;       // where the store is (absolute)
  uint64_t media_files = 0;     // rows migrated into the store
  uint64_t playlists = 0;
  uint64_t playlist_entries = 0;
  uint64_t canonical_filled = 0;  // rows whose canonical columns were derived
  uint64_t parent_filled = 0;     // rows whose parent_path was derived (shape A)
  std::vector<TableCount> copied_tables;  // other tables, copied unchanged
  std::vector<std::string> dropped_objects;  // legacy indexes/triggers on the
                                             // three tables (refused on virtual tables)
  std::vector<RejectedRow> rejected;   // first 100 (set aside or refusing)
  uint64_t rejected_total = 0;
  bool verified = false;
  uint64_t legacy_bytes = 0;    // database file + -wal
  uint64_t output_bytes = 0;    // NEW.db + store directory
  double seconds = 0;
  double verify_seconds = 0;
  // Wall time of each phase that ran, in order (for benchmarks).
  std::vector<std::pair<std::string, double>> phase_seconds;
  std::string backup_path;      // in_place only
};

// Exit codes of `zcmedia migrate` (docs/migration.md), one per failure kind,
// so that scripts can tell them apart.
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,          // I/O error, internal error
  kExitUsage = 2,          // bad command line
  kExitBadInput = 3,       // not SQLite, corrupt, truncated, unknown shape, locked
  kExitInvalidRows = 4,    // rows that break the legacy constraints (see set_aside)
  kExitVerifyFailed = 5,   // the new file differs from the legacy snapshot
  kExitOutput = 6,         // output exists, directory missing or read-only, disk full
};

// The outcome: OK, or an error whose message says what, where and what to
// do; `exit_code` says which kind (ExitCode). Never throws.
struct MigrateResult {
  Status status;
  int exit_code = kExitOk;
};

MigrateResult Migrate(const MigrateOptions& options, MigrateReport* report);

// The legacy server's canonical form of a path, as it fills
// canonical_path / canonical_parent_path: the path itself on Unix; for a
// Windows path (IsWindowsPath: a drive letter, or \\ for UNC) lower-cased
// (ASCII, Latin-1 and Latin Extended-A letters, as Rust's to_lowercase) with
// '\' turned into '/' (UNC keeps its leading //).
bool IsWindowsPath(std::string_view path);
std::string CanonicalForm(std::string_view path);

// The store directory of a migration's output (see MigrateOptions::output_path).
std::string DefaultStorePath(const std::string& output_path);

}  // namespace zcmedia::migrate
