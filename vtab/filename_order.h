// FilenameOrder: every record of a snapshot in `filename` order, for the
// media_files plan "filename-order" (SELECT ... ORDER BY filename with no
// WHERE; docs/query-plans.md). Without it SQLite would sort whole rows, all
// nineteen columns of every record, in its own sorter.
//
// The order is SQLite's for the column: NULL first, then text by BINARY
// (bytes, then length); ties (the same name in several folders) by id, so
// that the order is total. Descending reverses all three.
//
// How: an external merge sort of 48-byte keys (the first 29 bytes of the
// name, its length, the id and the record, a view into the mapping): two
// names are read from their records only when they share 29 bytes and one
// is longer. Runs of kRunKeys keys (3 MiB) are sorted in memory; when there is more than one, each is written to
// an unnamed temporary file (O_TMPFILE: nothing to clean up after a crash)
// in the store's directory, else in $TMPDIR or /tmp, and the runs are merged
// from a read-only mapping of it. Heap: one run, plus a cursor per run for
// the merge (16 bytes each). Should no temporary file be possible anywhere,
// the keys are sorted in memory (48 bytes per record) rather than failing
// a query SQLite could answer.
//
// Lifetime: the keys hold views into `snapshot`'s mappings; the caller
// keeps the snapshot alive for as long as the FilenameOrder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "zcmedia/status.h"
#include "zcmedia/store.h"

namespace zcmedia::vtab {

class FilenameOrder {
 public:
  static constexpr size_t kRunKeys = size_t{1} << 16;

  FilenameOrder() = default;
  ~FilenameOrder();
  FilenameOrder(const FilenameOrder&) = delete;
  FilenameOrder& operator=(const FilenameOrder&) = delete;

  // Reads every record of `snapshot` and sorts. `temp_dir` first, then
  // $TMPDIR and /tmp, for the runs. `run_keys` (tests) overrides kRunKeys.
  Status Start(const Snapshot& snapshot, const std::string& temp_dir, bool descending,
               size_t run_keys = kRunKeys);
  bool Valid() const { return valid_; }
  MediaFileView Current() const { return current_; }
  void Next();
  // How many runs went to a temporary file (0: sorted in memory).
  size_t spilled_runs() const { return runs_.size(); }

  struct Key {
    uint8_t prefix[29];  // the name's first bytes, zero-padded
    uint8_t is_text;     // 0: NULL (first), 1: text
    uint16_t length;     // of the name, capped at 65535
    int64_t id;
    MediaFileView record;
  };

 private:
  bool Before(const Key& a, const Key& b) const;  // in the order asked
  // The merge's heap order: run x's next key comes after run y's (the
  // std heap functions keep the largest first, so this makes a min-heap).
  bool HeapAfter(uint32_t x, uint32_t y) const { return Before(mapped_[at_[y]], mapped_[at_[x]]); }
  Status Spill();                                  // sorts keys_ and appends it to the file
  bool OpenTempFile(const std::string& temp_dir);  // false: none anywhere
  void Advance(size_t run);                        // the merge's cursor `run` moves on

  bool descending_ = false;
  std::vector<Key> keys_;  // the run being filled; all keys when nothing spilled
  size_t next_key_ = 0;    // in-memory iteration
  int fd_ = -1;
  uint64_t spilled_keys_ = 0;
  struct Run {
    uint64_t begin, end;  // key indexes in the file
  };
  std::vector<Run> runs_;
  const Key* mapped_ = nullptr;  // the file, mapped, once everything is spilled
  size_t mapped_bytes_ = 0;
  std::vector<uint32_t> heap_;   // runs with keys left, a heap on their next key
  std::vector<uint64_t> at_;     // per run: its next key
  bool valid_ = false;
  MediaFileView current_;
};

}  // namespace zcmedia::vtab
