#include "bench_util.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

namespace zcmedia::bench {

void CheckOk(const Status& status, std::string_view what) {
  if (!status.ok()) throw BenchError(std::string(what) + ": " + status.ToString());
}

Options StoreOptionsWithBudget(size_t memory_budget) {
  Options options;
  if (memory_budget) options.memory_budget = memory_budget;
  return options;
}

Summary Summarize(std::vector<double> values) {
  Summary s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  s.runs = n;
  s.min = values.front();
  s.max = values.back();
  s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return s;
}

std::string FormatSi(double value) {
  if (!std::isfinite(value)) return "n/a";
  static constexpr const char* kSuffixes[] = {"", "k", "M", "G", "T"};
  double magnitude = std::fabs(value);
  size_t suffix = 0;
  // Switch unit before rounding would print "1000k".
  while (magnitude >= 999.5 && suffix + 1 < std::size(kSuffixes)) {
    magnitude /= 1000;
    value /= 1000;
    ++suffix;
  }
  const char* format = magnitude >= 99.95 ? "%.0f%s" : magnitude >= 9.995 ? "%.1f%s" : "%.2f%s";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value, kSuffixes[suffix]);
  return buf;
}

std::string FormatThousands(uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string FormatFixed(double value, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::string FormatKib(double kib) { return FormatThousands(uint64_t(std::max(0.0, kib))) + " KiB"; }

std::string PadRight(std::string text, size_t columns) {
  size_t characters = 0;
  for (char c : text) characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  if (characters < columns) text.append(columns - characters, ' ');
  return text;
}

std::string FormatSummary(const Summary& s, const std::function<std::string(double)>& format) {
  if (s.runs == 0) return "n/a";
  if (s.runs == 1) return format(s.median) + " (1)";
  return format(s.median) + " [" + format(s.min) + "\u2013" + format(s.max) + "] (" +
         std::to_string(s.runs) + ")";
}

namespace {

// Finds "<field>:" at the start of a line of a /proc status text.
int64_t ParseStatusKiB(std::string_view text, std::string_view field) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.size() > field.size() && line.substr(0, field.size()) == field &&
        line[field.size()] == ':') {
      std::string number(line.substr(field.size() + 1));
      return std::strtoll(number.c_str(), nullptr, 10);
    }
    pos = end + 1;
  }
  return -1;
}

std::string ProcStatusPath(pid_t pid) {
  return pid == 0 ? std::string("/proc/self/status")
                  : "/proc/" + std::to_string(pid) + "/status";
}

// Reads the whole status file through an already-open descriptor. pread at
// offset 0 makes procfs regenerate the text, so one open serves every sample
// and the sampler stays cheap next to a 1 ms period.
std::string_view ReadWhole(int fd, char* buf, size_t capacity) {
  ssize_t n = ::pread(fd, buf, capacity, 0);
  return n > 0 ? std::string_view(buf, static_cast<size_t>(n)) : std::string_view();
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Appends what is readable now; returns false at end of file.
bool DrainPipe(int fd, std::string* out) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out->append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return true;  // EAGAIN: nothing more for now
  }
}

// Child → parent message: first kChildReadyLine, once the child's memory
// is its own; then one "v <key> <value>" line per number, and "e <message>"
// if the body failed. Keys never contain spaces.
constexpr std::string_view kChildReadyLine = "r\n";
std::string EncodeChildValues(const std::map<std::string, double>& values,
                              const std::string& error) {
  std::string out;
  char buf[64];
  for (const auto& [key, value] : values) {
    std::snprintf(buf, sizeof buf, "%.17g", value);
    out += "v " + key + " " + buf + "\n";
  }
  if (!error.empty()) {
    std::string one_line = error;
    std::replace(one_line.begin(), one_line.end(), '\n', ' ');
    out += "e " + one_line + "\n";
  }
  return out;
}

