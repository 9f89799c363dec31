// Options: how a store is opened. Every field documents its default.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "zcmedia/status.h"

namespace zcmedia {

class Env;

struct Options {
  // The store's heap budget in bytes: the recommended batch size, the
  // in-memory index of recent batches and the run-file write buffer are all
  // sized from it (docs/format.md, "Memory"). Records and indexes are read
  // through mapped files, so heap use does not grow with the library.
  // Minimum 1 MiB. Default: 6 MiB.
  size_t memory_budget = size_t{6} << 20;

  // How long Open waits for the writer lock while another process holds it,
  // retrying with exponential backoff (1 ms doubling to 100 ms), before it
  // fails with Busy naming the holder's pid. Like SQLite's busy timeout, but
  // for the whole writer session: the lock is held from Open to close.
  // Zero fails at once. Read-only opens take no lock and never wait.
  // At most 24 hours. Default: 5 seconds.
  std::chrono::milliseconds lock_timeout{5000};

  // Create the directory and an empty store when there is none. Default: true.
  bool create_if_missing = true;

  // Fail Open when a store already exists. Default: false.
  bool error_if_exists = false;

  // Open for reading only: takes no lock, never writes, and sees what the
  // writer (in this or another process) has committed each time
  // Store::GetSnapshot() is called. Default: false.
  bool read_only = false;

  // fdatasync segment data and then the meta page at every commit. Turning
  // this off skips both: commits stay atomic against a crash of the process
  // (the page cache keeps what was written), but after a power loss the
  // store may lack its last commits or, the meta page having reached the
  // disk before the data, fail to open. Only for stores that can be rebuilt
  // and are synced as a whole before use (the migrator's staging store,
  // which it fsyncs file by file before publishing), benchmarks and tests
  // of other layers. Default: true.
  bool sync = true;

  // Keep an LRU cache of where lookups by path (Snapshot::FindByPath,
  // FindManyByPath) found their records, in memory_budget / 32 of the
  // budget (docs/configuration.md, "The lookup cache"): a repeated lookup
  // skips the index probes. Off saves each lookup a lock and a probe when
  // paths rarely repeat. Default: true.
  bool lookup_cache = true;

  // A segment file is closed for appends once it reaches this size, and a
  // new one started. Every segment is mapped once at this size (address
  // space only), so mappings never move. Minimum 1 MiB, maximum 64 GiB.
  // Default: 1 GiB.
  uint64_t segment_max_bytes = uint64_t{1} << 30;

  // File system access. nullptr means the real POSIX file system. Tests pass
  // a fault-injecting Env. Not owned; must outlive the store.
  Env* env = nullptr;

  // Let ZCMEDIA_* environment variables override the fields above when the
  // store is opened (ApplyEnvironment): how deployments that cannot pass
  // Options (the SQLite extension, the command line) tune a store.
  // Default: true.
  bool use_environment = true;
};

// The environment variables ApplyEnvironment reads, each overriding one
// field. Sizes are a whole number of bytes with an optional binary suffix
// (K, M, G, T; also KB/KiB, MB/MiB, ...: all powers of 1024), any case, e.g.
// 6M, 64MiB, 1g, 1048576. Durations are a whole number with ms, s or m
// (a bare number is milliseconds), e.g. 250ms, 5s, 0. Switches are on/off,
// true/false, yes/no or 1/0.
//
//   ZCMEDIA_MEMORY_BUDGET      memory_budget      size, 1 MiB .. 1 TiB
//   ZCMEDIA_LOCK_TIMEOUT       lock_timeout       duration, 0 .. 24 h
//   ZCMEDIA_SYNC               sync               switch
//   ZCMEDIA_LOOKUP_CACHE       lookup_cache       switch
//   ZCMEDIA_SEGMENT_MAX_BYTES  segment_max_bytes  size, 1 MiB .. 64 GiB
//
// An unset or empty variable leaves its field alone. A malformed or
// out-of-range value is InvalidArgument naming the variable, the value and
// what is accepted; `options` is then left unchanged.
Status ApplyEnvironment(Options* options);

// Checks every field's range (Store::Open calls it); the error names the
// field and its limits.
Status ValidateOptions(const Options& options);

// The parsers behind ApplyEnvironment, for command lines and config files.
// `what` names the setting in error messages.
Status ParseByteSize(std::string_view text, std::string_view what, uint64_t* bytes);
Status ParseDuration(std::string_view text, std::string_view what, std::chrono::milliseconds* duration);
Status ParseSwitch(std::string_view text, std::string_view what, bool* value);

// "6 MiB", "1.5 GiB", "512 B": for messages and reports.
std::string FormatByteSize(uint64_t bytes);

}  // namespace zcmedia
