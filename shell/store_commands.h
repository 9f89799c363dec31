// The store maintenance commands: `zcmedia check`, `zcmedia stats` and
// `zcmedia compact` on a store directory. (The legacy-database forms, on the
// SQLite file a migration writes, come with the migrator.) Each returns the
// process exit status and prints errors as one line on stderr.
#pragma once

#include <string>

namespace zcmedia::shell {

// Exit status: 0 no problem (or all repaired), 1 problems remain, 2 the check
// could not run (no store, bad options).
int RunCheck(const std::string& dir, bool deep, bool repair);

enum class StatsFormat { kText, kJson, kPrometheus };
// Opens the store read-only (no lock: a writer may be running) and prints
// its statistics. Exit status 0, or 2 when it cannot be opened.
int RunStats(const std::string& dir, StatsFormat format);

// Rewrites the live records and rebuilds the indexes (Store::Compact), or
// with `indexes_only` merges every index into one run (Store::CompactIndexes:
// the fastest lookups after a bulk load, no segment rewrite). Takes the
// writer lock. Exit status 0, or 2 on failure (the store is unchanged).
int RunCompact(const std::string& dir, bool indexes_only);

}  // namespace zcmedia::shell
