// The scanner (scanner.h): a walker on the calling thread compares each
// folder with the store's records of it; audio files to (re)read go to a
// pool of TagLib readers; everything to write goes to one writer thread that
// fills WriteBatches and appends them to a store transaction committed about
// once a second. Three kinds of thread, two bounded queues of chunks:
//
//   walker --(audio files)--> readers --+
//      |                                +--> writer --> Transaction::Write, Commit
//      +--(other files, removals)-------+
#include "scanner.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <variant>

#include "media_types.h"
#include "playlist_files.h"
#include "scan_paths.h"
#include "tag_reader.h"
#include "work_queue.h"

namespace zcmedia::scan {

const char* ScanProblemKindName(ScanProblem::Kind kind) {
  switch (kind) {
    case ScanProblem::Kind::kUnavailableRoot: return "unavailable folder";
    case ScanProblem::Kind::kUnreadableFolder: return "unreadable folder";
    case ScanProblem::Kind::kUnreadableFile: return "unreadable file";
    case ScanProblem::Kind::kUnreadableTags: return "unreadable tags";
    case ScanProblem::Kind::kSymlinkLoop: return "symlink loop";
    case ScanProblem::Kind::kPlaylist: return "playlist";
    case ScanProblem::Kind::kLibraryLocked: return "library locked";
  }
  return "problem";
}

ScanReport& ScanReport::operator+=(const ScanReport& r) {
  folders += r.folders;
  media_files += r.media_files;
  unchanged += r.unchanged;
  added += r.added;
  updated += r.updated;
  removed += r.removed;
  tags_read += r.tags_read;
  problems += r.problems;
  unavailable_roots += r.unavailable_roots;
  playlists_imported += r.playlists_imported;
  batches += r.batches;
  commits += r.commits;
  seconds += r.seconds;
  database_seconds += r.database_seconds;
  database_cpu_seconds += r.database_cpu_seconds;
  tag_seconds += r.tag_seconds;
  return *this;
}

namespace {

using Clock = std::chrono::steady_clock;

// How long a scan's writes collect in one store transaction before it
// commits (see Pipeline::WriteLoop).
constexpr auto kCommitInterval = std::chrono::seconds(1);

// Work moves between the scan's threads in chunks of this many files, and
// each queue holds this many chunks (bounding what a fast walker buffers).
constexpr size_t kChunkItems = 64;
constexpr size_t kQueuedChunks = 16;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Absolute, lexically normal, no trailing '/' (except "/" itself). Symlinks
// are not resolved: the stored paths keep the folder names the user gave.
std::string NormaliseRoot(const std::string& root) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(root, ec);
  if (ec) p = root;
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// Problems arrive from every thread; the callback sees them one at a time.
class ProblemSink {
 public:
  ProblemSink(const ScanOptions& options, std::atomic<uint64_t>* count) : options_(options), count_(count) {}
  void Report(ScanProblem::Kind kind, std::string path, std::string message) {
    count_->fetch_add(1, std::memory_order_relaxed);
    if (!options_.report_problem) return;
    std::lock_guard lock(mu_);
    options_.report_problem(ScanProblem{kind, std::move(path), std::move(message)});
  }

