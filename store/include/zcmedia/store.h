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
#include "zcmedia/playlist.h"
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

  // Playlists (zcmedia/playlist.h states the constraints and cascades; each
  // is checked entry by entry, in batch order, as SQLite checks row by row).
  // f.id == 0 lets the store assign the next playlist id.
  void PutPlaylist(const PlaylistFields& f);
  void UpdatePlaylist(int64_t id, const PlaylistFields& f);  // rename, describe
  void RemovePlaylist(int64_t id);                            // and its entries
  // f.id == 0 lets the store assign the next entry id. Reordering is
  // UpdatePlaylistEntry with a new position (through a free position when
  // two entries swap, as in SQL).
  void PutPlaylistEntry(const PlaylistEntryFields& f);
  void UpdatePlaylistEntry(int64_t id, const PlaylistEntryFields& f);
  void RemovePlaylistEntry(int64_t id);
  void RaiseNextPlaylistId(int64_t next_id);
  void RaiseNextPlaylistEntryId(int64_t next_id);

  size_t size() const;        // entries added
  size_t ByteSize() const;    // encoded bytes held
  bool empty() const { return size() == 0; }
  void Clear();               // keeps the allocation for reuse

  struct Rep;
 private:
  friend class StoreImpl;
  friend class TransactionImpl;
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
  // Records whose canonical_path or canonical_parent_path is set and differs
  // from path / parent_path (Windows-style canonical forms). While it is 0,
  // a lookup by a canonical column is a lookup by the original one.
  uint64_t noncanonical_files = 0;
  // Records whose canonical_path or canonical_parent_path is NULL (rows a
  // shape-C server wrote before the canonical columns existed).
  uint64_t null_canonical_files = 0;
  // Records whose parent_path is a leading part of their path ('/music'
  // for '/music/a.mp3', '/' for '/a.mp3', '' for a bare name: what every
  // scanner writes; not so after `UPDATE ... SET path` alone). While it
  // equals the record count, every record whose path starts with some text
  // lies in a directory of the tree whose path agrees with that text (the
  // SQLite extension's path-prefix plan). Counted positively, so that a
  // store written before this total existed (0 here) never claims it.
  uint64_t parent_prefix_files = 0;
  uint64_t total_files() const { return files[0] + files[1] + files[2] + files[3]; }
  int64_t total_bytes() const { return bytes[0] + bytes[1] + bytes[2] + bytes[3]; }
};

// A directory of the tree the store derives from the parent_path column:
// every parent_path of a live record and all its ancestors (DeriveParentPath
// up to the root; "" is not a directory). Maintained by every write.
struct DirectoryInfo {
  // Views into the store's mapping. The directory's path is its parent's
  // path followed by `tail` (e.g. "/music" + "/Rock", "/" + "music"); `name`
  // is `tail` without a leading separator.
  std::string_view tail;
  std::string_view name;
  uint64_t files[kMimeFamilies] = {};   // live records at any depth below it, per mime family
  uint64_t total_files() const { return files[0] + files[1] + files[2] + files[3]; }
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
  // The same walk over ids only: record() is an invalid view and no record
  // is read or verified (what `SELECT count(*)` and `SELECT rowid` need).
  virtual std::unique_ptr<RecordIterator> NewIdIterator() const = 0;

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
  // The same tracks in no particular order (`name` for a named category,
  // `year` for kYear), for callers that order them their own way (the SQLite
  // extension sorts by the query's ORDER BY): no sort.
  virtual Status ListTracksUnordered(Category category, std::string_view name, int64_t year,
                                     std::vector<MediaFileView>* out) const = 0;
  // The tracks of `album`, only those by `artist` when given (exact).
  virtual Status ListAlbumTracks(std::string_view album, std::optional<std::string_view> artist,
                                 std::vector<MediaFileView>* out) const = 0;

  // The directories whose parent is `parent` ("" for top-level ones of
  // relative paths), replacing *out, in path order (bytes: parent + tail); with `family`,
  // only those holding files of that mime family at any depth (what the
  // legacy server's `SELECT DISTINCT canonical_parent_path ... LIKE` finds).
  // Answered from the directory tree index: no scan.
  virtual Status ListSubdirectories(std::string_view parent, std::optional<MimeFamily> family,
                                    std::vector<DirectoryInfo>* out) const = 0;
  // NotFound when no live record lies at any depth below `path`.
  virtual Status GetDirectory(std::string_view path, DirectoryInfo* out) const = 0;

