// The POSIX Env: pread/pwrite/fdatasync on file descriptors, mmap for reads,
// flock for the writer lock.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "zcmedia/env.h"
#include "zcmedia/options.h"

namespace zcmedia {

namespace {
constexpr size_t kHugePageBytes = size_t{2} << 20;
}  // namespace

Mapping::~Mapping() {
  if (base_ != nullptr) munmap(const_cast<uint8_t*>(base_), length_);
}

void Mapping::Prefetch(size_t bytes) const {
  // Linux reads at most the device's read-ahead window (128 KiB by default)
  // per WILLNEED call, whatever the length asked: so one call per window.
  // A hint: a failure (e.g. no memory for the read-ahead) changes nothing.
  constexpr size_t kWindow = size_t{128} << 10;
  const size_t end = std::min(bytes, length_);
  for (size_t offset = 0; base_ != nullptr && offset < end; offset += kWindow)
    (void)madvise(const_cast<uint8_t*>(base_) + offset, std::min(kWindow, end - offset), MADV_WILLNEED);
}

namespace {

enum class HugePagesSetting { kAuto, kOn, kOff, kInvalid };

HugePagesSetting ReadHugePagesSetting() {
  const char* text = std::getenv("ZCMEDIA_HUGE_PAGES");
  if (text == nullptr || *text == '\0' || strcasecmp(text, "auto") == 0) return HugePagesSetting::kAuto;
  bool on = false;  // ParseSwitch folds case and trims
  if (!ParseSwitch(text, "ZCMEDIA_HUGE_PAGES", &on).ok()) return HugePagesSetting::kInvalid;
  return on ? HugePagesSetting::kOn : HugePagesSetting::kOff;
}

// The read-ahead window of the file system holding `fd`, from its backing
// device (/sys/class/bdi/MAJOR:MINOR/read_ahead_kb); 0 when unknown.
uint64_t ReadAheadBytes(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return 0;
  static std::mutex mu;
  static std::map<dev_t, uint64_t> by_device;  // a handful of devices per process
  std::lock_guard<std::mutex> lock(mu);
  auto it = by_device.find(st.st_dev);
  if (it != by_device.end()) return it->second;
  uint64_t bytes = 0;
  const std::string path = "/sys/class/bdi/" + std::to_string(major(st.st_dev)) + ":" +
                           std::to_string(minor(st.st_dev)) + "/read_ahead_kb";
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    unsigned long long kib = 0;
    if (std::fscanf(f, "%llu", &kib) == 1) bytes = kib << 10;
    std::fclose(f);
  }
  by_device.emplace(st.st_dev, bytes);
  return bytes;
}

}  // namespace

Status HugePagesWanted(int fd, bool* wanted) {
  // Read at every call (once per mapped file, a few per commit at most), so
  // that a process can change it between opens.
  switch (ReadHugePagesSetting()) {
    case HugePagesSetting::kOn: *wanted = true; return Status::OK();
    case HugePagesSetting::kOff: *wanted = false; return Status::OK();
    case HugePagesSetting::kAuto: *wanted = ReadAheadBytes(fd) >= (uint64_t{4} << 20); return Status::OK();
    case HugePagesSetting::kInvalid: break;
  }
  return Status::InvalidArgument(std::string("ZCMEDIA_HUGE_PAGES='") + std::getenv("ZCMEDIA_HUGE_PAGES") +
                                 "' is not a setting: use auto, on or off (also true/false, yes/no, 1/0)");
}

namespace {

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFile() override { close(fd_); }

  Status PWrite(uint64_t offset, const void* data, size_t n) override {
    const auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
      ssize_t w = pwrite(fd_, p, n, static_cast<off_t>(offset));
      if (w < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno("write to " + path_ + " at offset " + std::to_string(offset), errno);
      }
      p += w;
      n -= static_cast<size_t>(w);
      offset += static_cast<uint64_t>(w);
    }
    return Status::OK();
  }

  Status PRead(uint64_t offset, void* data, size_t n, size_t* got) override {
    auto* p = static_cast<uint8_t*>(data);
    size_t total = 0;
    while (total < n) {
      ssize_t r = pread(fd_, p + total, n - total, static_cast<off_t>(offset + total));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno("read from " + path_ + " at offset " + std::to_string(offset), errno);
      }
      if (r == 0) break;
      total += static_cast<size_t>(r);
    }
    *got = total;
    return Status::OK();
  }

  Status Sync() override {
    if (fdatasync(fd_) != 0) return Status::FromErrno("fdatasync " + path_, errno);
    return Status::OK();
  }

  void StartWriteBack(uint64_t offset, uint64_t n) override {
#ifdef SYNC_FILE_RANGE_WRITE
    (void)sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(n), SYNC_FILE_RANGE_WRITE);