 private:
  const ScanOptions& options_;
  std::atomic<uint64_t>* count_;
  std::mutex mu_;
};

// One media file to add (id == 0) or to replace (its record's id, kept).
struct FileToStore {
  int64_t id = 0;
  std::string path;
  std::string mime_type;
  int64_t size = 0;
  int64_t modified = 0;
  int64_t created_at = 0;
  bool audio = false;
  AudioTags tags;
};
using Write = std::variant<FileToStore, int64_t /* id of a record to remove */>;

// The readers and the writer. Producers (the walker) call Add/Remove and
// then Finish; Finish returns the first error the store gave, if any.
class Pipeline {
 public:
  Pipeline(zcmedia::Store* store, const ScanOptions& options, ProblemSink* problems)
      : store_(store), problems_(problems), to_read_(kQueuedChunks), to_write_(2 * kQueuedChunks),
        batch_records_(std::max<size_t>(store->recommended_batch_records(), 64)),
        now_(static_cast<int64_t>(std::time(nullptr))) {
    int readers = options.reader_threads;
    if (readers <= 0) readers = std::max(1u, std::thread::hardware_concurrency());
    // Named for top -H, perf and gdb: "zc-scan-read", "zc-scan-write".
    for (int i = 0; i < readers; ++i) {
      readers_.emplace_back([this] {
        pthread_setname_np(pthread_self(), "zc-scan-read");
        ReadLoop();
      });
    }
    writer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "zc-scan-write");
      WriteLoop();
    });
  }
  ~Pipeline() { Finish(); }

  bool failed() const { return failed_.load(std::memory_order_relaxed); }

  // Files and removals are handed on in chunks of kChunkItems: one queue
  // operation (and at most one wake-up) per chunk rather than per file,
  // which on a small machine cost a fifth of a first scan's CPU.
  void Add(FileToStore file) {
    if (file.audio) {
      chunk_to_read_.push_back(std::move(file));
      if (chunk_to_read_.size() >= kChunkItems) to_read_.Push(std::exchange(chunk_to_read_, {}));
    } else {
      AddWrite(Write(std::move(file)));
    }
  }
  void Remove(int64_t id) { AddWrite(Write(id)); }

  Status Finish() {
    if (!finished_) {
      finished_ = true;
      if (!chunk_to_read_.empty()) to_read_.Push(std::exchange(chunk_to_read_, {}));
      if (!chunk_to_write_.empty()) to_write_.Push(std::exchange(chunk_to_write_, {}));
      to_read_.Close();
      for (auto& t : readers_) t.join();
      to_write_.Close();
      writer_.join();
    }
    return status_;
  }

  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  void AddTo(ScanReport* report) const {
    report->added += added_;
    report->updated += updated_;
    report->removed += removed_;
    report->batches += batches_;
    report->commits += commits_;
    report->database_seconds += database_seconds_;
    report->database_cpu_seconds += database_cpu_seconds_;
    report->tags_read += tags_read_.load();
    report->tag_seconds += tag_nanos_.load() / 1e9;
  }

 private:
  void AddWrite(Write write) {
    chunk_to_write_.push_back(std::move(write));
    if (chunk_to_write_.size() >= kChunkItems) to_write_.Push(std::exchange(chunk_to_write_, {}));
  }

  void ReadLoop() {
    while (std::optional<std::vector<FileToStore>> chunk = to_read_.Pop()) {
      if (failed()) continue;  // drain: the writer has stopped
      std::vector<Write> done;
      done.reserve(chunk->size());
      for (FileToStore& file : *chunk) {
        auto start = Clock::now();
        Status s;
        try {
          s = ReadAudioTags(file.path, &file.tags);
        } catch (const std::exception& e) {  // TagLib out of memory on a hostile file: that file only
          file.tags = AudioTags{};
          s = Status::Corruption("reading the tags of " + file.path + " failed: " + e.what());
        }
        tag_nanos_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count(),
                             std::memory_order_relaxed);
        // TagLib 1.13 reads no raw ADTS .aac at all: such files are stored
        // without tags like the rest, but are not worth a problem line each.
        if (!s.ok() && file.mime_type != "audio/aac") {
          problems_->Report(ScanProblem::Kind::kUnreadableTags, file.path, s.message());
        }
        done.emplace_back(std::move(file));
      }
      tags_read_.fetch_add(chunk->size(), std::memory_order_relaxed);
      to_write_.Push(std::move(done));
    }
  }

  // Batches of recommended size are appended to a store transaction, which
  // commits (one set of syncs) once `kCommitInterval` has passed since it
  // began, and at the end: a commit per batch would cost a few syncs per
  // few thousand files, which is most of the database's share of a first
  // scan. Memory stays bounded (the transaction writes its batches and
  // index runs out as it goes); a crash loses at most the last interval's
  // files, which the next scan finds again.
  void WriteLoop() {
    WriteBatch batch;
    std::unique_ptr<Transaction> txn;
    Clock::time_point txn_start;
    uint64_t pending_added = 0, pending_updated = 0, pending_removed = 0;  // in batch or txn
    auto fail = [&](const Status& s) {
      status_ = s;
      failed_.store(true, std::memory_order_relaxed);
      if (txn) txn->Rollback();
      txn.reset();
    };
    auto commit = [&] {
      if (!txn || failed()) return;
      auto start = Clock::now();
      Status s = txn->Commit();
      database_seconds_ += SecondsSince(start);
      txn.reset();
      if (!s.ok()) return fail(s);
      ++commits_;
      added_ += pending_added;
      updated_ += pending_updated;
      removed_ += pending_removed;
      written_.fetch_add(pending_added + pending_updated + pending_removed, std::memory_order_relaxed);
      pending_added = pending_updated = pending_removed = 0;
    };
    auto flush = [&](bool last) {
      if (!batch.empty() && !failed()) {
        auto start = Clock::now();
        Status s;
        if (!txn) {
          s = store_->BeginTransaction(&txn);
          txn_start = start;
        }
        if (s.ok()) s = txn->Write(batch);
        database_seconds_ += SecondsSince(start);
        ++batches_;
        if (!s.ok()) fail(s);
        batch.Clear();
      }
      if (last || (txn && Clock::now() - txn_start >= kCommitInterval)) commit();
    };
    while (std::optional<std::vector<Write>> chunk = to_write_.Pop()) {
      for (Write& item : *chunk) {
        if (failed()) break;  // drain so that producers never block
        auto encode_start = Clock::now();
        if (const int64_t* id = std::get_if<int64_t>(&item)) {
          batch.Remove(*id);
          ++pending_removed;
        } else {
          const FileToStore& file = std::get<FileToStore>(item);
          MediaFileFields f;
          f.path = file.path;
          FillDerivedColumns(f);
          f.size = file.size;
          f.modified = file.modified;
          f.mime_type = file.mime_type;
          if (file.audio) ApplyAudioTags(file.tags, &f);
          f.created_at = file.id != 0 ? file.created_at : now_;
          f.updated_at = now_;
          if (file.id != 0) {
            batch.Update(file.id, f);
            ++pending_updated;
          } else {
            batch.Put(f);
            ++pending_added;
          }
        }
        database_seconds_ += SecondsSince(encode_start);  // encoding is the database's work too
        if (batch.size() >= batch_records_) flush(false);
      }
    }
    flush(true);
    // The writer thread does nothing but the database's work (and popping
    // its queue): its CPU time is the database's, without the time spent
    // waiting for a core that wall time includes on a busy machine.
    struct timespec cpu;
    if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0) {
      database_cpu_seconds_ = static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) / 1e9;
    }
  }

  zcmedia::Store* store_;
  ProblemSink* problems_;
  WorkQueue<std::vector<FileToStore>> to_read_;
  WorkQueue<std::vector<Write>> to_write_;
  // The walker's chunks being filled (walker thread only).
  std::vector<FileToStore> chunk_to_read_;
  std::vector<Write> chunk_to_write_;
  const size_t batch_records_;
  const int64_t now_;
  std::vector<std::thread> readers_;
  std::thread writer_;
  bool finished_ = false;
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> tags_read_{0};
  std::atomic<uint64_t> tag_nanos_{0};
  // Written by the writer thread only; read after it is joined.
  Status status_;
  uint64_t added_ = 0, updated_ = 0, removed_ = 0, batches_ = 0, commits_ = 0;
  double database_seconds_ = 0;
  double database_cpu_seconds_ = 0;
};