void DecodeChildValues(std::string_view text, ChildReport* report) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() < 2) continue;
    if (line[0] == 'e') {
      report->error = std::string(line.substr(2));
    } else if (line[0] == 'v') {
      std::string_view rest = line.substr(2);
      size_t space = rest.find(' ');
      if (space == std::string_view::npos) continue;
      std::string number(rest.substr(space + 1));
      report->values[std::string(rest.substr(0, space))] = std::strtod(number.c_str(), nullptr);
    }
  }
}

}  // namespace

int64_t ReadProcStatusKiB(pid_t pid, std::string_view field) {
  int fd = ::open(ProcStatusPath(pid).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[8192];
  int64_t kib = ParseStatusKiB(ReadWhole(fd, buf, sizeof buf), field);
  ::close(fd);
  return kib;
}

double ChildReport::at(const std::string& key) const {
  auto it = values.find(key);
  if (it == values.end()) throw BenchError("measurement child did not report '" + key + "'");
  return it->second;
}

ChildReport RunInChild(const std::function<void(std::map<std::string, double>& values)>& body,
                       std::chrono::microseconds sample_interval) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw BenchError(std::string("pipe: ") + std::strerror(errno));
  }
  // Whatever sits in stdio buffers would otherwise be printed twice.
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw BenchError(std::string("fork: ") + std::strerror(err));
  }

  if (pid == 0) {
    ::close(fds[0]);
    // Heap the parent freed but kept is resident and mapped here too: the
    // body would reuse it without its RssAnon growing, and the sampled peak
    // would miss that memory. Hand it back first, so the body's baseline
    // counts only what is in use.
    ::malloc_trim(0);
    WriteAll(fds[1], kChildReadyLine);
    std::map<std::string, double> values;
    std::string error;
    try {
      body(values);
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "unknown error";
    } catch (...) {
      error = "unknown exception";
    }
    bool sent = WriteAll(fds[1], EncodeChildValues(values, error));
    std::fflush(nullptr);
    // _exit: the parent's atexit handlers and static destructors are not ours
    // to run.
    ::_exit(error.empty() && sent ? 0 : 1);
  }

  ::close(fds[1]);
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  int status_fd = ::open(ProcStatusPath(pid).c_str(), O_RDONLY | O_CLOEXEC);

  ChildReport report;
  std::string message;
  char status_buf[8192];
  int wait_status = 0;
  for (;;) {
    DrainPipe(fds[0], &message);
    // Until the child has trimmed its heap it still maps the parent's free
    // memory: those samples are not the child's.
    const bool child_ready = message.rfind(kChildReadyLine, 0) == 0;
    if (status_fd >= 0 && child_ready) {
      int64_t anon = ParseStatusKiB(ReadWhole(status_fd, status_buf, sizeof status_buf), "RssAnon");
      if (anon >= 0) {
        report.peak_anon_kib = std::max(report.peak_anon_kib, anon);
        ++report.samples;
      }
    }
    pid_t done = ::waitpid(pid, &wait_status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      int err = errno;
      if (status_fd >= 0) ::close(status_fd);
      ::close(fds[0]);
      throw BenchError(std::string("waitpid: ") + std::strerror(err));
    }
    std::this_thread::sleep_for(sample_interval);
  }
  if (status_fd >= 0) ::close(status_fd);
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) & ~O_NONBLOCK);
  while (DrainPipe(fds[0], &message)) {
  }
  ::close(fds[0]);

  DecodeChildValues(message, &report);
  if (report.error.empty()) {
    if (WIFSIGNALED(wait_status)) {
      report.error = std::string("measurement child killed by signal ") +
                     strsignal(WTERMSIG(wait_status));
    } else if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
      report.error = "measurement child exited with status " +
                     std::to_string(WEXITSTATUS(wait_status));
    }
  }
  return report;
}

void FailIfChildFailed(const ChildReport& report, const std::string& what) {
  if (!report.error.empty()) throw BenchError(what + " run failed: " + report.error);
}

void SyncFilesystems() { ::sync(); }

