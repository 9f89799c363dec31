// Store: a persistent, crash-safe store of media-file records.
//
// Writing: build a WriteBatch (bulk is the primitive; a single insert is a
// one-item batch) and pass it to Store::Write, which appends it to the active
// segment, makes the data durable, then makes the new committed watermark
// durable, and only then returns. A batch is all or nothing: if any entry is
// refused (duplicate path, colliding id, unknown id) nothing of it is stored.
//
// Reading: take a Snapshot. It sees exactly the batches committed when it was
// taken, never a part of one, and never changes. Views it returns point into
// the store's read-only mappings (zero copy) and stay valid while the
// Snapshot is alive.
//
// Concurrency: one writer per store directory, across processes (an advisory
// lock on DIR/LOCK; a second writer gets Busy naming the holder's pid). Any
// number of readers: threads sharing one Store, and other processes opening
// the directory with Options::read_only. A Store object is thread-safe; a
// Snapshot is immutable and may be shared between threads.
//
// Caveat (as LMDB's): open each store directory once per process. Two Store
// objects on one directory in one process are two independent readers, and
// only one of them can be the writer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zcmedia/media_file.h"
#include "zcmedia/options.h"
#include "zcmedia/stats.h"
#include "zcmedia/status.h"

namespace zcmedia {

// A set of writes committed together. Encodes records as they are added, so
// its heap use is about the encoded size of its records (~300 B each); keep
// batches near Store::recommended_batch_records() to stay inside the budget.
// Not thread-safe.
class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;

  // Inserts a record. f.id == 0 lets the store assign the next id; any other
  // id is kept and must not be live in the store (Constraint otherwise).
  // f.path must be non-empty and not already stored (path is UNIQUE).
  void Put(const MediaFileFields& f);
  // Replaces every column of live record `id` (f.id is ignored).
  void Update(int64_t id, const MediaFileFields& f);
  // Removes live record `id`. Its id is never assigned again.
  void Remove(int64_t id);
  // Makes the next assigned id at least `next_id` (SQLite's sqlite_sequence
  // carried over by a migration).
  void RaiseNextId(int64_t next_id);

  size_t size() const;        // entries added
  size_t ByteSize() const;    // encoded bytes held
  bool empty() const { return size() == 0; }
  void Clear();               // keeps the allocation for reuse

  struct Rep;
 private:
  friend class StoreImpl;
  std::unique_ptr<Rep> rep_;
};

// Iterates live records in id order. Lifetime: the Snapshot it came from must
// outlive it.
class RecordIterator {
 public:
  virtual ~RecordIterator() = default;
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void Seek(int64_t id) = 0;   // first record with id >= `id`
  virtual void Next() = 0;
  virtual int64_t id() const = 0;
  virtual MediaFileView record() const = 0;
  // Not OK when a record could not be read (corruption); Valid() is false then.
  virtual Status status() const = 0;
};

// A consistent, immutable view of the store at one committed batch.
// Music categories of the audio records: those whose mime_type starts with
// "audio/" (ASCII letters in any case, like SQL's LIKE 'audio/%'). NULL and
// empty values belong to no category, as in the legacy queries.
enum class Category : uint8_t { kArtist = 1, kAlbum = 2, kGenre = 3, kYear = 4, kAlbumArtist = 5 };

// One value of a category and the number of audio records that carry it.
struct CategoryCount {
  std::string_view name;  // the exact value (a view into a record); empty for kYear
  int64_t year = 0;       // kYear only
  uint64_t tracks = 0;
};

// Totals of the live records, maintained by every write (never a scan) and
// committed with it: what `SELECT COUNT(*), SUM(size)` answers, per family.
struct LibraryTotals {
  uint64_t files[kMimeFamilies] = {};
  int64_t bytes[kMimeFamilies] = {};  // sum of the `size` column
  uint64_t total_files() const { return files[0] + files[1] + files[2] + files[3]; }
  int64_t total_bytes() const { return bytes[0] + bytes[1] + bytes[2] + bytes[3]; }
};

class Snapshot {
 public:
  virtual ~Snapshot() = default;

  virtual uint64_t sequence() const = 0;      // commit sequence it reflects
  virtual int64_t next_id() const = 0;        // the id the next Put gets
  virtual uint64_t record_count() const = 0;  // live records
  virtual LibraryTotals totals() const = 0;   // per mime family
  // Bytes of segment entries no later state needs (replaced and removed
  // versions, removal entries): what a compaction would reclaim.
  virtual uint64_t dead_bytes() const = 0;

  // NotFound when no live record has that id / path.
  virtual Status Get(int64_t id, MediaFileView* out) const = 0;
  virtual Status FindByPath(std::string_view path, MediaFileView* out) const = 0;
  // Bulk forms: out[i] answers ids[i] / paths[i]; a missing one is an
  // invalid view (!valid()). Errors are corruption or I/O only.
  virtual Status GetMany(std::span<const int64_t> ids,
                         std::vector<MediaFileView>* out) const = 0;
  virtual Status FindManyByPath(std::span<const std::string_view> paths,
                                std::vector<MediaFileView>* out) const = 0;
  // Records whose parent_path equals `parent`, in id order (appended to out).
  virtual Status ListDirectory(std::string_view parent,
                               std::vector<MediaFileView>* out) const = 0;
  // The same, only records of one mime family (the legacy server's
  // `AND mime_type LIKE 'video%'` filter).
  virtual Status ListDirectory(std::string_view parent, MimeFamily family,
                               std::vector<MediaFileView>* out) const = 0;

