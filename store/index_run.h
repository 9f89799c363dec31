// Index runs: immutable sorted arrays of (key, value) entries, the building
// block of the id, path and directory indexes (docs/format.md, "Indexes").
//
// An index is a list of runs, newest first. A run is either a file (mapped,
// checksummed, written once and never modified, so a crash can never tear it)
// or an in-memory run built from batches committed since the last checkpoint.
// Lookups consult runs newest first; the newest entry for an identity wins and
// a tombstone hides older entries.
//
// Identity: in the id index the key alone (one location per id); in the path
// and directory indexes the pair (key, location), since hashes may collide
// and a directory holds many records. Path and directory entries point at
// record versions directly (no hop through the id index); a new version
// tombstones the old location. Entries are sorted by identity.
#pragma once

#include <algorithm>
#include <cstdint>
#include <atomic>
#include <memory>
#include <string>
#include <span>
#include <vector>

#include "format.h"
#include "zcmedia/env.h"
#include "zcmedia/status.h"

namespace zcmedia {

using format::RunEntry;

inline bool IsMultiKind(uint32_t kind) { return kind != format::kIdIndex; }
// Run files of the path and directory indexes carry a Bloom filter: they
// answer point lookups, many of them for keys a run does not hold.
// The playlist index answers "which entries name this media file" for every
// removed file, nearly always "none"; the tree index "is this directory
// named yet" for every directory a bulk load creates, also "no".
inline bool HasFilter(uint32_t kind) {
  return kind == format::kPathIndex || kind == format::kDirIndex || kind == format::kPlaylistIndex ||
         kind == format::kTreeIndex;
}
// The part of an entry that identifies it within a run.
// (The directory tree's count keys hold one value each, like ids.)
inline uint64_t EntryIdentity(uint32_t kind, const RunEntry& e) {
  if (kind == format::kTreeIndex && format::IsCountKey(e.key)) return 0;
  return IsMultiKind(kind) ? (e.value & ~format::kTombstone) : 0;
}
inline bool EntryLess(uint32_t kind, const RunEntry& a, const RunEntry& b) {
  if (a.key != b.key) return a.key < b.key;
  return EntryIdentity(kind, a) < EntryIdentity(kind, b);
}

class Run {
 public:
  // An in-memory run; `entries` must be sorted by identity, one per identity.
  Run(uint32_t kind, std::vector<RunEntry> entries);
  // A run file whose header and block table are verified; `bloom` may be
  // null (no filter). `directory` has DirectoryBuckets(kind, count) + 1
  // slots. The body's blocks are verified on first use (VerifyBytes) unless
  // `body_verified` (the writer just wrote them from its own memory).
  struct FileLayout {
    std::string path;
    const RunEntry* data;
    size_t count;
    uint64_t min_key, max_key;
    const uint8_t* bloom;
    uint64_t bloom_blocks;
    const uint32_t* directory;
    const uint8_t* body;          // first byte after the header
    uint64_t body_bytes;
    const uint8_t* block_sums;    // RunBlocks(body_bytes) u64 checksums (not 8-aligned)
    bool body_verified;
  };
  Run(uint32_t kind, uint32_t file_number, std::unique_ptr<Mapping> mapping, const FileLayout& layout);

  uint32_t kind() const { return kind_; }
  uint32_t file_number() const { return file_number_; }  // 0 for memory runs
  bool in_memory() const { return file_number_ == 0; }
  size_t size() const { return count_; }
  // Bytes of the run file (entries, filter and directory); 0 in memory.
  uint64_t file_bytes() const { return mapping_ ? mapping_->length() : 0; }
  // Asks the kernel to read up to `max_bytes` of the file into the page
  // cache in the background (Mapping::Prefetch); returns how many it asked
  // for (0 in memory).
  uint64_t PrefetchFile(uint64_t max_bytes) const {
    const uint64_t bytes = std::min(max_bytes, file_bytes());
    if (bytes > 0) mapping_->Prefetch(static_cast<size_t>(bytes));
    return bytes;
  }
  const RunEntry* begin() const { return data_; }
  const RunEntry* end() const { return data_ + count_; }
  uint64_t min_key() const { return count_ ? min_key_ : 0; }
  uint64_t max_key() const { return count_ ? max_key_ : 0; }

