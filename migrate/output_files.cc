#include "output_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "zcmedia/migrate.h"

namespace zcmedia::migrate {
namespace {

namespace fs = std::filesystem;

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return Status::IOError("cannot remove " + path + ": " + ec.message());
  return Status::OK();
}

// fsync of every regular file and directory below `root`, and of `root`.
Status SyncTree(const std::string& root) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    ZC_RETURN_IF_ERROR(SyncPath(it->path().string()));
  }
  if (ec) return Status::IOError("cannot list " + root + ": " + ec.message());
  return SyncPath(root);
}

Status Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Status::FromErrno("cannot rename " + from + " to " + to, errno);
  }
  return Status::OK();
}

}  // namespace

Status SyncPath(const std::string& path) {
  struct stat st;
  const bool directory = ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open " + path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno("cannot sync " + path, err);
  return Status::OK();
}

std::string DefaultStorePath(const std::string& output_path) {
  fs::path path(output_path);
  fs::path store = path;
  store.replace_extension(".zcmedia");
  if (store == path) store += ".store";  // NEW.db was itself named *.zcmedia
  return store.string();
}

Status OutputFiles::Prepare(const std::string& output_path, bool force, std::unique_ptr<OutputFiles>* out) {
  std::unique_ptr<OutputFiles> files(new OutputFiles());
  fs::path path(output_path);
  if (path.filename().empty() || path.filename() == "." || path.filename() == "..") {
    return Status::InvalidArgument("output " + output_path + " names a directory; give the new database's file name");
  }
  std::error_code ec;
  fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  fs::path absolute_dir = fs::canonical(dir, ec);
  if (ec) {
    return Status::InvalidArgument("the output directory " + dir.string() +
                                   " does not exist: create it first (" + ec.message() + ")");
  }
  if (::access(absolute_dir.c_str(), W_OK | X_OK) != 0) {
    return Status::InvalidArgument("the output directory " + absolute_dir.string() +
                                   " is not writable: choose another directory or fix its permissions");
  }
  files->dir_ = absolute_dir.string();
  files->db_name_ = path.filename().string();
  files->final_db_ = files->dir_ + "/" + files->db_name_;
  files->final_store_ = DefaultStorePath(files->final_db_);
  files->store_name_ = fs::path(files->final_store_).filename().string();
  files->marker_ = files->dir_ + "/." + files->db_name_ + ".replacing";
  files->lock_path_ = files->dir_ + "/." + files->db_name_ + ".migrate-lock";

  files->lock_fd_ = ::open(files->lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (files->lock_fd_ < 0) return Status::FromErrno("cannot create the lock file " + files->lock_path_, errno);
  if (::flock(files->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    // Not ours: the destructor must leave the running migration's lock file alone.
    ::close(files->lock_fd_);
    files->lock_fd_ = -1;
    return Status::Busy("another migration to " + files->final_db_ + " is running (lock " + files->lock_path_ +
                        "); wait for it to finish");
  }

  // Set only now, under the lock: the destructor removes it.
  files->staging_ = files->dir_ + "/." + files->db_name_ + ".migrating";
  // Leftovers of an interrupted run (see output_files.h).
  ZC_RETURN_IF_ERROR(RemoveAll(files->staging_));
  if (Exists(files->marker_)) {
    ZC_RETURN_IF_ERROR(files->RemoveFinal());
    ::unlink(files->marker_.c_str());
    ZC_RETURN_IF_ERROR(SyncPath(files->dir_));
  }
  if (!force) {
    for (const std::string& existing : {files->final_db_, files->final_store_}) {
      if (Exists(existing)) {
        return Status::InvalidArgument(existing + " already exists: choose another output, or pass --force to "
                                       "replace it (and " +
                                       (existing == files->final_db_ ? files->final_store_ : files->final_db_) +
                                       ") once the new files are complete");
      }
    }
  }
  if (::mkdir(files->staging_.c_str(), 0755) != 0) {
    return Status::FromErrno("cannot create the staging directory " + files->staging_, errno);
  }
  *out = std::move(files);
  return Status::OK();
}

Status OutputFiles::RemoveFinal() {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::string file = final_db_ + suffix;
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) return Status::FromErrno("cannot remove " + file, errno);
  }
  return RemoveAll(final_store_);
}

void OutputFiles::StartWriteback() const {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(staging_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    int fd = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    ::close(fd);
  }
}

Status OutputFiles::Publish() {
  ZC_RETURN_IF_ERROR(SyncTree(staging_));
  int fd = ::open(marker_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("cannot create " + marker_, errno);
  ::close(fd);
  ZC_RETURN_IF_ERROR(SyncPath(dir_));
  ZC_RETURN_IF_ERROR(RemoveFinal());
  ZC_RETURN_IF_ERROR(Rename(staging_store(), final_store_));
  ZC_RETURN_IF_ERROR(Rename(staging_db(), final_db_));
  ZC_RETURN_IF_ERROR(SyncPath(dir_));
  ::unlink(marker_.c_str());
  ZC_RETURN_IF_ERROR(SyncPath(dir_));
  published_ = true;
  return Status::OK();
}

OutputFiles::~OutputFiles() {
  std::error_code ec;
  if (!staging_.empty()) fs::remove_all(staging_, ec);  // after Publish: only the empty directory
  if (lock_fd_ >= 0) {
    ::unlink(lock_path_.c_str());
    ::close(lock_fd_);
  }
}

}  // namespace zcmedia::migrate
