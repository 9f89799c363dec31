// zcmedia watch's engine (shell/scan/watcher.h) against real inotify: each
// kind of change reaches the store, bursts coalesce, a lost-events overflow
// is survived by a rescan, and a stop commits what was pending.
#include "watcher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "test_media.h"

namespace zcmedia::scan {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void Write(const std::string& path, std::string_view contents) {
  fs::create_directories(fs::path(path).parent_path());
  testing::WriteFile(path, contents);
}

class WatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    media_ = tmp_.path() + "/media";
    store_dir_ = tmp_.path() + "/store";
    fs::create_directories(media_);
    std::unique_ptr<Store> create;
    ASSERT_TRUE(Store::Open(store_dir_, Options(), &create).ok());
    ASSERT_EQ(::pipe(stop_pipe_), 0);
  }
  void TearDown() override {
    Stop();
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
  }

  void Start(WatchOptions options = {}) {
    options.scan.roots = {media_};
    options.scan.reader_threads = 2;
    std::promise<void> ready;
    std::future<void> is_ready = ready.get_future();
    options.on_ready = [&ready] { ready.set_value(); };
    options.on_scan = [this](const ScanReport&, bool) { scans_.fetch_add(1); };
    options.scan.report_problem = [this](const ScanProblem& p) {
      std::lock_guard lock(problems_mu_);
      problems_.push_back(p);
    };
    options_ = std::move(options);
    watch_ = std::async(std::launch::async, [this] {
      return Watch(store_dir_, store_options_, options_, stop_pipe_[0], &report_);
    });
    ASSERT_EQ(is_ready.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  }
  Status Stop() {
    if (!watch_.valid()) return Status::OK();
    EXPECT_EQ(::write(stop_pipe_[1], "x", 1), 1);
    return watch_.get();
  }

  std::set<std::string> Paths() {
    Options ro;
    ro.read_only = true;
    std::unique_ptr<Store> reader;
    EXPECT_TRUE(Store::Open(store_dir_, ro, &reader).ok());
    std::set<std::string> paths;
    auto snap = reader->GetSnapshot();
    auto it = snap->NewIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next()) paths.emplace(it->record().path());
    return paths;
  }
  int64_t SizeOf(const std::string& path) {
    Options ro;
    ro.read_only = true;
    std::unique_ptr<Store> reader;
    EXPECT_TRUE(Store::Open(store_dir_, ro, &reader).ok());
    MediaFileView v;
    auto snap = reader->GetSnapshot();
    if (!snap->FindByPath(path, &v).ok()) return -1;
    return v.size();
  }

  // Waits (generously: CI machines are shared) until `done` holds; returns
  // the seconds it took, or fails.
  template <typename Pred>
  double WaitFor(Pred done, const char* what) {
    auto start = Clock::now();
    while (!done()) {
      if (Clock::now() - start > std::chrono::seconds(20)) {
        ADD_FAILURE() << "timed out waiting for: " << what;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::chrono::duration<double>(Clock::now() - start).count();
  }

  testing::TempDir tmp_;
  std::string media_, store_dir_;
  int stop_pipe_[2];
  WatchOptions options_;
  Options store_options_;
  WatchReport report_;
  std::atomic<int> scans_{0};
  std::mutex problems_mu_;
  std::vector<ScanProblem> problems_;
  size_t ProblemsOf(ScanProblem::Kind kind) {
    std::lock_guard lock(problems_mu_);
    return std::count_if(problems_.begin(), problems_.end(), [&](const ScanProblem& p) { return p.kind == kind; });
  }
  std::future<Status> watch_;
};

TEST_F(WatcherTest, EveryKindOfChangeReachesTheStore) {
  Write(media_ + "/old/a.mkv", "a");
  Start();
  EXPECT_EQ(Paths(), (std::set<std::string>{media_ + "/old/a.mkv"}));  // the initial scan

  Write(media_ + "/new.mkv", "n");
  WaitFor([&] { return Paths().count(media_ + "/new.mkv") == 1; }, "a created file");

  Write(media_ + "/new.mkv", "longer");
  WaitFor([&] { return SizeOf(media_ + "/new.mkv") == 6; }, "a rewritten file");

  fs::rename(media_ + "/new.mkv", media_ + "/renamed.mkv");
  WaitFor([&] { return Paths() == std::set<std::string>{media_ + "/old/a.mkv", media_ + "/renamed.mkv"}; },
          "a renamed file");

  Write(tmp_.path() + "/staging/album/t.mkv", "t");  // a folder moved in from outside
  fs::rename(tmp_.path() + "/staging/album", media_ + "/album");
  WaitFor([&] { return Paths().count(media_ + "/album/t.mkv") == 1; }, "a moved-in folder");

  Write(media_ + "/album/later.mkv", "l");  // the moved-in folder is watched too
  WaitFor([&] { return Paths().count(media_ + "/album/later.mkv") == 1; }, "a file in a new folder");

  fs::remove_all(media_ + "/old");
  WaitFor([&] { return Paths().count(media_ + "/old/a.mkv") == 0; }, "a deleted folder");

  fs::remove(media_ + "/renamed.mkv");
  WaitFor([&] { return Paths() == std::set<std::string>{media_ + "/album/later.mkv", media_ + "/album/t.mkv"}; },
          "a deleted file");
  EXPECT_TRUE(Stop().ok());
  EXPECT_GE(report_.rescans, 1u);
  EXPECT_GE(report_.watched_folders, 2u);
}

TEST_F(WatcherTest, ABurstIsCoalescedIntoFewRescans) {
  fs::create_directories(media_ + "/burst");
  Start();
  int before = scans_.load();
  for (int i = 0; i < 200; ++i) Write(media_ + "/burst/f" + std::to_string(i) + ".mkv", "x");
  WaitFor([&] { return Paths().size() == 200; }, "200 files");
  Status stopped = Stop();
  EXPECT_TRUE(stopped.ok()) << stopped.ToString();
  // 400+ events (create and close-write per file) in a handful of rescans.
  EXPECT_GE(report_.events, 200u);
  EXPECT_LE(scans_.load() - before, 10);
}

TEST_F(WatcherTest, StopCommitsWhatIsPending) {
  WatchOptions options;
  options.settle_ms = 60000;  // nothing would flush before the stop
  options.max_delay_ms = 60000;
  Start(std::move(options));
  Write(media_ + "/pending.mkv", "p");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the event be read
  EXPECT_TRUE(Stop().ok());
  EXPECT_EQ(Paths(), (std::set<std::string>{media_ + "/pending.mkv"}));
}

TEST_F(WatcherTest, ARootThatGoesAwayKeepsItsFilesAndIsWatchedAgainWhenBack) {
  Write(media_ + "/a.mkv", "a");
  Start();
  fs::rename(media_, tmp_.path() + "/away");  // "unmounted"
  WaitFor([&] { return ProblemsOf(ScanProblem::Kind::kUnavailableRoot) >= 1; }, "the missing root reported");
  EXPECT_EQ(Paths(), (std::set<std::string>{media_ + "/a.mkv"}));

  fs::create_directories(media_);  // the bare mount point: still unavailable, files kept
  Write(tmp_.path() + "/away/b.mkv", "b");
  fs::remove_all(media_);
  fs::rename(tmp_.path() + "/away", media_);  // "mounted again", with a new file
  WaitFor([&] { return Paths().count(media_ + "/b.mkv") == 1; }, "the returned root rescanned");
  Write(media_ + "/c.mkv", "c");  // and watched again
  WaitFor([&] { return Paths().count(media_ + "/c.mkv") == 1; }, "a new file in the returned root");
  EXPECT_EQ(Paths().count(media_ + "/a.mkv"), 1u);
  EXPECT_TRUE(Stop().ok());
}

TEST_F(WatcherTest, AStopWhileAnotherWriterHoldsTheLibrarySaysWhatIsNotCommitted) {
  store_options_.lock_timeout = std::chrono::milliseconds(100);
  WatchOptions options;
  options.settle_ms = 60000;
  options.max_delay_ms = 60000;
  Start(std::move(options));
  Write(media_ + "/late.mkv", "l");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::unique_ptr<Store> other_writer;
  ASSERT_TRUE(Store::Open(store_dir_, Options(), &other_writer).ok());
  Status stopped = Stop();
  EXPECT_EQ(stopped.code(), Status::Code::kBusy) << stopped.ToString();
  EXPECT_THAT(stopped.message(), ::testing::HasSubstr("run zcmedia scan"));
}

TEST_F(WatcherTest, ALockedLibraryIsRetriedAndSaidOnceUntilItIsFree) {
  store_options_.lock_timeout = std::chrono::milliseconds(100);
  Start();
  {
    std::unique_ptr<Store> other_writer;  // a server that wrote and keeps its connection
    ASSERT_TRUE(Store::Open(store_dir_, Options(), &other_writer).ok());
    Write(media_ + "/while-locked.mkv", "w");
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // two retries or more
    EXPECT_EQ(ProblemsOf(ScanProblem::Kind::kLibraryLocked), 1u);
    EXPECT_EQ(Paths().count(media_ + "/while-locked.mkv"), 0u);
  }
  WaitFor([&] { return Paths().count(media_ + "/while-locked.mkv") == 1; }, "the change once the lock is free");
  EXPECT_EQ(ProblemsOf(ScanProblem::Kind::kLibraryLocked), 2u);  // locked, then free again
  EXPECT_TRUE(Stop().ok());
}

TEST_F(WatcherTest, TheLibrarysOwnStoreBelowARootIsNotWatched) {
  store_dir_ = media_ + "/library.zcmedia";  // zcmedia watch /srv/music --db /srv/music/library.db
  {
    std::unique_ptr<Store> create;
    ASSERT_TRUE(Store::Open(store_dir_, Options(), &create).ok());
  }
  Start();
  Write(media_ + "/a.mkv", "a");
  WaitFor([&] { return Paths().count(media_ + "/a.mkv") == 1; }, "a created file");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const int settled = scans_.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  EXPECT_EQ(scans_.load(), settled) << "the store's own writes keep the watch rescanning";
  EXPECT_TRUE(Stop().ok());
}

TEST_F(WatcherTest, AnOverflowedEventQueueIsSurvivedByARescan) {
  int max_queued = 16384;
  if (FILE* f = std::fopen("/proc/sys/fs/inotify/max_queued_events", "r")) {
    if (std::fscanf(f, "%d", &max_queued) != 1) max_queued = 16384;
    std::fclose(f);
  }
  if (max_queued > 100000) GTEST_SKIP() << "max_queued_events is " << max_queued << ": too many files to overflow";
  // Hold the watcher before its first read until the kernel queue has
  // overflowed: each new file makes at least two events.
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  WatchOptions options;
  options.before_reading_events = [&] {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
  };
  Start(std::move(options));
  int files = max_queued / 2 + 100;
  for (int i = 0; i < files; ++i) {
    int fd = ::open((media_ + "/f" + std::to_string(i) + ".mkv").c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    ::close(fd);
  }
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  WaitFor([&] { return Paths().size() == static_cast<size_t>(files); }, "every file after the overflow");
  EXPECT_TRUE(Stop().ok());
  EXPECT_GE(report_.overflows, 1u);
}

}  // namespace
}  // namespace zcmedia::scan