  // First entry whose key is >= `key` (end() if none), through the key
  // directory: one slot, then the few entries of its bucket. Verifies the
  // slot and the bucket's entries, and the entry after them, so callers may
  // read every entry with `key` and the one that ends them. On a checksum
  // failure returns end() and marks the run damaged (see damage()).
  const RunEntry* LowerBound(uint64_t key) const;

  // Verifies (once per block, thread-safe) the file blocks holding the
  // bytes [p, p + n) of this run; always OK for in-memory runs. Callers
  // that walk entries beyond what LowerBound verified use these first.
  // The common case, bytes inside one block already verified, is inline:
  // lookups and filter probes ask several times per key.
  Status VerifyBytes(const void* p, size_t n) const {
    if (verified_ == nullptr || n == 0) return Status::OK();
    const uint64_t at = static_cast<uint64_t>(static_cast<const uint8_t*>(p) - body_);
    const uint64_t block = at / format::kRunBlockBytes;
    if (block == (at + n - 1) / format::kRunBlockBytes &&
        (verified_[block / 64].load(std::memory_order_acquire) & (uint64_t{1} << (block % 64))) != 0)
      return Status::OK();
    return VerifyBlocks(p, n);
  }
  Status VerifyEntries(const RunEntry* first, const RunEntry* last) const {
    return VerifyBytes(first, static_cast<size_t>(last - first) * sizeof(RunEntry));
  }
  Status VerifyAll() const { return VerifyBytes(body_, body_bytes_); }
  // Corruption naming the file and block if a check ever failed, else OK.
  Status damage() const;
  // Every block's checksum, then what checksums cannot tell: entries in
  // order, keys inside the header's range, a directory that is a monotone
  // map onto the entries. (CheckStore runs it on every run file.)
  Status VerifyStructure() const;

  // Starts loading the filter block and directory slot `key` will touch, so
  // their cache misses overlap instead of following one another.
  void Prefetch(uint64_t key, bool with_filter) const {
    if (with_filter && bloom_ != nullptr)
      __builtin_prefetch(bloom_ + format::BloomBlock(key, bloom_blocks_) * format::kBloomBlockBytes);
    if (directory_ != nullptr && count_ > 0 && key >= min_key_)
      __builtin_prefetch(directory_ + format::KeyBucket(key, min_key_, bucket_multiplier_, buckets_));
  }

  // False only when no entry has `key` (Bloom filter; runs without one, and
  // a filter block that fails its check, say true).
  bool MayContain(uint64_t key) const {
    if (bloom_ == nullptr) return true;
    const uint8_t* block = bloom_ + format::BloomBlock(key, bloom_blocks_) * format::kBloomBlockBytes;
    if (!VerifyBytes(block, format::kBloomBlockBytes).ok()) return true;
    for (uint32_t i = 0; i < format::kBloomProbes; ++i) {
      const uint32_t bit = format::BloomBit(key, i);
      if (!(block[bit >> 3] & (1u << (bit & 7)))) return false;
    }
    return true;
  }