  // Playlists (zcmedia/playlist.h), answered from the playlist index.
  virtual uint64_t playlist_count() const = 0;        // live playlists
  virtual uint64_t playlist_entry_count() const = 0;  // live entries, all playlists
  virtual int64_t next_playlist_id() const = 0;
  virtual int64_t next_playlist_entry_id() const = 0;
  // NotFound when there is no such playlist / entry.
  virtual Status GetPlaylist(int64_t id, PlaylistView* out) const = 0;
  virtual Status FindPlaylistByName(std::string_view name, PlaylistView* out) const = 0;
  virtual Status GetPlaylistEntry(int64_t id, PlaylistEntryView* out) const = 0;
  // Every playlist in id order (replacing *out).
  virtual Status ListPlaylists(std::vector<PlaylistView>* out) const = 0;
  // The entries of a playlist in position order (replacing *out); empty for
  // a playlist without entries or an unknown id.
  virtual Status ListPlaylistEntries(int64_t playlist_id, std::vector<PlaylistEntryView>* out) const = 0;
  // MAX(position) + 1 over the playlist's entries, 0 when it has none (the
  // legacy server's next free position).
  virtual Status NextPlaylistPosition(int64_t playlist_id, int64_t* position) const = 0;
  // The entries naming a media file, in id order (replacing *out).
  virtual Status ListEntriesOfMediaFile(int64_t media_file_id, std::vector<PlaylistEntryView>* out) const = 0;
  // Every entry in id order (a full scan of playlist_entries).
  virtual std::unique_ptr<PlaylistEntryIterator> NewPlaylistEntryIterator() const = 0;
};

// A write transaction (two-phase commit), for callers whose writes must be
// part of another system's transaction (the SQLite extension: a virtual
// table's writes commit and roll back with the SQLite transaction).
// Store::BeginTransaction starts one; it holds the store's writer until
// Commit or Rollback (or its destruction). Not thread-safe: one thread at a
// time (any thread). Destroy it before its Store.
//
// Nothing of a transaction is visible to Store::GetSnapshot (this process)
// or to read-only stores (other processes) until Commit returns: its data
// is appended past the committed watermark and its index runs are
// referenced only by the transaction's own would-be meta page.
//
// Two-phase commit (docs/format.md, "Transactions (two-phase commit)"):
//   Prepare: every byte of the transaction durable, then the meta page
//     the commit will write, durably, in DIR/PREPARED. Returns the sequence
//     the commit will have (record it in the other system's transaction).
//   Commit: the meta page (the commit point, as Store::Write's), then the
//     new state is published and PREPARED removed.
// After a crash between the two, Store::CommitPrepared(sequence) finishes
// the commit from DIR/PREPARED. A PREPARED left over is discarded by the
// next Store::Write, Compact, CompactIndexes or BeginTransaction (and by
// RepairIndexes): from then on it can never be committed, and
// CommitPrepared of its sequence answers OK as soon as the committed
// sequence reaches it. So call CommitPrepared before writing anything else
// after an Open.
//
// Ids: a rolled-back transaction's assigned ids were never committed and
// may be assigned again (as SQLite's AUTOINCREMENT does after a ROLLBACK).
// Committed ids are never reused.
class Transaction {
 public:
  // Rolls back if neither Commit nor Rollback ran.
  virtual ~Transaction() = default;

  // Checks `batch` entry by entry against the transaction's state (the
  // committed state at BeginTransaction plus this transaction's earlier
  // writes) with exactly the constraints and messages of Store::Write.
  // All or nothing per call: on refusal the transaction is unchanged, the
  // batch is left as it was, and the Status names the entry. On success the
  // batch is cleared and `assigned_ids` filled as Store::Write does.
  // Cheap for one-entry batches (no system call: entries collect in a
  // pending log batch appended, without a sync, when it is full). A
  // failure that is not a refusal (an I/O error, corruption) fails the
  // transaction: every later call returns that error; Rollback.
  virtual Status Write(WriteBatch& batch, std::vector<int64_t>* assigned_ids = nullptr) = 0;

  // The committed state at BeginTransaction plus this transaction's writes
  // so far. Views are valid while the snapshot lives, except that
  // RollbackTo(token) invalidates the views of snapshots taken after
  // Mark() returned `token` (their bytes are reused by later writes).
  // Never reads or fills the store's lookup cache.
  virtual std::shared_ptr<const Snapshot> GetSnapshot() = 0;

