// The store maintenance commands: `zcmedia check`, `zcmedia stats` and
// `zcmedia compact`. Each takes a store directory or a library file (LIB.db,
// the SQLite file a scan or a migration writes: its store is the one its
// media_files table names, scan::ResolveStoreArgument). Each returns the
// process exit status and prints errors as one line on stderr.
#pragma once

#include <string>

namespace zcmedia::shell {

// Checks the store (CheckStore; --repair: RepairIndexes when every problem
// is in the indexes). On a LIB.db also runs PRAGMA quick_check on the file
// and reads each of its virtual tables through the extension (read-only):
// its row count and first row, or with `deep` every row.
// Exit status: 0 no problem (or all repaired), 1 problems remain, 2 the check
// could not run (no store, not a library, bad options).
int RunCheck(const std::string& store_or_library, bool deep, bool repair);

enum class StatsFormat { kText, kJson, kPrometheus };
// Opens the store read-only (no lock: a writer may be running) and prints
// its statistics: records, playlists, files and bytes per mime family, the
// music categories (how many artists, albums, album artists, genres and
// years; the five artists, albums and genres with the most tracks; the
// years' range), the store's files and counters, and for a LIB.db the
// file's size. kJson: StatsToJson's object with the keys "categories",
// "store_dir" and, for a LIB.db, "library" and "library_bytes" added;
// kPrometheus: StatsToPrometheus only (no category listing per scrape).
// Exit status 0, or 2 when it cannot be opened.
int RunStats(const std::string& store_or_library, StatsFormat format);

// Rewrites the live records and rebuilds the indexes (Store::Compact), or
// with `indexes_only` merges every index into one run (Store::CompactIndexes:
// the fastest lookups after a bulk load, no segment rewrite). Takes the
// writer lock. Exit status 0, or 2 on failure (the store is unchanged).
int RunCompact(const std::string& store_or_library, bool indexes_only);

}  // namespace zcmedia::shell