struct DevIno {
  dev_t dev;
  ino_t ino;
  bool operator==(const DevIno&) const = default;
};

// One entry of a folder listing.
struct DiskEntry {
  std::string name;
  enum class Type { kFile, kFolder, kOther } type = Type::kOther;
  bool stat_known = false;
  struct stat st {};
};

// The folder walk: compares each folder with the store's records of it and
// hands the differences to the pipeline. Single-threaded (the caller's).
class Walker {
 public:
  Walker(const Snapshot& snapshot, Pipeline* pipeline, ProblemSink* problems, const ScanOptions& options,
         ScanReport* report, std::vector<std::pair<std::string, int64_t>>* playlists)
      : snapshot_(snapshot), pipeline_(pipeline), problems_(problems), options_(options), report_(report),
        playlists_(playlists), started_(Clock::now()), last_progress_(started_) {}

  void ScanRoot(const std::string& root) {
    if (!CheckRoot(root)) return;
    std::vector<DevIno> ancestors;
    ScanFolder(root, /*recursive=*/true, /*is_root=*/true, &ancestors);
  }

  // A root that is missing or not a folder is reported (its records kept).
  bool CheckRoot(const std::string& root) {
    struct stat st;
    if (::stat(root.c_str(), &st) != 0) {
      UnavailableRoot(root, std::string("cannot be reached: ") + std::strerror(errno));
      return false;
    }
    if (!S_ISDIR(st.st_mode)) {
      UnavailableRoot(root, "is not a folder: give the folder that holds the media files");
      return false;
    }
    return true;
  }

