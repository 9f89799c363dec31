// FaultInjectionEnv: an Env that forwards to Env::Default() but remembers
// enough to forget, on demand, everything that was not made durable -- the
// way a power loss does.
//
// Model (what a POSIX file system guarantees after File::Sync / SyncDir):
//  - file contents: only what was there at the file's last Sync survives;
//    every PWrite / Truncate since is undone (in reverse order) and the file
//    is cut back to its size at that Sync;
//  - directory entries: a file created (OpenFile kCreate on a missing path)
//    survives only if its directory was SyncDir'ed after the creation; a
//    rename or a removal survives only if the directory was SyncDir'ed after
//    it; otherwise it is undone.
// The store's pattern (write tmp, Sync, Rename, SyncDir; META written in
// place and synced) is modelled exactly; exotic sequences (renaming a file
// onto itself, hard links) are not.
//
// Fault hooks:
//  - SetFailAfterWrites(n): after n more successful "write operations"
//    (PWrite, Sync, Truncate, RenameFile, RemoveFile, SyncDir), every further
//    one fails with IOError until SetFailAfterWrites(-1) (or only the next
//    one, for a transient error). The failing operation changes nothing.
//  - an ordered log of every mutating operation (kind + path), to check the
//    commit protocol (data synced before META is written and synced).
//
// Thread-safe (one mutex around the bookkeeping).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "zcmedia/env.h"
#include "zcmedia/status.h"

namespace zcmedia {
namespace testing_fi {

class FaultInjectionFile;

}  // namespace testing_fi

class FaultInjectionEnv : public Env {
 public:
  enum class OpKind { kCreate, kWrite, kTruncate, kSync, kRename, kRemove, kSyncDir };
  struct Op {
    OpKind kind;
    std::string path;   // for kRename: the destination; kSyncDir: the directory
    std::string from;   // kRename: the source
    uint64_t offset = 0;  // kWrite: offset; kTruncate: new size
    uint64_t length = 0;  // kWrite: bytes written
  };

  explicit FaultInjectionEnv(Env* base = Env::Default());
  ~FaultInjectionEnv() override;

  // --- Env ---
  Status OpenFile(const std::string& path, OpenMode mode,
                  std::unique_ptr<File>* file) override;
  Status FileExists(const std::string& path, bool* exists) override;
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status CreateDir(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  Status ListDir(const std::string& dir, std::vector<std::string>* names) override;
  Status Map(File* file, size_t length, std::unique_ptr<Mapping>* mapping) override;
  Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) override;

  // Simulates a power loss: every file goes back to what was durable. Call it
  // only when no Store uses this Env any more (mappings would see the undo).
  // Afterwards the Env forgets its history and starts tracking afresh.
  Status DropUnsyncedData();

  // n >= 0: n more write operations succeed, then all fail (IOError) -- or,
  // with only_once, just the next one fails and later ones succeed again
  // (a transient error).
  // n < 0: never fail (the default).
  void SetFailAfterWrites(int n, bool only_once = false);
  // How many write operations were refused since the last SetFailAfterWrites.
  int failed_writes() const;
  // The first operation that was refused (valid when failed_writes() > 0).
  Op first_failed_op() const;
  // Count of write operations performed successfully since construction or
  // the last ResetCounters().
  int64_t write_ops() const;

  // Paths of files in the order their Sync calls succeeded.
  std::vector<std::string> SyncLog() const;
  // Every successful mutating operation, in order.
  std::vector<Op> OpLog() const;
  void ResetCounters();  // clears the logs and write_ops()

 private:
  friend class testing_fi::FaultInjectionFile;

  // Undoes one PWrite or Truncate: cut/extend the file back to old_size,
  // then put old_bytes back at offset.
  struct Undo {
    uint64_t offset = 0;     // PWrite: where it wrote; Truncate: the new size
    uint64_t old_size = 0;   // the file's size before the operation
    std::string old_bytes;   // the bytes it overwrote/cut (within old_size)
  };
  struct FileState {
    bool created = false;          // created since tracking began
    bool creation_durable = true;  // dir synced after the creation
    uint64_t synced_size = 0;      // size at the last Sync (or when first seen)
    std::vector<Undo> undo;        // since the last Sync, oldest first
  };
  struct DirOp {
    enum Kind { kRename, kRemove } kind;
    std::string from, to;          // kRemove: `to` is the removed path
    bool to_existed = false;       // kRename: a file was replaced
    std::string to_bytes;          // ... its bytes then (kRemove: the file's)
    FileState to_state;            // ... and its state
  };

  // Requires mu_. Returns the state of `path`, creating it from the file on
  // disk (everything there counts as durable) when first seen.
  FileState& StateLocked(const std::string& path);
  // Requires mu_. Consumes one write operation or returns the injected error.
  Status MaybeFailLocked(OpKind kind, const std::string& path);
  void LogLocked(Op op);
  Status ReadWholeFile(const std::string& path, std::string* bytes);
  Status WriteWholeFile(const std::string& path, const std::string& bytes);

  Env* const base_;
  mutable std::mutex mu_;
  std::map<std::string, FileState> files_;
  std::vector<DirOp> dir_ops_;  // renames/removals not yet made durable
  int fail_after_ = -1;
  bool fail_once_ = false;
  int failed_ = 0;
  Op first_failed_{};
  int64_t write_ops_ = 0;
  std::vector<std::string> sync_log_;
  std::vector<Op> op_log_;
};

}  // namespace zcmedia