std::string MakeTempDir(const std::string& parent, const std::string& prefix) {
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  std::string pattern = (std::filesystem::path(parent) / (prefix + "XXXXXX")).string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw BenchError("cannot create a temporary directory under '" + parent +
                     "': " + std::strerror(errno));
  }
  return std::string(buf.data());
}

void RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) throw BenchError("cannot remove '" + path + "': " + ec.message());
}

TempDir::~TempDir() {
  if (keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec) std::fprintf(stderr, "warning: could not remove %s: %s\n", path_.c_str(), ec.message().c_str());
}

DiskUsage MeasureDirectory(const std::string& dir) {
  DiskUsage usage;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    usage.apparent_bytes += static_cast<uint64_t>(st.st_size);
    usage.allocated_bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    ++usage.files;
  }
  if (ec) throw BenchError("cannot list '" + dir + "': " + ec.message());
  return usage;
}

namespace {

// The regular files below `dir`, for the page-cache helpers.
std::vector<std::string> RegularFilesBelow(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path().string());
  }
  if (ec) throw BenchError("cannot list '" + dir + "': " + ec.message());
  return files;
}

// Bytes of the open file `fd` (of `size` bytes) that sit in the page cache.
uint64_t ResidentBytes(int fd, uint64_t size) {
  if (size == 0) return 0;
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return 0;
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in_core((size + page - 1) / page);
  uint64_t resident = 0;
  if (::mincore(map, size, in_core.data()) == 0) {
    for (unsigned char c : in_core) resident += (c & 1) ? page : 0;
  }
  ::munmap(map, size);
  return std::min(resident, size);
}

}  // namespace

void WarmPageCache(const std::string& dir) {
  std::vector<char> buf(1 << 20);
  for (const std::string& path : RegularFilesBelow(dir)) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    while (::read(fd, buf.data(), buf.size()) > 0) {
    }
    ::close(fd);
  }
}

void EvictAsAfterARestart(const std::string& dir) {
  const Eviction eviction = EvictFromPageCache(dir);
  std::printf("  restart: evicted %s files, %.1f MB, from the page cache (%.1f MB stayed)\n",
              FormatThousands(eviction.files).c_str(), double(eviction.bytes) / 1e6,
              double(eviction.resident_bytes_after) / 1e6);
  std::fflush(stdout);
}

Eviction EvictFromPageCache(const std::string& dir) {
  Eviction eviction;
  for (const std::string& path : RegularFilesBelow(dir)) {
    // Linux syncs through a read-only descriptor too.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw BenchError("cannot open '" + path + "' to evict it: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || ::fsync(fd) != 0) {
      const int err = errno;
      ::close(fd);
      throw BenchError("cannot sync '" + path + "': " + std::strerror(err));
    }
    const int advice = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (advice != 0) {
      ::close(fd);
      throw BenchError("posix_fadvise(DONTNEED) on '" + path + "': " + std::strerror(advice));
    }
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    eviction.files += 1;
    eviction.bytes += size;
    eviction.resident_bytes_after += ResidentBytes(fd, size);
    ::close(fd);
  }
  return eviction;
}

namespace {

inline uint64_t Fold(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001B3ull; }

inline uint64_t FoldText(uint64_t h, const OptText& t) {
  if (!t) return Fold(h, 0xA5A5);
  // Length plus the bytes at both ends: reads the string without hashing it.
  uint64_t v = t->size();
  if (!t->empty()) v += (uint64_t(uint8_t(t->front())) << 32) + (uint64_t(uint8_t(t->back())) << 40);
  return Fold(h, v);
}

inline uint64_t FoldInt(uint64_t h, const OptInt& i) {
  return i ? Fold(h, static_cast<uint64_t>(*i)) : Fold(h, 0x5A5A);
}

}  // namespace

