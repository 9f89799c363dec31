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
  virtual Status Map(File* file, size_t length, std::unique_ptr<Mapping>* mapping) = 0;
  // Takes an exclusive advisory lock on `path` (created if missing) without
  // waiting. Busy "store is locked by process N" when another process holds it.
  virtual Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) = 0;
};

}  // namespace zcmedia