  // The folders a ScanFolders run names (sorted), so that a new folder is
  // not scanned both as new below its parent and as named.
  void SetNamedFolders(std::vector<std::string> named) { named_ = std::move(named); }

  // A folder `watch` names: on its own, or recursively. A folder that is
  // gone is left to its parent's scan (which sees it missing).
  void ScanNamedFolder(const std::string& folder, bool recursive, bool root) {
    if (root && !CheckRoot(folder)) return;
    std::vector<DevIno> ancestors;
    ScanFolder(folder, recursive, root, &ancestors);
  }

  void MaybeProgress(bool force = false) {
    if (!options_.progress) return;
    auto now = Clock::now();
    if (!force && now - last_progress_ < std::chrono::milliseconds(options_.progress_interval_ms)) return;
    last_progress_ = now;
    options_.progress(ScanProgress{report_->folders, report_->media_files, pipeline_->written(),
                                   expected_files_, SecondsSince(started_)});
  }

  // What the library holds below `roots` now: the ETA's total.
  void ExpectFilesBelow(const std::vector<std::string>& roots) {
    for (const std::string& root : roots) expected_files_ += FilesBelow(root);
  }

 private:
  uint64_t FilesBelow(const std::string& folder) const {
    DirectoryInfo info;
    if (!snapshot_.GetDirectory(folder, &info).ok()) return 0;
    return info.total_files();
  }

  void UnavailableRoot(const std::string& root, const std::string& what) {
    ++report_->unavailable_roots;
    uint64_t kept = FilesBelow(root);
    std::string message = root + " " + what;
    if (kept > 0) message += "; its " + std::to_string(kept) + " files in the library are kept";
    problems_->Report(ScanProblem::Kind::kUnavailableRoot, root, std::move(message));
  }

