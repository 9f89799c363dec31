// Env: every file-system call the store makes goes through here, so tests can
// substitute a fault-injecting file system (tests/store/fault_injection_env.h)
// that forgets unsynced writes the way a power loss does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "zcmedia/status.h"

namespace zcmedia {

// An open file, read and written at explicit offsets. Not thread-safe for
// concurrent writes; concurrent PRead is fine.
class File {
 public:
  virtual ~File() = default;
  virtual Status PWrite(uint64_t offset, const void* data, size_t n) = 0;
  // Reads up to n bytes; *got < n only at end of file.
  virtual Status PRead(uint64_t offset, void* data, size_t n, size_t* got) = 0;
  // Makes everything written so far durable (fdatasync).
  virtual Status Sync() = 0;
  // A hint, no promise: start writing [offset, offset + n) to the device now,
  // so that a later Sync of a long file waits for its tail only. Errors are
  // left for Sync to report.
  virtual void StartWriteBack(uint64_t offset, uint64_t n) {
    (void)offset;
    (void)n;
  }
  virtual Status Truncate(uint64_t size) = 0;
  virtual Status Size(uint64_t* size) = 0;
  virtual const std::string& path() const = 0;
  // The OS descriptor, for read-only mappings.
  virtual int fd() const = 0;
};

// A read-only shared mapping of a file. The address never moves; bytes past
// the file's end must not be touched (SIGBUS).
class Mapping {
 public:
  Mapping() = default;
  Mapping(const uint8_t* base, size_t length) : base_(base), length_(length) {}
  ~Mapping();
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  const uint8_t* data() const { return base_; }
  size_t length() const { return length_; }
  // Asks the kernel to start reading the first `bytes` into the page cache
  // (madvise WILLNEED): a hint, with no effect on what is read.
  void Prefetch(size_t bytes) const;

 private:
  const uint8_t* base_ = nullptr;
  size_t length_ = 0;
};

// Held while a process is the store's writer. Released on destruction.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;
  // The process-wide POSIX file system.
  static Env* Default();

  enum class OpenMode { kReadOnly, kReadWrite, kCreate /* read-write, created if missing */ };
  virtual Status OpenFile(const std::string& path, OpenMode mode,
                          std::unique_ptr<File>* file) = 0;
  virtual Status FileExists(const std::string& path, bool* exists) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Atomically replaces `to` with `from` (rename(2)).
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status CreateDir(const std::string& path) = 0;  // OK if it exists
  // Makes renames and creations in `dir` durable (fsync of the directory).
  virtual Status SyncDir(const std::string& dir) = 0;
  virtual Status ListDir(const std::string& dir, std::vector<std::string>* names) = 0;
  // Maps `length` bytes of `file` read-only and shared (length may exceed
  // the file's current size: address space is reserved for growth).
  // The POSIX Env asks for 2 MiB pages on mappings of 2 MiB and more when
  // ZCMEDIA_HUGE_PAGES allows (HugePagesWanted below); a malformed value of
  // that variable makes Map fail with InvalidArgument.
  virtual Status Map(File* file, size_t length, std::unique_ptr<Mapping>* mapping) = 0;
  // Takes an exclusive advisory lock on `path` (created if missing) without
  // waiting. Busy "store is locked by process N" when another process holds it.
  virtual Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) = 0;
};

// Whether the POSIX Env asks the kernel (madvise MADV_HUGEPAGE) to back a
// mapping of `fd` with 2 MiB page-cache folios. Such a folio is mapped by
// one TLB entry instead of 512: a lookup's page-table walks, which on a
// virtual machine cost about as much as the cache misses they precede, drop
// out (docs/configuration.md, "Huge pages", has the figures). The price is
// on cold faults: the kernel then reads 4 MiB around the fault (two folios)
// instead of the file system's read-ahead window. ZCMEDIA_HUGE_PAGES:
//   auto (the default)  only where that window is at least 4 MiB (the
//                       device's read_ahead_kb), so that a cold fault never
//                       reads more than it would have anyway;
//   on / off            always / never.
// Only what the kernel reads in through such a mapping becomes huge: pages
// a process wrote with write(2) stay as they are until they are evicted.
// InvalidArgument names the variable when its value is none of those.
Status HugePagesWanted(int fd, bool* wanted);

}  // namespace zcmedia