  virtual std::unique_ptr<RecordIterator> NewIterator() const = 0;

  // Music categories, answered from the category index (no scan of the
  // library; a listing reads the index entries of that category and one
  // record per value). Views stay valid while this snapshot lives.
  //
  // Every value of `category` with its track count (replacing *out), in the
  // legacy server's order: names by SQLite's NOCASE collation (ASCII letters
  // folded), equal ones by bytes; years newest first. Values are exact, as
  // SQL's GROUP BY makes them: "Beatles" and "beatles" are two entries.
  virtual Status ListCategory(Category category, std::vector<CategoryCount>* out) const = 0;
  // The albums among the audio records whose artist is `artist` (exact).
  virtual Status ListAlbumsOfArtist(std::string_view artist, std::vector<CategoryCount>* out) const = 0;
  // Audio records whose `category` equals `name` (exact), replacing *out,
  // in the legacy orders (NULL first, names by NOCASE, each list ending in
  // filename and then id so that the order is total):
  //   kArtist, kAlbumArtist: album, track_number, filename
  //   kAlbum:                track_number, filename
  //   kGenre:                artist, album, track_number, filename
  // InvalidArgument for kYear (use ListTracksOfYear).
  virtual Status ListTracks(Category category, std::string_view name,
                            std::vector<MediaFileView>* out) const = 0;
  // Audio records of `year`: artist, album, track_number, filename.
  virtual Status ListTracksOfYear(int64_t year, std::vector<MediaFileView>* out) const = 0;
  // The tracks of `album`, only those by `artist` when given (exact).
  virtual Status ListAlbumTracks(std::string_view album, std::optional<std::string_view> artist,
                                 std::vector<MediaFileView>* out) const = 0;
};

// What the store looks like on disk, for stats and benchmarks.
struct StoreInfo {
  uint64_t sequence = 0;
  uint64_t record_count = 0;
  int64_t next_id = 0;
  uint64_t segment_count = 0;
  uint64_t segment_bytes = 0;   // committed bytes in segments
  uint64_t index_bytes = 0;     // bytes of index run files
  uint64_t index_runs = 0;      // run files over all indexes
  uint64_t memtable_records = 0;// committed records not yet in run files
  uint64_t disk_bytes = 0;      // every file in the directory
};

class Store {
 public:
  // Opens (or creates, per options) the store in `directory`.
  static Status Open(const std::string& directory, const Options& options,
                     std::unique_ptr<Store>* store);
  virtual ~Store() = default;

  // Commits `batch` durably (see top of file). On success the batch is
  // cleared and, if `assigned_ids` is given, it receives the id of each Put
  // in order. On failure nothing is stored and the batch is left as it was.
  virtual Status Write(WriteBatch& batch,
                       std::vector<int64_t>* assigned_ids = nullptr) = 0;

  // The latest committed state. For a read-only store this first picks up
  // what the writer process committed since the last call.
  virtual std::shared_ptr<const Snapshot> GetSnapshot() = 0;

  // Merges every index into one run file per index: the fastest lookups.
  // Called after bulk loads; safe at any time (readers keep their views).
  virtual Status CompactIndexes() = 0;

  // How many records a WriteBatch should hold for this memory budget.
  virtual size_t recommended_batch_records() const = 0;

  // Changes a setting while the store is open, for the settings where that
  // is safe, in the forms of docs/configuration.md:
  //   "sync"           switch: on/off (takes effect at the next commit)
  //   "memory_budget"  size, 1 MiB .. 1 TiB: the next commit and checkpoint
  //                    use the new profile (batch size, in-memory index);
  //                    the lookup cache is resized at once
  //   "lookup_cache"   switch: off empties and frees the lookup cache
  // Anything else is InvalidArgument naming the settings that can change
  // (segment_max_bytes, for one, fixes how segments are mapped: reopen).
  virtual Status SetOption(std::string_view name, std::string_view value) = 0;

  virtual StoreInfo Info() = 0;
  // Counters since Open, committed totals and memory in one consistent
  // snapshot (zcmedia/stats.h). Cheap: no disk I/O (it reads
  // /proc/self/status for the process's anonymous memory). Each call starts a new
  // interval for records_per_second.
  virtual StoreStats GetStats() = 0;
  virtual const std::string& directory() const = 0;
};

// Rebuilds the id, path, directory and category indexes of the store in `directory`
// from its segments (the indexes are derived state), for when an index file
// is damaged or lost: Open then reports Corruption or IOError naming it.
// Takes the writer lock; the new indexes replace the old ones atomically
// (a crash leaves the old state). Records and ids are untouched.
Status RepairIndexes(const std::string& directory, const Options& options = Options());

}  // namespace zcmedia