  // Lists `folder` into *entries (names sorted) and pushes it on
  // *ancestors. When it cannot be opened (or is a loop): false, *dir_fd -1
  // and *ancestors unchanged. When it was opened but not read to its end:
  // false with *dir_fd open; the caller must then remove nothing.
  bool ListFolder(const std::string& folder, bool is_root, std::vector<DevIno>* ancestors,
                  std::vector<DiskEntry>* entries, int* dir_fd) {
    int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (is_root) {
        UnavailableRoot(folder, std::string("cannot be opened: ") + std::strerror(err));
      } else if (err != ENOENT) {
        problems_->Report(ScanProblem::Kind::kUnreadableFolder, folder,
                          folder + ": " + std::strerror(err) + "; the files of it in the library are kept");
      }
      return false;
    }
    struct stat st;
    if (::fstat(fd, &st) == 0) {
      DevIno self{st.st_dev, st.st_ino};
      if (std::find(ancestors->begin(), ancestors->end(), self) != ancestors->end()) {
        ::close(fd);
        problems_->Report(ScanProblem::Kind::kSymlinkLoop, folder,
                          folder + " leads back into a folder that contains it (a symlink loop): not followed");
        return false;
      }
      ancestors->push_back(self);
    } else {
      ancestors->push_back(DevIno{0, 0});  // keeps the push/pop pairing
    }
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      int err = errno;
      ::close(fd);
      ancestors->pop_back();
      problems_->Report(ScanProblem::Kind::kUnreadableFolder, folder, folder + ": " + std::strerror(err));
      return false;
    }
    bool complete = true;
    for (;;) {
      errno = 0;
      struct dirent* e = ::readdir(dir);
      if (e == nullptr) {
        if (errno != 0) {
          complete = false;
          problems_->Report(ScanProblem::Kind::kUnreadableFolder, folder,
                            folder + ": listing failed: " + std::strerror(errno) +
                                "; the files of it in the library are kept");
        }
        break;
      }
      // Hidden entries ("." and "..", dot files, .AppleDouble and the
      // like) are not media.
      if (e->d_name[0] == '.') continue;
      DiskEntry entry;
      entry.name = e->d_name;
      if (e->d_type == DT_REG) {
        entry.type = DiskEntry::Type::kFile;
      } else if (e->d_type == DT_DIR) {
        entry.type = DiskEntry::Type::kFolder;
      } else if (e->d_type == DT_LNK || e->d_type == DT_UNKNOWN) {
        // Follow the link (or find out the type): one stat.
        if (::fstatat(::dirfd(dir), e->d_name, &entry.st, 0) == 0) {
          entry.stat_known = true;
          if (S_ISREG(entry.st.st_mode)) entry.type = DiskEntry::Type::kFile;
          if (S_ISDIR(entry.st.st_mode)) entry.type = DiskEntry::Type::kFolder;
        } else if (MimeTypeForFilename(entry.name)) {
          problems_->Report(ScanProblem::Kind::kUnreadableFile, JoinPath(folder, entry.name),
                            JoinPath(folder, entry.name) + ": " + std::strerror(errno) + " (a dangling link?)");
        }
      }
      if (entry.type != DiskEntry::Type::kOther) entries->push_back(std::move(entry));
    }
    std::sort(entries->begin(), entries->end(),
              [](const DiskEntry& a, const DiskEntry& b) { return a.name < b.name; });
    *dir_fd = ::dup(::dirfd(dir));
    ::closedir(dir);
    return complete;
  }

  void ScanFolder(const std::string& folder, bool recursive, bool is_root, std::vector<DevIno>* ancestors) {
    if (pipeline_->failed()) return;
    size_t depth = ancestors->size();
    std::vector<DiskEntry> entries;
    int fd = -1;
    bool complete = ListFolder(folder, is_root, ancestors, &entries, &fd);
    if (ancestors->size() == depth) return;  // not opened at all: nothing is touched
    ++report_->folders;

    if (is_root && complete && entries.empty() && !options_.allow_empty_roots && FilesBelow(folder) > 0) {
      if (fd >= 0) ::close(fd);
      UnavailableRoot(folder, "is empty (an unmounted disk?); pass --allow-empty-roots to remove them");
      ancestors->resize(depth);
      return;
    }

    CompareFiles(folder, entries, fd, complete);
    if (fd >= 0) ::close(fd);
    CompareFolders(folder, entries, complete, recursive, ancestors);
    ancestors->resize(depth);
    MaybeProgress();
  }

  // The files of `folder` on disk against the store's records of it.
  void CompareFiles(const std::string& folder, std::vector<DiskEntry>& entries, int fd, bool complete) {
    records_.clear();
    Status s = snapshot_.ListDirectory(folder, &records_);
    if (!s.ok()) {
      problems_->Report(ScanProblem::Kind::kUnreadableFolder, folder,
                        "reading the library's records of " + folder + ": " + s.ToString());
      complete = false;  // cannot tell what is gone
      records_.clear();
    }
    // A record's name within the folder: its path after "folder/".
    std::string prefix = folder == "/" ? "/" : folder + "/";
    keyed_.clear();
    for (const MediaFileView& r : records_) {
      std::string_view path = r.path();
      std::string_view key = path.compare(0, prefix.size(), prefix) == 0 ? path.substr(prefix.size())
                                                                         : DeriveFilename(path);
      keyed_.emplace_back(key, r);
    }
    std::sort(keyed_.begin(), keyed_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

    size_t ri = 0;
    for (DiskEntry& e : entries) {
      if (e.type != DiskEntry::Type::kFile) continue;
      while (ri < keyed_.size() && keyed_[ri].first < e.name) {
        if (complete) Remove(keyed_[ri].second);
        ++ri;
      }
      const MediaFileView* record = nullptr;
      if (ri < keyed_.size() && keyed_[ri].first == e.name) record = &keyed_[ri++].second;
      std::optional<std::string_view> mime = MimeTypeForFilename(e.name);
      if (!mime) {
        if (auto pl = PlaylistFormatForFilename(e.name); pl && options_.import_playlists) {
          if (Stat(folder, fd, e)) playlists_->emplace_back(JoinPath(folder, e.name), e.st.st_mtim.tv_sec);
        }
        if (record == nullptr) continue;  // not media, not in the library
        mime = record->mime_type();       // in the library (a migration): keep its type
      }
      ++report_->media_files;
      if (!Stat(folder, fd, e)) continue;  // reported; the record stays
      int64_t size = e.st.st_size;
      int64_t modified = e.st.st_mtim.tv_sec;
      if (record != nullptr && record->size() == size && record->modified() == modified) {
        ++report_->unchanged;
        continue;
      }
      FileToStore file;
      file.path = JoinPath(folder, e.name);
      file.mime_type = std::string(mime.value_or(""));
      file.size = size;
      file.modified = modified;
      file.audio = MimeFamilyOf(file.mime_type) == MimeFamily::kAudio;
      if (record != nullptr) {
        file.id = record->id();
        file.created_at = record->created_at();
      }
      pipeline_->Add(std::move(file));
    }
    for (; ri < keyed_.size(); ++ri) {
      if (complete) Remove(keyed_[ri].second);
    }
  }

  // The subfolders of `folder` on disk against the store's; scans them.
  void CompareFolders(const std::string& folder, const std::vector<DiskEntry>& entries, bool complete,
                      bool recursive, std::vector<DevIno>* ancestors) {
    std::vector<std::string> disk;
    for (const DiskEntry& e : entries) {
      if (e.type == DiskEntry::Type::kFolder) disk.push_back(e.name);
    }
    std::vector<DirectoryInfo> stored;
    if (!snapshot_.ListSubdirectories(folder, std::nullopt, &stored).ok()) stored.clear();
    std::vector<std::string> known;  // copied: the recursion below reuses members
    for (const DirectoryInfo& d : stored) known.emplace_back(d.name);
    std::sort(known.begin(), known.end());
    if (complete) {
      for (const std::string& name : known) {
        if (!std::binary_search(disk.begin(), disk.end(), name)) RemoveTree(JoinPath(folder, name));
      }
    }
    for (const std::string& name : disk) {
      if (pipeline_->failed()) return;
      bool is_new = !std::binary_search(known.begin(), known.end(), name);
      std::string path = JoinPath(folder, name);
      // A new folder that the run names itself is scanned there, once.
      if (!recursive && is_new && std::binary_search(named_.begin(), named_.end(), path)) continue;
      if (recursive || is_new) ScanFolder(path, /*recursive=*/true, false, ancestors);
    }
  }

  bool Stat(const std::string& folder, int fd, DiskEntry& e) {
    if (e.stat_known) return true;
    if (::fstatat(fd, e.name.c_str(), &e.st, 0) != 0) {
      std::string path = JoinPath(folder, e.name);
      problems_->Report(ScanProblem::Kind::kUnreadableFile, path,
                        path + ": " + std::strerror(errno) + "; skipped (its record, if any, is kept)");
      return false;
    }
    e.stat_known = true;
    return true;
  }

  void Remove(const MediaFileView& record) { pipeline_->Remove(record.id()); }

  // Every record at any depth below `folder` (a folder that is gone).
  void RemoveTree(const std::string& folder) {
    std::vector<MediaFileView> files;
    if (snapshot_.ListDirectory(folder, &files).ok()) {
      for (const MediaFileView& r : files) Remove(r);
    }
    std::vector<DirectoryInfo> subfolders;
    if (!snapshot_.ListSubdirectories(folder, std::nullopt, &subfolders).ok()) return;
    for (const DirectoryInfo& d : subfolders) RemoveTree(folder + std::string(d.tail));
  }

  const Snapshot& snapshot_;
  Pipeline* pipeline_;
  ProblemSink* problems_;
  const ScanOptions& options_;
  ScanReport* report_;
  std::vector<std::pair<std::string, int64_t>>* playlists_;
  Clock::time_point started_, last_progress_;
  // Reused per folder (CompareFiles is not re-entered).
  std::vector<MediaFileView> records_;
  std::vector<std::pair<std::string_view, MediaFileView>> keyed_;
  std::vector<std::string> named_;
  uint64_t expected_files_ = 0;
};

