// CheckStore: an integrity check of a store's files, read-only (no lock; a
// writer may keep running, the check reads the state its META names).
//
//   fast: both META pages; every committed batch of every segment (header,
//         body and entry checksums, and the FlatBuffers verifier on each
//         record); every index run file META lists (checksums, key order,
//         key directory).
//   deep: the fast check, then, through a snapshot: every live index entry
//         points at a record that carries its key; every live record is in
//         the id, path, directory and category indexes under its own keys;
//         index entry counts agree with the live records; the record count,
//         library totals and dead space META keeps are recomputed from the
//         segments and compared.
//
// Problems name the file and the byte offset (when one applies). A damaged
// index is repaired by RepairIndexes (store.h): indexes are derived state.
// Damaged segments or META cannot be repaired from the store itself.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "zcmedia/options.h"
#include "zcmedia/status.h"

namespace zcmedia {

struct CheckProblem {
  std::string file;     // path of the file, or the store directory
  uint64_t offset = 0;  // byte offset in `file` where it applies (0 if none)
  std::string message;
  bool index_only = false;  // RepairIndexes fixes it (index runs or derived counts)
};

struct CheckReport {
  bool deep = false;
  uint64_t segments = 0, batches = 0, entries = 0;  // read and verified
  uint64_t index_runs = 0;                          // run files verified
  uint64_t index_entries = 0;                       // live index entries cross-checked (deep)
  uint64_t live_records = 0;                        // found in the segments (deep)
  std::vector<CheckProblem> problems;

  bool ok() const { return problems.empty(); }
  // True when every problem is one RepairIndexes fixes.
  bool repairable() const;
  // A multi-line human-readable summary.
  std::string ToString() const;
};

// Runs the check. Returns OK when the check ran, whatever it found (see
// report->problems); NotFound when there is no store, InvalidArgument for
// bad options. Never modifies the store. Reading stops early after 100
// problems.
Status CheckStore(const std::string& directory, bool deep, CheckReport* report,
                  const Options& options = Options());

}  // namespace zcmedia