 private:
  // VerifyBytes past its inline check: verifies each block not yet verified.
  Status VerifyBlocks(const void* p, size_t n) const;
  uint32_t kind_;
  uint32_t file_number_ = 0;
  std::vector<RunEntry> owned_;
  std::vector<uint32_t> owned_directory_;  // memory runs build their own
  std::unique_ptr<Mapping> mapping_;
  const RunEntry* data_ = nullptr;
  size_t count_ = 0;
  const uint8_t* bloom_ = nullptr;
  uint64_t bloom_blocks_ = 0;
  const uint32_t* directory_ = nullptr;
  uint64_t buckets_ = 0;
  uint64_t bucket_multiplier_ = 0;
  uint64_t min_key_ = 0, max_key_ = 0;
  // Lazy verification of a file's body (nothing for in-memory runs).
  std::string path_;
  const uint8_t* body_ = nullptr;
  uint64_t body_bytes_ = 0;
  const uint8_t* block_sums_ = nullptr;  // read with memcpy: the table follows the u32 directory
  mutable std::unique_ptr<std::atomic<uint64_t>[]> verified_;  // one bit per block
  mutable std::atomic<int64_t> damaged_block_{-1};
};

using RunPtr = std::shared_ptr<const Run>;

// Opens and verifies (header and body checksums, entry order, directory) a
// run file. `just_written`: this process wrote it a moment ago from data it
// holds (WriteMergedRunFile), so only the header and size are checked; any
// other process, and this one on its next open, verifies it in full.
Status OpenRunFile(Env* env, const std::string& dir, uint32_t kind, uint32_t number, RunPtr* run,
                   bool just_written = false);

// Merges `runs` (newest first) into one sorted sequence, newest entry per
// identity; tombstones are dropped when `drop_tombstones` (the merge includes
// the oldest run, so nothing older can be hidden). Calls sink(entry) in order.
template <typename Sink>
void MergeRuns(uint32_t kind, std::span<const RunPtr> runs, bool drop_tombstones, Sink&& sink);

// The same over parts of runs (newest first): [begin, end) of each.
struct EntryRange {
  const RunEntry* begin;
  const RunEntry* end;
};
template <typename Sink>
void MergeRanges(uint32_t kind, std::span<const EntryRange> ranges, bool drop_tombstones, Sink&& sink);

class BlockHasher;  // index_run.cc

// Writes one run file from entries given in run order ((key, identity)
// order, as a merge produces them or a caller already has them), streaming:
// the entries go to `dir`/RunFileName(kind, number).tmp through a buffer of
// `buffer_bytes` as they come, so no more than that is held. Finish
// appends the Bloom filter (the kinds HasFilter names), the key directory
// and the block table, writes the header, syncs (unless `sync` is false),
// renames the file into place (the caller syncs the directory) and opens
// it. A writer destroyed unfinished removes its file. Not thread-safe.
class RunFileWriter {
 public:
  // `with_filter` false leaves the Bloom filter out (a file only ever
  // merged, never looked up: a compaction's spill); lookups then probe it.
  static Status Create(Env* env, const std::string& dir, uint32_t kind, uint32_t number, size_t buffer_bytes,
                       std::unique_ptr<RunFileWriter>* out, bool with_filter = true);
  ~RunFileWriter();
  RunFileWriter(const RunFileWriter&) = delete;
  RunFileWriter& operator=(const RunFileWriter&) = delete;

  // InvalidArgument (and the writer is spent) when `e.key` is below the
  // previous entry's: a caller's entries out of run order.
  Status Add(const format::RunEntry& e) {
    if (header_.entry_count == 0) {
      header_.min_key = e.key;
    } else if (e.key < header_.max_key) {
      return OutOfOrder(e);
    }
    header_.max_key = e.key;
    ++header_.entry_count;
    buffer_.push_back(e);
    return buffer_.size() == buffer_.capacity() ? FlushBuffer() : Status::OK();
  }
  Status Finish(bool sync, RunPtr* out);

 private:
  RunFileWriter(Env* env, std::string dir, uint32_t kind, uint32_t number, size_t buffer_bytes);
  Status FlushBuffer();
  Status OutOfOrder(const format::RunEntry& e);

  Env* const env_;
  const std::string dir_;
  const uint32_t number_;
  const size_t buffer_bytes_;
  std::string tmp_path_;
  std::unique_ptr<File> file_;
  std::unique_ptr<BlockHasher> hasher_;
  format::RunHeader header_{};
  std::vector<format::RunEntry> buffer_;
  uint64_t offset_ = sizeof(format::RunHeader);
  Status status_;  // the first failure; every later call returns it
  bool with_filter_ = true;
  bool finished_ = false;
};

// Writes a run file from a merge of `runs` durably: a temporary file is
// written and synced (unless `sync` is false: Options::sync off), then
// renamed into place (the caller syncs the dir). `buffer_bytes` bounds the
// write buffer. Returns the new run, mapped.
Status WriteMergedRunFile(Env* env, const std::string& dir, uint32_t kind, uint32_t number,
                          std::span<const RunPtr> runs, bool drop_tombstones, size_t buffer_bytes,
                          RunPtr* out, bool sync = true);

// Sorts [first, last) by (key, value): one in-place bucket pass on the
// leading bits of the keys' span (256 buckets), then std::sort within each
// bucket. For hashed keys about twice as fast as std::sort over the whole,
// with no scratch memory. Not stable (equal entries are interchangeable).
void SortByKeyAndValue(format::RunEntry* first, format::RunEntry* last);

// An in-memory merge of `runs` (newest first).
RunPtr MergeInMemory(uint32_t kind, std::span<const RunPtr> runs, bool drop_tombstones);

}  // namespace zcmedia

#include "index_run_merge.h"