#else
    (void)offset;
    (void)n;
#endif
  }

  Status Truncate(uint64_t size) override {
    if (ftruncate(fd_, static_cast<off_t>(size)) != 0)
      return Status::FromErrno("truncate " + path_, errno);
    return Status::OK();
  }

  Status Size(uint64_t* size) override {
    struct stat st;
    if (fstat(fd_, &st) != 0) return Status::FromErrno("stat " + path_, errno);
    *size = static_cast<uint64_t>(st.st_size);
    return Status::OK();
  }

  const std::string& path() const override { return path_; }
  int fd() const override { return fd_; }

 private:
  std::string path_;
  int fd_;
};

class PosixLock final : public FileLock {
 public:
  explicit PosixLock(int fd) : fd_(fd) {}
  ~PosixLock() override {
    flock(fd_, LOCK_UN);
    close(fd_);
  }

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  Status OpenFile(const std::string& path, OpenMode mode, std::unique_ptr<File>* file) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::kReadOnly: flags |= O_RDONLY; break;
      case OpenMode::kReadWrite: flags |= O_RDWR; break;
      case OpenMode::kCreate: flags |= O_RDWR | O_CREAT; break;
    }
    int fd = open(path.c_str(), flags, 0644);
    if (fd < 0) return Status::FromErrno("open " + path, errno);
    *file = std::make_unique<PosixFile>(path, fd);
    return Status::OK();
  }

  Status FileExists(const std::string& path, bool* exists) override {
    struct stat st;
    if (stat(path.c_str(), &st) == 0) {
      *exists = true;
      return Status::OK();
    }
    if (errno == ENOENT || errno == ENOTDIR) {
      *exists = false;
      return Status::OK();
    }
    return Status::FromErrno("stat " + path, errno);
  }

  Status RemoveFile(const std::string& path) override {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return Status::FromErrno("remove " + path, errno);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (rename(from.c_str(), to.c_str()) != 0)
      return Status::FromErrno("rename " + from + " to " + to, errno);
    return Status::OK();
  }

  Status CreateDir(const std::string& path) override {
    if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
      return Status::FromErrno("create directory " + path, errno);
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("open directory " + dir, errno);
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    if (rc != 0) return Status::FromErrno("fsync directory " + dir, err);
    return Status::OK();
  }

  Status ListDir(const std::string& dir, std::vector<std::string>* names) override {
    names->clear();
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return Status::FromErrno("list directory " + dir, errno);
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names->push_back(std::move(name));
    }
    closedir(d);
    return Status::OK();
  }

  Status Map(File* file, size_t length, std::unique_ptr<Mapping>* mapping) override {
    bool huge = false;
    if (length >= kHugePageBytes) ZC_RETURN_IF_ERROR(HugePagesWanted(file->fd(), &huge));
    void* p = mmap(nullptr, length, PROT_READ, MAP_SHARED, file->fd(), 0);
    if (p == MAP_FAILED) return Status::FromErrno("map " + file->path(), errno);
    // A hint: where the kernel refuses (transparent huge pages "never", or
    // no file support), the mapping works as before.
    if (huge) (void)madvise(p, length, MADV_HUGEPAGE);
    *mapping = std::make_unique<Mapping>(static_cast<const uint8_t*>(p), length);
    return Status::OK();
  }

  Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) override {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno("open lock file " + path, errno);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      char buf[32] = {0};
      ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
      close(fd);
      if (err == EWOULDBLOCK) {
        std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
        return Status::Busy("store is locked by process " + holder + " (" + path +
                            "); only one writer may open a store: close the other writer, "
                            "or open this one read-only");
      }
      return Status::FromErrno("lock " + path, err);
    }
    std::string pid = std::to_string(getpid()) + "\n";
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
      // The lock is held; a missing pid only makes a Busy message less precise.
    }
    *lock = std::make_unique<PosixLock>(fd);
    return Status::OK();
  }
};

}  // namespace

Env* Env::Default() {
  // Never destroyed (as LevelDB's default Env): background threads (an
  // index checkpoint, the extension's writer closer) may still use it while
  // a process that did not close its stores runs its exit handlers.
  static Env* const env = new PosixEnv();
  return env;
}

}  // namespace zcmedia