// Imports one playlist file found by the walk (playlist_files.h has the
// policy: an unchanged file writes nothing, a user's playlist of the same
// name is left alone). Its problems are reported; the scan goes on.
void ImportFoundPlaylist(Store* store, const std::string& path, int64_t mtime, ProblemSink* problems,
                         ScanReport* report) {
  std::optional<PlaylistFormat> format = PlaylistFormatForFilename(path);
  if (!format) return;
  // Decided without reading the file where possible: a rescan of an
  // unchanged library reads no file content.
  ImportNeed need = ImportNeed::kImport;
  Status s = CheckImport(*store->GetSnapshot(), path, mtime, &need);
  if (s.ok() && need == ImportNeed::kCurrent) return;
  if (s.ok() && need == ImportNeed::kNameTaken) {
    problems->Report(ScanProblem::Kind::kPlaylist, path,
                     path + ": a playlist of that name exists that was not imported from this file; left alone "
                            "(rename one of them)");
    return;
  }
  ParsedPlaylist parsed;
  if (s.ok()) s = ParsePlaylistFile(path, *format, &parsed);
  ImportResult result;
  if (s.ok()) s = ImportPlaylist(store, parsed, path, mtime, &result);
  if (!s.ok()) {
    problems->Report(ScanProblem::Kind::kPlaylist, path, s.message());
    return;
  }
  if (result.created || result.replaced) ++report->playlists_imported;
  if (result.name_taken) {
    problems->Report(ScanProblem::Kind::kPlaylist, path,
                     path + ": a playlist named '" + parsed.name +
                         "' exists that was not imported from this file; left alone (rename one of them)");
  } else if ((result.created || result.replaced) && result.missing > 0) {
    std::string message = path + ": " + std::to_string(result.missing) + " of its entries are not in the library";
    if (!result.missing_paths.empty()) message += " (first: " + result.missing_paths.front() + ")";
    problems->Report(ScanProblem::Kind::kPlaylist, path, std::move(message));
  }
}

