// Options: how a store is opened. Every field documents its default.
#pragma once

#include <cstddef>
#include <cstdint>

namespace zcmedia {

class Env;

struct Options {
  // The store's heap budget in bytes: the recommended batch size, the
  // in-memory index of recent batches and the run-file write buffer are all
  // sized from it (docs/format.md, "Memory"). Records and indexes are read
  // through mapped files, so heap use does not grow with the library.
  // Minimum 1 MiB. Default: 6 MiB.
  size_t memory_budget = size_t{6} << 20;

  // Create the directory and an empty store when there is none. Default: true.
  bool create_if_missing = true;

  // Fail Open when a store already exists. Default: false.
  bool error_if_exists = false;

  // Open for reading only: takes no lock, never writes, and sees what the
  // writer (in this or another process) has committed each time
  // Store::GetSnapshot() is called. Default: false.
  bool read_only = false;

  // fdatasync segment data and then the meta page at every commit. Turning
  // this off keeps commits atomic but not durable (a power loss may lose the
  // last commits); only benchmarks and tests of other layers should do it.
  // Default: true.
  bool sync = true;

  // A segment file is closed for appends once it reaches this size, and a
  // new one started. Every segment is mapped once at this size (address
  // space only), so mappings never move. Minimum 1 MiB, maximum 64 GiB.
  // Default: 1 GiB.
  uint64_t segment_max_bytes = uint64_t{1} << 30;

  // File system access. nullptr means the real POSIX file system. Tests pass
  // a fault-injecting Env. Not owned; must outlive the store.
  Env* env = nullptr;
};

}  // namespace zcmedia