  // Savepoints. Mark() returns a token naming the state now; RollbackTo
  // discards every write made after it. The token stays valid (as SQLite's
  // ROLLBACK TO keeps the savepoint); tokens of later marks become invalid
  // (InvalidArgument). A mark costs a meta page (4 KiB), no data.
  virtual uint64_t Mark() = 0;
  virtual Status RollbackTo(uint64_t token) = 0;

  // Phase 1: appends what is pending, makes every segment byte and run file
  // of the transaction durable, then writes the would-be meta page durably
  // to DIR/PREPARED. *commit_sequence := the sequence the commit will have
  // (the current sequence for a transaction that changed nothing: it
  // writes no PREPARED). No Write after Prepare (InvalidArgument).
  virtual Status Prepare(uint64_t* commit_sequence) = 0;
  // Phase 2 (prepares first if Prepare was not called): the meta page, the
  // commit point; then the new state is published, PREPARED removed and the
  // run files the transaction made obsolete deleted. On an error before the
  // commit point nothing was committed: Rollback.
  virtual Status Commit() = 0;
  // Discards everything; files the transaction made are removed, and so is
  // its PREPARED (best effort: Open removes what is left). Releases the
  // writer. Idempotent; a no-op after Commit.
  virtual void Rollback() = 0;
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

// What Store::Compact did.
struct CompactionResult {
  uint64_t records = 0;          // live media files, playlists and entries rewritten
  uint64_t directories = 0;      // names of the directories that hold files, rewritten
  uint64_t bytes_before = 0;     // committed segment bytes before
  uint64_t bytes_after = 0;      // ... and after
  uint64_t segments_before = 0;
  uint64_t segments_after = 0;
};

class Store {
 public:
  // Opens (or creates, per options) the store in `directory`.
  static Status Open(const std::string& directory, const Options& options,
                     std::unique_ptr<Store>* store);
  virtual ~Store() = default;

  // Commits `batch` durably (see top of file). On success the batch is
  // cleared and, if `assigned_ids` is given, it receives the id of each Put,
  // PutPlaylist and PutPlaylistEntry in batch order. On failure nothing is stored and the batch is left as it was.
  // While a Transaction of this process holds the writer, waits for it up to
  // Options::lock_timeout, then Busy. Discards a leftover PREPARED first
  // (see Transaction).
  virtual Status Write(WriteBatch& batch,
                       std::vector<int64_t>* assigned_ids = nullptr) = 0;

  // The latest committed state. For a read-only store this first picks up
  // what the writer process committed since the last call.
  virtual std::shared_ptr<const Snapshot> GetSnapshot() = 0;

  // Merges every index into one run file per index: the fastest lookups.
  // Called after bulk loads; safe at any time (readers keep their views).
  virtual Status CompactIndexes() = 0;

  // Rewrites the live records (media files, playlists, entries) into new
  // segments, dropping replaced versions and removals, and builds every
  // index again from them (one run file per index); records end up in id
  // order on disk. Ids, counts and every lookup answer are unchanged.
  // Online for readers: snapshots taken before keep reading the old files
  // (unlinked, still mapped) and new ones see the result once committed.
  // Writers wait until it is done. Crash-safe: one meta page commits the
  // whole result, so a crash leaves the old state or the new one.
  // Needs free disk space for the live data (stats: segment_bytes minus
  // dead_bytes). Memory stays within the budget.
  virtual Status Compact(CompactionResult* result = nullptr) = 0;

  // Starts a write transaction (class Transaction). It holds the writer
  // for its life: Write, CompactIndexes, Compact and another
  // BeginTransaction of this process wait for it, up to
  // Options::lock_timeout, then return Busy ("store is in a transaction of
  // this process") -- never a deadlock, even when one thread asks twice.
  // ReadOnly on a read-only store. Finishes a background index checkpoint
  // and discards a leftover PREPARED first (see Transaction).
  virtual Status BeginTransaction(std::unique_ptr<Transaction>* txn) = 0;

  // Recovery of a prepared transaction (see Transaction). OK when the
  // committed sequence is already >= `sequence`. Otherwise, when
  // DIR/PREPARED holds a valid meta page of exactly `sequence` (one above
  // the committed one) whose segments are intact, commits it and publishes
  // the new state. Otherwise Corruption ("store lost a prepared transaction:
  // ..." naming what is missing). Waits for a transaction of this process
  // like Write does.
  virtual Status CommitPrepared(uint64_t sequence) = 0;

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
// (a crash leaves the old state). Records and ids are untouched. A leftover
// PREPARED (see Transaction) is discarded: it can no longer be committed.
Status RepairIndexes(const std::string& directory, const Options& options = Options());

}  // namespace zcmedia