// Runs `walk` with a pipeline and everything around it.
template <typename WalkFn>
Status RunScan(Store* store, const ScanOptions& options, ScanReport* report, WalkFn walk) {
  auto started = Clock::now();
  std::atomic<uint64_t> problem_count{0};
  ProblemSink problems(options, &problem_count);
  std::shared_ptr<const Snapshot> snapshot = store->GetSnapshot();
  std::vector<std::pair<std::string, int64_t>> playlists;
  Status status;
  {
    Pipeline pipeline(store, options, &problems);
    Walker walker(*snapshot, &pipeline, &problems, options, report, &playlists);
    walk(walker);
    status = pipeline.Finish();
    pipeline.AddTo(report);
    walker.MaybeProgress(/*force=*/true);
  }
  // Playlists after the media files they name are committed.
  if (status.ok()) {
    for (const auto& [path, mtime] : playlists) ImportFoundPlaylist(store, path, mtime, &problems, report);
  }
  report->problems += problem_count.load();
  report->seconds += SecondsSince(started);
  return status;
}

}  // namespace

std::vector<std::string> NormaliseRoots(const std::vector<std::string>& given) {
  std::vector<std::string> roots;
  for (const std::string& r : given) roots.push_back(NormaliseRoot(r));
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
  // A root inside another root is scanned with it.
  std::vector<std::string> outer;
  for (const std::string& r : roots) {
    bool inside = std::any_of(outer.begin(), outer.end(), [&](const std::string& o) { return IsInside(r, o); });
    if (!inside) outer.push_back(r);
  }
  return outer;
}

Status Scan(Store* store, const ScanOptions& options, ScanReport* report) {
  std::vector<std::string> outer = NormaliseRoots(options.roots);
  return RunScan(store, options, report, [&](Walker& walker) {
    walker.ExpectFilesBelow(outer);
    for (const std::string& root : outer) walker.ScanRoot(root);
  });
}

Status ScanFolders(Store* store, const std::vector<FolderToScan>& folders, const ScanOptions& options,
                   ScanReport* report) {
  // Each folder once: a folder inside one scanned recursively is covered by
  // it, and a folder named twice is scanned recursively if either says so.
  std::map<std::string, FolderToScan> unique;
  for (const FolderToScan& f : folders) {
    FolderToScan& u = unique[f.path];
    u.path = f.path;
    u.recursive = u.recursive || f.recursive;
    u.root = u.root || f.root;
  }
  std::vector<FolderToScan> run;
  std::vector<std::string> recursive_roots;
  for (const auto& [path, folder] : unique) {  // parents sort before their subfolders
    bool covered = std::any_of(recursive_roots.begin(), recursive_roots.end(),
                               [&](const std::string& r) { return IsInside(path, r); });
    if (covered) continue;
    run.push_back(folder);
    if (folder.recursive) recursive_roots.push_back(path);
  }
  std::vector<std::string> named;
  for (const FolderToScan& f : run) named.push_back(f.path);
  return RunScan(store, options, report, [&](Walker& walker) {
    walker.SetNamedFolders(std::move(named));
    for (const FolderToScan& f : run) walker.ScanNamedFolder(f.path, f.recursive, f.root);
  });
}

}  // namespace zcmedia::scan
