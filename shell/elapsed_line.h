// A "still working" line on a terminal for the commands whose work the
// store cannot report in parts (compact, check, repair): after one second,
// "\r<what>... N s" on stderr, rewritten every quarter second by a thread
// of its own, cleared when the object goes. Nothing at all when stderr is
// not a terminal (scripts and logs get only the result).
#pragma once

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace zcmedia::shell {

class ElapsedLine {
 public:
  explicit ElapsedLine(std::string what) : what_(std::move(what)) {
    if (!::isatty(STDERR_FILENO)) return;
    thread_ = std::thread([this] { Run(); });
  }
  ~ElapsedLine() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (shown_) std::fputs("\r\033[K", stderr);
  }
  ElapsedLine(const ElapsedLine&) = delete;
  ElapsedLine& operator=(const ElapsedLine&) = delete;

 private:
  void Run() {
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) return;
    do {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "\r%s... %.0f s\033[K", what_.c_str(), seconds);
      std::fflush(stderr);
      shown_ = true;
    } while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return done_; }));
  }

  const std::string what_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool shown_ = false;
  std::thread thread_;
};

}  // namespace zcmedia::shell