uint64_t TouchColumns(const MediaFileFields& f) {
  uint64_t h = 0xCBF29CE484222325ull;
  h = Fold(h, static_cast<uint64_t>(f.id));
  h = FoldText(h, f.path);
  h = FoldText(h, f.parent_path);
  h = FoldText(h, f.canonical_path);
  h = FoldText(h, f.canonical_parent_path);
  h = FoldText(h, f.filename);
  h = Fold(h, static_cast<uint64_t>(f.size));
  h = Fold(h, static_cast<uint64_t>(f.modified));
  h = FoldText(h, f.mime_type);
  h = FoldInt(h, f.duration);
  h = FoldText(h, f.title);
  h = FoldText(h, f.artist);
  h = FoldText(h, f.album);
  h = FoldText(h, f.genre);
  h = FoldInt(h, f.track_number);
  h = FoldInt(h, f.year);
  h = FoldText(h, f.album_artist);
  h = Fold(h, static_cast<uint64_t>(f.created_at));
  h = Fold(h, static_cast<uint64_t>(f.updated_at));
  return h;
}

void DoNotOptimize(uint64_t value) {
  asm volatile("" : : "r"(value) : "memory");
}

std::string JsonEscape(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

void JsonLine::AddRaw(std::string_view key, std::string raw_value) {
  for (auto& member : members_) {
    if (member.first == key) {
      member.second = std::move(raw_value);
      return;
    }
  }
  members_.emplace_back(std::string(key), std::move(raw_value));
}

JsonLine& JsonLine::Add(std::string_view key, double value) {
  if (!std::isfinite(value)) {
    AddRaw(key, "null");
    return *this;
  }
  char buf[64];
  // Whole numbers for rates and byte counts; four significant digits below.
  std::snprintf(buf, sizeof buf, std::fabs(value) >= 1000 ? "%.0f" : "%.4g", value);
  AddRaw(key, buf);
  return *this;
}

JsonLine& JsonLine::Add(std::string_view key, int64_t value) {
  AddRaw(key, std::to_string(value));
  return *this;
}

JsonLine& JsonLine::Add(std::string_view key, uint64_t value) {
  AddRaw(key, std::to_string(value));
  return *this;
}

JsonLine& JsonLine::Add(std::string_view key, std::string_view value) {
  AddRaw(key, JsonEscape(value));
  return *this;
}

JsonLine& JsonLine::Add(std::string_view key, bool value) {
  AddRaw(key, value ? "true" : "false");
  return *this;
}

std::string JsonLine::ToString() const {
  std::string out = "{";
  for (size_t i = 0; i < members_.size(); ++i) {
    if (i) out += ", ";
    out += JsonEscape(members_[i].first) + ": " + members_[i].second;
  }
  return out + "}";
}

namespace {

// A flat JSON object of numbers, strings and booleans (what JsonLine
// prints). Numbers go to `numbers`, strings to `texts`; booleans are skipped.
bool ParseFlatJson(std::string_view text, std::map<std::string, double>* numbers,
                   std::map<std::string, std::string>* texts) {
  size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  auto string = [&](std::string* out) {
    if (i >= text.size() || text[i] != '"') return false;
    for (++i; i < text.size() && text[i] != '"'; ++i) {
      if (text[i] == '\\' && i + 1 < text.size()) ++i;
      out->push_back(text[i]);
    }
    if (i >= text.size()) return false;
    ++i;
    return true;
  };
  skip();
  if (i >= text.size() || text[i++] != '{') return false;
  for (;;) {
    skip();
    if (i < text.size() && text[i] == '}') return true;
    std::string key;
    if (!string(&key)) return false;
    skip();
    if (i >= text.size() || text[i++] != ':') return false;
    skip();
    if (i < text.size() && text[i] == '"') {
      std::string value;
      if (!string(&value)) return false;
      (*texts)[key] = value;
    } else if (text.substr(i, 4) == "true") {
      i += 4;
    } else if (text.substr(i, 5) == "false") {
      i += 5;
    } else {
      const std::string rest(text.substr(i, 64));
      char* end = nullptr;
      const double v = std::strtod(rest.c_str(), &end);
      if (end == rest.c_str()) return false;
      i += static_cast<size_t>(end - rest.c_str());
      (*numbers)[key] = v;
    }
    skip();
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    return i < text.size() && text[i] == '}';
  }
}

enum class Better { kHigher, kLower, kUnknown };

Better DirectionOf(const std::string& key) {
  auto ends_with = [&](std::string_view suffix) {
    return key.size() >= suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (key.rfind("sqlite_", 0) == 0 || key.rfind("generation_", 0) == 0 || ends_with("_min") || ends_with("_max"))
    return Better::kUnknown;  // the reference, the workload generator, the spread
  if (ends_with("_time_ratio")) return Better::kLower;  // one time over another (bench migrate)
  if (ends_with("_per_s") || key == "ratio" || ends_with("_ratio")) return Better::kHigher;
  // By suffix, so that the per-phase figures of bench scale and the
  // per-budget ones of bench profiles ("budget_64mib_store_peak_anon_kib")
  // are compared too.
  static const char* const kLowerSuffixes[] = {"bytes_per_record", "peak_anon_kib", "_ms", "store_total_s",
                                               "store_compact_s"};
  for (const char* suffix : kLowerSuffixes)
    if (ends_with(suffix)) return Better::kLower;
  return Better::kUnknown;
}

}  // namespace

int CompareWithBaseline(const std::string& path, const JsonLine& now, double tolerance) {
  std::ifstream in(path);
  if (!in) throw BenchError("cannot read the baseline '" + path + "': " + std::strerror(errno));
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty() && line[0] == '{') last = line;
  std::map<std::string, double> base;
  std::map<std::string, std::string> base_texts;
  if (last.empty() || !ParseFlatJson(last, &base, &base_texts))
    throw BenchError("baseline '" + path + "' holds no JSON line of a bench run (save the last line of a --json run)");
  std::map<std::string, double> current;
  std::map<std::string, std::string> current_texts;
  std::string joined = "{";
  for (const auto& [key, value] : now.members()) joined += (joined.size() > 1 ? ", \"" : "\"") + key + "\": " + value;
  ParseFlatJson(joined + "}", &current, &current_texts);
  if (base_texts["bench"] != current_texts["bench"])
    throw BenchError("baseline '" + path + "' is a '" + base_texts["bench"] + "' run, this is a '" +
                     current_texts["bench"] + "' run");
  // bench lookup and bench sql measure after a simulated restart or on the
  // page cache as the load left it; baselines from before the field were
  // the latter.
  if (current_texts.count("page_cache") != 0) {
    const std::string base_method = base_texts.count("page_cache") ? base_texts["page_cache"] : "as-written";
    if (base_method != current_texts["page_cache"])
      throw BenchError("baseline '" + path + "' was measured with the page cache " + base_method + ", this run " +
                       current_texts["page_cache"] + ": compare runs of the same method (--as-written)");
  }
  if (base["records"] != current["records"])
    throw BenchError("baseline '" + path + "' is for " + std::to_string(uint64_t(base["records"])) +
                     " records, this run for " + std::to_string(uint64_t(current["records"])) +
                     ": compare runs of the same size");
  std::printf("\nagainst the baseline %s (worse by more than %.0f%% is flagged):\n", path.c_str(), tolerance * 100);
  int worse = 0;
  for (const auto& [key, value] : current) {
    const Better better = DirectionOf(key);
    auto b = base.find(key);
    if (better == Better::kUnknown || b == base.end() || b->second == 0) continue;
    const double change = (value - b->second) / b->second;
    const bool regressed = better == Better::kHigher ? change < -tolerance : change > tolerance;
    worse += regressed ? 1 : 0;
    std::printf("  %-36s %14.6g -> %-14.6g %+6.1f%%%s\n", key.c_str(), b->second, value, change * 100,
                regressed ? "  WORSE" : "");
  }
  if (worse > 0)
    std::printf("%d figure%s regressed\n", worse, worse == 1 ? "" : "s");
  else
    std::printf("no figure regressed\n");
  return worse;
}

}  // namespace zcmedia::bench
