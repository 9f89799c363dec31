#include "watcher.h"

#include <dirent.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "scan_paths.h"
#include "zcmedia/store.h"

namespace zcmedia::scan {
namespace {

using Clock = std::chrono::steady_clock;

// How often the roots are looked at (a stat each) for being gone, back, or
// a different folder (a disk unmounted or mounted again).
constexpr auto kRootCheckInterval = std::chrono::seconds(2);

// What a watched folder reports: its entries appearing, vanishing, being
// written or touched, and the folder itself going away.
constexpr uint32_t kWatchMask = IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |
                                IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK;

class Watcher {
 public:
  Watcher(const std::string& store_dir, const Options& store_options, const WatchOptions& options,
          WatchReport* report)
      : store_dir_(store_dir), store_options_(store_options), options_(options), report_(report),
        roots_(NormaliseRoots(options.scan.roots)),
        store_folder_(NormaliseRoots({store_dir}).front()) {}
  ~Watcher() {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Run(int stop_fd) {
    fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) return Status::FromErrno("inotify_init1 (watching needs inotify)", errno);
    // Watches first, then the initial scan: a change made during the scan
    // is then both seen by it or after it, and named by an event.
    for (const std::string& root : roots_) WatchRoot(root);
    {
      std::unique_ptr<Store> store;
      ZC_RETURN_IF_ERROR(Store::Open(store_dir_, store_options_, &store));
      ScanOptions scan = options_.scan;
      scan.roots = roots_;
      ScanReport initial;
      Status s = Scan(store.get(), scan, &initial);
      report_->total += initial;
      if (options_.on_scan) options_.on_scan(initial, true);
      ZC_RETURN_IF_ERROR(s);
    }
    if (options_.on_ready) options_.on_ready();

    auto next_root_check = Clock::now() + kRootCheckInterval;
    for (;;) {
      int timeout = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(kRootCheckInterval).count());
      if (!pending_.empty()) {
        auto now = Clock::now();
        auto due = std::min(last_event_ + std::chrono::milliseconds(options_.settle_ms),
                            first_event_ + std::chrono::milliseconds(options_.max_delay_ms));
        due = std::max(due, retry_after_);
        timeout = std::min(timeout, static_cast<int>(std::max<int64_t>(
                                        0, std::chrono::duration_cast<std::chrono::milliseconds>(due - now).count())));
      }
      struct pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd, POLLIN, 0}};
      int n = ::poll(fds, 2, timeout);
      if (n < 0 && errno != EINTR) return Status::FromErrno("poll", errno);
      if (n > 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        // Stop: the events already queued are read (a change made just
        // before the signal may be readable in this same poll), then what
        // is pending is rescanned (nothing that happened before the stop is
        // lost); a store locked by another writer all along is an error
        // that says what was not committed.
        ZC_RETURN_IF_ERROR(ReadEvents());  // non-blocking: returns at EAGAIN
        if (!pending_.empty()) ZC_RETURN_IF_ERROR(Flush(/*stopping=*/true));
        return Status::OK();
      }
      if (n > 0 && (fds[0].revents & POLLIN)) {
        if (options_.before_reading_events) options_.before_reading_events();
        ZC_RETURN_IF_ERROR(ReadEvents());
      }
      if (Clock::now() >= next_root_check) {
        CheckRoots();
        next_root_check = Clock::now() + kRootCheckInterval;
      }
      if (!pending_.empty()) {
        auto now = Clock::now();
        bool settled = now - last_event_ >= std::chrono::milliseconds(options_.settle_ms) ||
                       now - first_event_ >= std::chrono::milliseconds(options_.max_delay_ms);
        if (settled && now >= retry_after_) ZC_RETURN_IF_ERROR(Flush(/*stopping=*/false));
      }
    }
  }

 private:
  void Problem(ScanProblem::Kind kind, const std::string& path, std::string message) {
    if (options_.scan.report_problem) options_.scan.report_problem(ScanProblem{kind, path, std::move(message)});
  }

  // A root's watches, and which folder (device, inode) they are on: a root
  // that is gone, or replaced (unmounted: the bare mount point; mounted
  // again: a new root inode), is found by CheckRoots and watched anew.
  void WatchRoot(const std::string& root) {
    struct stat st;
    if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      root_ids_[root] = {0, 0};
      return;
    }
    root_ids_[root] = {st.st_dev, st.st_ino};
    AddWatches(root);
  }

  void CheckRoots() {
    for (const std::string& root : roots_) {
      struct stat st;
      std::pair<dev_t, ino_t> now{0, 0};
      if (::stat(root.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) now = {st.st_dev, st.st_ino};
      if (now == root_ids_[root]) continue;
      // Appeared, vanished or replaced: watch what is there and rescan it
      // as a root (a vanished one is reported, its files kept).
      WatchRoot(root);
      Pending(root, true);
    }
  }

  // Watches `folder` and every folder below it (hidden ones excepted, as
  // the scanner skips them). A folder reached twice (a symlink to a folder
  // already watched, a loop) has one watch: inotify gives the same
  // descriptor, and it is not descended again.
  void AddWatches(const std::string& folder) {
    // The library's own store may sit below a root (--db /srv/music/lib.db):
    // its writes are not media, and watching them would make every rescan's
    // commit the event of the next rescan.
    if (folder == store_folder_) return;
    int wd = ::inotify_add_watch(fd_, folder.c_str(), kWatchMask);
    if (wd < 0) {
      if (errno == ENOSPC && !warned_limit_) {
        warned_limit_ = true;
        Problem(ScanProblem::Kind::kUnreadableFolder, folder,
                folder + ": the inotify watch limit is reached (sysctl fs.inotify.max_user_watches): this folder "
                         "and others are not watched; raise the limit and restart the watch");
      }
      return;  // missing or unreadable: the scan reports it
    }
    auto [it, inserted] = folders_.emplace(wd, folder);
    if (!inserted) {
      bool moved = it->second != folder && !IsInside(folder, it->second);
      if (moved) it->second = folder;  // moved within the tree: the watch follows the inode
      if (!moved) return;              // the same folder again, or a loop
    } else {
      ++report_->watched_folders;
    }
    DIR* dir = ::opendir(folder.c_str());
    if (dir == nullptr) return;
    std::vector<std::string> subfolders;
    while (struct dirent* e = ::readdir(dir)) {
      if (e->d_name[0] == '.') continue;
      if (e->d_type == DT_DIR || e->d_type == DT_LNK || e->d_type == DT_UNKNOWN) {
        subfolders.push_back(JoinPath(folder, e->d_name));
      }
    }
    ::closedir(dir);
    for (const std::string& sub : subfolders) AddWatches(sub);  // IN_ONLYDIR refuses files
  }

  void Pending(const std::string& folder, bool recursive) {
    auto now = Clock::now();
    if (pending_.empty()) first_event_ = now;
    last_event_ = now;
    bool& r = pending_[folder];
    r = r || recursive;
  }

  Status ReadEvents() {
    alignas(struct inotify_event) char buffer[64 * 1024];
    for (;;) {
      ssize_t n = ::read(fd_, buffer, sizeof(buffer));
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::OK();
        if (errno == EINTR) continue;
        return Status::FromErrno("reading inotify events", errno);
      }
      for (char* p = buffer; p < buffer + n;) {
        const auto* event = reinterpret_cast<const struct inotify_event*>(p);
        p += sizeof(struct inotify_event) + event->len;
        ++report_->events;
        Handle(*event);
      }
    }
  }

  void Handle(const struct inotify_event& event) {
    if (event.mask & IN_Q_OVERFLOW) {
      // Events were lost: every root is rescanned, which finds all of it.
      ++report_->overflows;
      for (const std::string& root : roots_) Pending(root, true);
      return;
    }
    auto it = folders_.find(event.wd);
    if (it == folders_.end()) return;
    const std::string folder = it->second;
    if (event.mask & IN_IGNORED) {  // the watch is gone (its folder deleted or unmounted)
      folders_.erase(it);
      return;
    }
    if (event.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
      // A root going away is rescanned as a root (which reports it and
      // keeps its records; CheckRoots watches it again when it is back);
      // any other folder is handled by its parent's event.
      if (std::find(roots_.begin(), roots_.end(), folder) != roots_.end()) {
        root_ids_[folder] = {0, 0};
        Pending(folder, false);
      }
      return;
    }
    if (event.len == 0 || event.name[0] == '.') return;  // hidden entries are not scanned
    if ((event.mask & IN_ISDIR) && (event.mask & (IN_CREATE | IN_MOVED_TO))) {
      Pending(JoinPath(folder, event.name), true);  // a new folder: watched and scanned whole
      Pending(folder, false);
      return;
    }
    Pending(folder, false);
  }

  Status Flush(bool stopping) {
    std::unique_ptr<Store> store;
    Status s = Store::Open(store_dir_, store_options_, &store);
    if (s.code() == Status::Code::kBusy) {
      if (stopping) {
        return Status::Busy(s.message() + ": the changes in " + std::to_string(pending_.size()) +
                            " folder(s) seen since the last rescan are not in the library; run zcmedia scan "
                            "once the other writer is done");
      }
      // Another writer (a server's playlist edit): keep the folders, retry
      // every second; said once per episode, not once per retry (a server
      // that keeps its connection open can hold the lock for hours).
      if (!locked_since_) {
        locked_since_ = Clock::now();
        Problem(ScanProblem::Kind::kLibraryLocked, store_dir_,
                s.message() + "; the rescan is retried every second until it is free");
      }
      retry_after_ = Clock::now() + std::chrono::seconds(1);
      return Status::OK();
    }
    ZC_RETURN_IF_ERROR(s);
    if (locked_since_) {
      const double seconds = std::chrono::duration<double>(Clock::now() - *locked_since_).count();
      Problem(ScanProblem::Kind::kLibraryLocked, store_dir_,
              store_dir_ + " is free again after " + std::to_string(static_cast<int64_t>(seconds)) +
                  " s; rescanning what changed meanwhile");
      locked_since_.reset();
    }
    std::vector<FolderToScan> folders;
    for (const auto& [path, recursive] : pending_) {
      bool root = std::find(roots_.begin(), roots_.end(), path) != roots_.end();
      if (recursive) AddWatches(path);
      folders.push_back(FolderToScan{path, recursive, root});
    }
    pending_.clear();
    ScanReport report;
    s = ScanFolders(store.get(), folders, options_.scan, &report);
    ++report_->rescans;
    report_->total += report;
    if (options_.on_scan) options_.on_scan(report, false);
    return s;
  }

  const std::string store_dir_;
  const Options store_options_;
  const WatchOptions& options_;
  WatchReport* report_;
  const std::vector<std::string> roots_;
  const std::string store_folder_;  // absolute, normalised: never watched
  int fd_ = -1;
  bool warned_limit_ = false;
  std::unordered_map<int, std::string> folders_;  // watch descriptor -> folder path
  std::map<std::string, bool> pending_;           // folder -> recursive
  std::map<std::string, std::pair<dev_t, ino_t>> root_ids_;  // {0, 0}: not there
  Clock::time_point first_event_, last_event_, retry_after_;
  std::optional<Clock::time_point> locked_since_;  // another writer holds the store since
};

}  // namespace

Status Watch(const std::string& store_dir, const Options& store_options, const WatchOptions& options, int stop_fd,
             WatchReport* report) {
  Watcher watcher(store_dir, store_options, options, report);
  return watcher.Run(stop_fd);
}

}  // namespace zcmedia::scan
