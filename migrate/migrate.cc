// The migration, phase by phase (docs/migration.md):
//
//   open     NEW.db (staged) as `main`, the legacy file ATTACHed read-only as
//            `legacy`, one transaction: every legacy read below is one snapshot
//   check    the shape (legacy_layout.h); PRAGMA quick_check starts on a
//            connection of its own, an idle-only thread during the load
//   load     media_files, playlists, playlist_entries streamed into the store
//            (StoreLoader: SQLite reads on this thread, the store commits on
//            another), each accepted row's checksum taken on the way; rows
//            the store cannot hold are refused or set aside; then the
//            store's index merge starts on a thread of its own
//   copy     every other table, its indexes, triggers and views; the three
//            virtual tables; zcmedia_migration
//   verify   the new tables read through the extension, checksummed, against
//            the legacy checksums (still inside the legacy snapshot, so that
//            a difference is pinned to rows: VerifyFailure)
//   publish  COMMIT, then OutputFiles::Publish (sync, atomic rename into place)
#include "zcmedia/migrate.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <limits>
#include <thread>
#include <map>
#include <optional>

#include "legacy_layout.h"
#include "output_files.h"
#include "row_checksum.h"
#include "sqlite_util.h"
#include "store_loader.h"
#include "zcmedia/sqlite_extension.h"
#include "zcmedia/store.h"

namespace zcmedia::migrate {

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kCheck: return "check";
    case Phase::kMediaFiles: return "media_files";
    case Phase::kPlaylists: return "playlists";
    case Phase::kOtherTables: return "other tables";
    case Phase::kIndexes: return "indexes";
    case Phase::kVerify: return "verify";
    case Phase::kFinish: return "finish";
  }
  return "?";
}

namespace {

constexpr size_t kReportedRejections = 100;
constexpr uint64_t kProgressEvery = 16384;
const char* const kMediaTables[] = {"media_files", "playlists", "playlist_entries"};

bool IsMediaTable(const std::string& name) {
  return std::any_of(std::begin(kMediaTables), std::end(kMediaTables),
                     [&](const char* t) { return sqlite3_stricmp(t, name.c_str()) == 0; });
}

// An error with the exit code of its kind.
struct Failure {
  Status status;
  int exit_code;
};

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

uint64_t TreeSize(const std::string& path) {
  std::error_code ec;
  uint64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

// What the legacy file looked like on disk before the read: a quiescent
// file (no -wal, no -shm, no -journal) is read `immutable` (SQLite would
// otherwise create sidecars next to it), and must be the same file,
// unchanged, after. A -journal means a writer in the middle of a
// transaction (or one that crashed in it): the file is read with locks, so
// that the read waits for it or fails as locked.
struct LegacyFileState {
  bool exists = false;
  bool has_sidecars = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  struct timespec mtime = {};

  static LegacyFileState Of(const std::string& path) {
    LegacyFileState state;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return state;
    state.exists = true;
    state.dev = st.st_dev;
    state.ino = st.st_ino;
    state.size = st.st_size;
    state.mtime = st.st_mtim;
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
      state.has_sidecars = state.has_sidecars || ::access((path + suffix).c_str(), F_OK) == 0;
    }
    return state;
  }
  bool SameFile(const LegacyFileState& o) const {
    return exists && o.exists && dev == o.dev && ino == o.ino && size == o.size &&
           mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

// A URI for sqlite3_open_v2 / ATTACH naming `path` (percent-escaped).
std::string FileUri(const std::string& path, const char* query) {
  std::string uri = "file:";
  const std::string absolute = std::filesystem::absolute(path).string();
  for (unsigned char c : absolute) {
    if (c == '%' || c == '?' || c == '#' || c < 0x20 || c >= 0x7f) {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", c);
      uri += escaped;
    } else {
      uri += static_cast<char>(c);
    }
  }
  return uri + "?" + query;
}

// Checksums every row of `sql` (on this connection) into *out.
Status ChecksumQuery(sqlite3* db, const std::string& sql, RowChecksum* out) {
  Statement rows;
  rows.Prepare(db, sql);
  RowHasher hasher;
  while (rows.Next()) {
    hasher.Row(rows.get());
    out->Add(hasher.Finish());
  }
  if (rows.rc() != SQLITE_DONE) return Status::IOError(sql + ": " + sqlite3_errmsg(db));
  return Status::OK();
}

// The first of the row's five columns whose storage class is not the one
// its legacy declaration holds ("name is NULL", "position holds a value of
// the wrong type 'x'"), or "". Only `nullable_column` (-1: none) may be NULL.
std::string WrongColumn(const Statement& rows, const char* const (&names)[5], const int (&types)[5],
                        int nullable_column) {
  for (int c = 0; c < 5; ++c) {
    const int actual = sqlite3_column_type(rows.get(), c);
    if (actual == types[c] || (c == nullable_column && actual == SQLITE_NULL)) continue;
    return std::string(names[c]) +
           (actual == SQLITE_NULL ? " is NULL" : " holds a value of the wrong type '" + rows.Text(c) + "'");
  }
  return "";
}

// "id, path, ..., updated_at": the 19 columns of the new media_files.
std::string LegacyColumnList() {
  std::string columns;
  for (const char* name : kLegacyColumnNames) columns += std::string(columns.empty() ? "" : ", ") + name;
  return columns;
}

struct QuickCheckResult {
  int rc = SQLITE_OK;    // of opening or running it
  std::string message;   // SQLite's, when rc is not OK
  std::string problems;  // what quick_check found ("" when "ok")
};

// The CPU priority of one thread: lowered to SCHED_IDLE (it runs only on a
// core nothing else wants) by the thread itself, restored to SCHED_OTHER
// from another one. Linux only; best effort (the way back may need
// CAP_SYS_NICE or RLIMIT_NICE, without which the thread stays idle-only:
// slower, not wrong).
class ThreadPriority {
 public:
  void LowerThisThread() {
    tid_.store(static_cast<int>(::syscall(SYS_gettid)));
    sched_param param{};
    ::sched_setscheduler(0, SCHED_IDLE, &param);  // 0: the calling thread
  }
  void Restore() {
    const int tid = tid_.load();
    sched_param param{};
    if (tid > 0) ::sched_setscheduler(tid, SCHED_OTHER, &param);
  }

 private:
  std::atomic<int> tid_{0};
};

// PRAGMA quick_check of the legacy file on a connection of its own.
QuickCheckResult QuickCheck(const std::string& uri, ThreadPriority* priority) {
  priority->LowerThisThread();
  QuickCheckResult result;
  sqlite3* db = nullptr;
  result.rc = sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
  if (result.rc == SQLITE_OK) {
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 2000);
    sqlite3_exec(db, "PRAGMA mmap_size=1073741824", nullptr, nullptr, nullptr);
    Statement check;
    check.Prepare(db, "PRAGMA quick_check(5)");
    while (check.Next()) {
      std::string line = check.Text(0);
      if (line != "ok") result.problems += (result.problems.empty() ? "" : "; ") + line;
    }
    result.rc = check.rc() == SQLITE_DONE ? SQLITE_OK : check.rc();
  }
  if (result.rc != SQLITE_OK) result.message = db ? sqlite3_errmsg(db) : "out of memory";
  sqlite3_close_v2(db);
  return result;
}

class Migrator {
 public:
  Migrator(const MigrateOptions& options, MigrateReport* report) : options_(options), report_(*report) {}
  ~Migrator() {
    loader_.reset();
    if (compact_indexes_.valid()) compact_indexes_.wait();  // before the store goes
    store_.reset();
    if (db_ != nullptr) sqlite3_close_v2(db_);
  }

  MigrateResult Run() {
    const auto start = std::chrono::steady_clock::now();
    std::optional<Failure> failure = Migrate();
    if (!report_.phase_seconds.empty()) EnterPhase(phase_);  // closes the last phase's time
    report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (failure) return {failure->status, failure->exit_code};
    return {Status::OK(), kExitOk};
  }

 private:
  std::optional<Failure> Migrate();
  std::optional<Failure> OpenConnection();
  std::optional<Failure> CheckLegacy();
  std::optional<Failure> LoadMediaFiles();
  std::optional<Failure> LoadPlaylists();
  std::optional<Failure> FinishLoad();
  std::optional<Failure> FinishIndexes();
  std::optional<Failure> CopyOtherTables();
  std::optional<Failure> CreateVirtualTables();
  std::optional<Failure> Verify();
  // The failure of a verification whose checksums differ for `table`,
  // naming the first differing rows (a second, id-ordered walk of both
  // sides; the legacy snapshot is still open).
  Failure VerifyFailure(const std::string& table, const RowChecksum& migrated, const RowChecksum& legacy);
  std::optional<Failure> RecordSchemaVersion();
  std::optional<Failure> RefuseRejectedRows();
  std::optional<Failure> ExplainStoreRefusal(const Status& status);
  // The loader's SubmitIfFull, a refusal explained.
  std::optional<Failure> SubmitIfFull() {
    Status status = loader_->SubmitIfFull();
    return status.ok() ? std::nullopt : ExplainStoreRefusal(status);
  }
  Status FindDuplicatePaths();
  Status Reject(const char* table, int64_t id, std::string reason);

  // A legacy read failed with `rc`: the error, classified. `sqlite_says`
  // defaults to the connection's message.
  Failure LegacyFailure(int rc, const std::string& doing, std::string sqlite_says = "") const;
  // A write to the new database failed: a full disk or an I/O error is an
  // output problem (kExitOutput), anything else an error.
  static int WriteExitCode(int rc) {
    return (rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN
               ? kExitOutput
               : kExitError;
  }
  Failure SqlFailure(const std::string& doing) const {
    return {Status::IOError(doing + ": " + sqlite3_errmsg(db_)), WriteExitCode(sqlite3_extended_errcode(db_))};
  }
  std::optional<Failure> Exec(const std::string& sql, const std::string& doing) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
      Failure f{Status::IOError(doing + ": " + (message ? message : "unknown error")), WriteExitCode(rc)};
      sqlite3_free(message);
      return f;
    }
    return std::nullopt;
  }
  void ReportProgress(Phase phase, uint64_t done, uint64_t total) {
    if (phase != phase_ || report_.phase_seconds.empty()) EnterPhase(phase);
    if (options_.progress) options_.progress(Progress{phase, done, total});
  }
  void EnterPhase(Phase phase) {
    const auto now = std::chrono::steady_clock::now();
    if (!report_.phase_seconds.empty()) {
      report_.phase_seconds.back().second = std::chrono::duration<double>(now - phase_start_).count();
    }
    if (phase_ != phase || report_.phase_seconds.empty()) report_.phase_seconds.emplace_back(PhaseName(phase), 0.0);
    phase_ = phase;
    phase_start_ = now;
  }
  bool writing() const { return !options_.dry_run; }

  const MigrateOptions& options_;
  MigrateReport& report_;
  std::string legacy_uri_;
  ThreadPriority quick_check_priority_;  // before quick_check_: outlives the thread
  std::future<QuickCheckResult> quick_check_;
  std::future<Status> compact_indexes_;  // Store::CompactIndexes on store_, after the load
  Phase phase_ = Phase::kCheck;
  std::chrono::steady_clock::time_point phase_start_;
  sqlite3* db_ = nullptr;
  LegacyFileState legacy_state_;
  std::unique_ptr<OutputFiles> files_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<StoreLoader> loader_;
  LegacyLayout layout_;
  std::vector<std::string> legacy_tables_;  // every table of the legacy file

  // Checksums of the accepted legacy rows, taken while loading.
  RowChecksum media_checksum_, playlist_checksum_, entry_checksum_;
  int64_t max_media_id_ = 0, max_playlist_id_ = 0, max_entry_id_ = 0;
  int64_t min_media_id_ = std::numeric_limits<int64_t>::max();

  // Ids refused or set aside, ascending (rows stream in id order).
  std::vector<int64_t> rejected_media_, rejected_playlists_, rejected_entries_;
  // Media-file ids with a path an earlier id has: id -> the earlier id.
  std::map<int64_t, int64_t> duplicate_of_;
  bool duplicates_known_ = false;
  std::map<std::string, std::unique_ptr<Statement>> set_aside_inserts_;
  std::unique_ptr<Statement> set_aside_reason_;
};

Failure Migrator::LegacyFailure(int rc, const std::string& doing, std::string sqlite_says) const {
  const std::string& legacy = options_.legacy_path;
  if (sqlite_says.empty()) sqlite_says = sqlite3_errmsg(db_);
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      return {Status::InvalidArgument(legacy + " is not a SQLite database (" + sqlite_says +
                                      "): give the legacy server's media.db"),
              kExitBadInput};
    case SQLITE_CORRUPT:
      return {Status::Corruption(legacy + " is corrupt or truncated (" + sqlite_says + ", while " + doing +
                                 "): nothing was migrated; restore it from a backup or recover it with "
                                 "`sqlite3 " + legacy + " .recover | sqlite3 recovered.db` and migrate that"),
              kExitBadInput};
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return {Status::Busy(legacy + " is locked by another process (" + sqlite_says + ", while " + doing +
                           "): stop the legacy server or wait for its write to finish, then run again"),
              kExitBadInput};
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      return {Status::IOError("cannot open " + legacy + " (" + sqlite_says +
                              "): check that it exists and that this user may read it"),
              kExitBadInput};
    case SQLITE_READONLY:
      if (rc == SQLITE_READONLY_ROLLBACK) {
        return {Status::Busy(legacy + " has a hot journal (" + legacy + "-journal) left by a write that was "
                             "interrupted: nothing was migrated; open it once with the sqlite3 shell as its owner "
                             "(which rolls the interrupted write back) or restore it from a backup, then run again"),
                kExitBadInput};
      }
      break;
    case SQLITE_IOERR:
      if (rc == SQLITE_IOERR_SHORT_READ) {
        return {Status::Corruption(legacy + " is truncated (" + sqlite_says + ", while " + doing +
                                   "): restore it from a backup"),
                kExitBadInput};
      }
      break;
    default:
      break;
  }
  return {Status::IOError("reading " + legacy + " failed while " + doing + ": " + sqlite_says), kExitError};
}

std::optional<Failure> Migrator::Migrate() {
  if (options_.legacy_path.empty() || (options_.output_path.empty() && !options_.dry_run)) {
    return Failure{Status::InvalidArgument("give the legacy database and the new database's path"), kExitUsage};
  }
  legacy_state_ = LegacyFileState::Of(options_.legacy_path);
  if (!legacy_state_.exists) {
    return Failure{Status::InvalidArgument("the legacy database " + options_.legacy_path +
                                           " does not exist: check the path"),
                   kExitBadInput};
  }
  report_.legacy_bytes = FileSize(options_.legacy_path) + FileSize(options_.legacy_path + "-wal");
  if (writing()) {
    std::error_code ec;
    if (std::filesystem::equivalent(options_.legacy_path, options_.output_path, ec)) {
      return Failure{Status::InvalidArgument(options_.output_path +
                                             " is the legacy database itself: give a new file name"),
                     kExitUsage};
    }
    Status status = OutputFiles::Prepare(options_.output_path, options_.force, &files_);
    if (!status.ok()) return Failure{status, kExitOutput};
    report_.store_path = files_->final_store();
  }

  if (auto f = OpenConnection()) return f;
  if (auto f = CheckLegacy()) return f;
  if (options_.quick_check) {
    // On a connection of its own, as an idle-only thread while the rows
    // load (both cores are busy then; it takes the time the reader waits
    // for the writer), at normal priority after. Its snapshot may be a
    // later one if a server writes meanwhile: it answers "is the file
    // sound", not "what is in it".
    quick_check_ = std::async(std::launch::async, QuickCheck, legacy_uri_, &quick_check_priority_);
  }
  if (writing()) {
    Options store_options;
    store_options.error_if_exists = true;
    // Staged: OutputFiles::Publish syncs every file once, at the end.
    store_options.sync = false;
    // Nothing looks paths up during the load: no cache to keep current.
    store_options.lookup_cache = false;
    if (options_.memory_budget != 0) store_options.memory_budget = options_.memory_budget;
    Status status = Store::Open(files_->staging_store(), store_options, &store_);
    if (!status.ok()) return Failure{status, kExitOutput};
    loader_ = std::make_unique<StoreLoader>(store_.get());
  }
  if (options_.set_aside || options_.dry_run) {
    // Duplicate paths are found before loading only when they are to be set
    // aside or listed; otherwise the store's UNIQUE check finds them for free.
    Status status = FindDuplicatePaths();
    if (!status.ok()) return LegacyFailure(sqlite3_errcode(db_), "looking for duplicate paths");
  }
  // A failed load is reported after quick_check's verdict: in a corrupt file
  // the damage can look like invalid rows (NULL paths, repeated ids, entries
  // naming missing files) and must be reported as corruption.
  std::optional<Failure> load = LoadMediaFiles();
  if (!load) load = LoadPlaylists();
  if (quick_check_.valid()) quick_check_priority_.Restore();
  if (!load) load = FinishLoad();
  if (!load) load = RefuseRejectedRows();
  if (quick_check_.valid()) {
    QuickCheckResult check = quick_check_.get();
    if (check.rc != SQLITE_OK) return LegacyFailure(check.rc, "running PRAGMA quick_check", check.message);
    if (!check.problems.empty()) {
      return Failure{Status::Corruption(options_.legacy_path + " fails PRAGMA quick_check (" + check.problems +
                                        "): nothing was migrated; restore it from a backup or recover it with "
                                        "`sqlite3 " + options_.legacy_path + " .recover | sqlite3 recovered.db`"),
                     kExitBadInput};
    }
  }
  if (load) return load;
  if (options_.dry_run) {
    // Nothing written; the legacy snapshot ends with the transaction.
    Exec("ROLLBACK", "ending the read");
    return std::nullopt;
  }
  if (auto f = CopyOtherTables()) return f;
  if (auto f = CreateVirtualTables()) return f;
  if (options_.verify) {
    if (auto f = Verify()) return f;
  }
  if (auto f = RecordSchemaVersion()) return f;
  if (auto f = FinishIndexes()) return f;
  ReportProgress(Phase::kFinish, 0, 0);
  if (auto f = Exec("COMMIT", "committing " + options_.output_path)) return f;
  // sqlite3_close refuses a connection with statements still prepared.
  set_aside_inserts_.clear();
  set_aside_reason_.reset();
  if (sqlite3_close(db_) != SQLITE_OK) return SqlFailure("closing the new database");
  db_ = nullptr;
  const LegacyFileState after = LegacyFileState::Of(options_.legacy_path);
  if (!legacy_state_.has_sidecars && !after.SameFile(legacy_state_)) {
    // Read `immutable`: a server that started and checkpointed meanwhile
    // may have changed pages under the read.
    return Failure{Status::Busy(options_.legacy_path +
                                " changed during the migration (did the legacy server start?): nothing was "
                                "published; stop the server and run again"),
                   kExitBadInput};
  }
  if (options_.before_publish) {
    Status status = options_.before_publish();
    if (!status.ok()) return Failure{status, kExitError};
  }
  Status status = files_->Publish();
  if (!status.ok()) return Failure{status, kExitOutput};
  report_.output_bytes = FileSize(files_->final_db()) + TreeSize(files_->final_store());
  return std::nullopt;
}

std::optional<Failure> Migrator::OpenConnection() {
  const std::string main_path = writing() ? files_->staging_db() : ":memory:";
  int rc = sqlite3_open_v2(main_path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) return SqlFailure("cannot create " + main_path);
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 2000);
  char* error = nullptr;
  if (zcmedia_register(db_, &error) != SQLITE_OK) {
    Failure f{Status::IOError(std::string("cannot register the zcmedia extension: ") + (error ? error : "")),
              kExitError};
    sqlite3_free(error);
    return f;
  }
  // Staged output: a crash leaves nothing that counts, so the build itself
  // need not journal or sync; OutputFiles::Publish syncs the finished file.
  if (auto f = Exec("PRAGMA main.journal_mode=OFF; PRAGMA main.synchronous=OFF", "configuring the new database")) {
    return f;
  }
  legacy_uri_ = FileUri(options_.legacy_path, legacy_state_.has_sidecars ? "mode=ro" : "mode=ro&immutable=1");
  Statement attach;
  rc = attach.Prepare(db_, "ATTACH ?1 AS legacy");
  if (rc == SQLITE_OK) rc = sqlite3_bind_text(attach.get(), 1, legacy_uri_.c_str(), -1, SQLITE_TRANSIENT);
  if (rc == SQLITE_OK) rc = attach.Step();
  if (rc != SQLITE_DONE) return LegacyFailure(rc, "opening it");
  // Reads of the legacy file are in page order mostly; mapping it saves a copy per page.
  Exec("PRAGMA legacy.mmap_size=1073741824; PRAGMA legacy.cache_size=-2000", "configuring the legacy read");
  if (auto f = Exec("BEGIN", "starting the migration's transaction")) return f;
  return std::nullopt;
}

std::optional<Failure> Migrator::CheckLegacy() {
  ReportProgress(Phase::kCheck, 0, 0);
  Statement tables;
  tables.Prepare(db_, "SELECT name FROM legacy.sqlite_schema WHERE type = 'table'");
  while (tables.Next()) legacy_tables_.push_back(tables.Text(0));
  if (tables.rc() != SQLITE_DONE) return LegacyFailure(tables.rc(), "reading its schema");
  Status status = DetectLayout(db_, "legacy", &layout_);
  if (!status.ok()) {
    if (sqlite3_errcode(db_) != SQLITE_OK && sqlite3_errcode(db_) != SQLITE_DONE &&
        sqlite3_errcode(db_) != SQLITE_ROW) {
      return LegacyFailure(sqlite3_extended_errcode(db_), "reading the columns of its tables");
    }
    return Failure{Status::InvalidArgument(options_.legacy_path + ": " + status.message()), kExitBadInput};
  }
  report_.shape = layout_.shape;
  if (std::find(legacy_tables_.begin(), legacy_tables_.end(), "database_metadata") != legacy_tables_.end()) {
    Statement version;
    if (version.Prepare(db_, "SELECT value FROM legacy.database_metadata WHERE key = 'schema_version'") ==
            SQLITE_OK &&
        version.Step() == SQLITE_ROW) {
      report_.schema_version = version.Text(0);
    }
  }
  return std::nullopt;
}

Status Migrator::FindDuplicatePaths() {
  // Every path held by more than one row; the lowest id keeps it.
  Statement dups;
  dups.Prepare(db_,
                        "SELECT id, path FROM legacy.media_files WHERE path IN "
                        "(SELECT path FROM legacy.media_files GROUP BY path HAVING count(*) > 1) ORDER BY path, id");
  std::string previous_path;
  int64_t first_id = 0;
  while (dups.Next()) {
    std::string path = dups.Text(1);
    if (path == previous_path && first_id != 0) {
      duplicate_of_[dups.Int(0)] = first_id;
    } else {
      previous_path = std::move(path);
      first_id = dups.Int(0);
    }
  }
  duplicates_known_ = true;
  if (dups.rc() != SQLITE_DONE) return Status::IOError(sqlite3_errmsg(db_));
  return Status::OK();
}

Status Migrator::Reject(const char* table, int64_t id, std::string reason) {
  if (report_.rejected.size() < kReportedRejections) report_.rejected.push_back({table, id, reason});
  ++report_.rejected_total;
  if (!options_.set_aside || !writing()) return Status::OK();
  // Set aside: the legacy row, unchanged, in zcmedia_set_aside_<table>.
  std::unique_ptr<Statement>& insert = set_aside_inserts_[table];
  if (!insert) {
    const std::string copy = QuoteIdentifier(std::string("zcmedia_set_aside_") + table);
    std::string sql = "CREATE TABLE IF NOT EXISTS main." + copy + " AS SELECT * FROM legacy." + table +
                      " WHERE 0;"
                      "CREATE TABLE IF NOT EXISTS main.zcmedia_set_aside (table_name TEXT NOT NULL, "
                      "id INTEGER NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (table_name, id))";
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Status::IOError(std::string("cannot create the set-aside table: ") + sqlite3_errmsg(db_));
    }
    insert = std::make_unique<Statement>();
    if (insert->Prepare(db_, "INSERT INTO main." + copy + " SELECT * FROM legacy." + table + " WHERE rowid = ?1") !=
        SQLITE_OK) {
      return Status::IOError(std::string("cannot prepare the set-aside copy: ") + sqlite3_errmsg(db_));
    }
    if (!set_aside_reason_) {
      set_aside_reason_ = std::make_unique<Statement>();
      if (set_aside_reason_->Prepare(db_, "INSERT INTO main.zcmedia_set_aside VALUES (?1, ?2, ?3)") != SQLITE_OK) {
        return Status::IOError(std::string("cannot prepare the set-aside list: ") + sqlite3_errmsg(db_));
      }
    }
  }
  sqlite3_bind_int64(insert->get(), 1, id);
  int rc = insert->Step();
  sqlite3_reset(insert->get());
  sqlite3_bind_text(set_aside_reason_->get(), 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_int64(set_aside_reason_->get(), 2, id);
  sqlite3_bind_text(set_aside_reason_->get(), 3, reason.c_str(), -1, SQLITE_TRANSIENT);
  if (rc == SQLITE_DONE) rc = set_aside_reason_->Step();
  sqlite3_reset(set_aside_reason_->get());
  if (rc != SQLITE_DONE) return Status::IOError(std::string("cannot set a row aside: ") + sqlite3_errmsg(db_));
  return Status::OK();
}

std::optional<Failure> Migrator::LoadMediaFiles() {
  uint64_t total = 0;
  {
    Statement count;
    int rc = count.Prepare(db_, "SELECT count(*) FROM legacy.media_files");
    if (rc == SQLITE_OK) rc = count.Step();
    if (rc != SQLITE_ROW) return LegacyFailure(rc, "counting media_files");
    total = static_cast<uint64_t>(count.Int(0));
  }
  ReportProgress(Phase::kMediaFiles, 0, total);
  Statement rows;
  int rc = rows.Prepare(db_, layout_.select_sql);
  if (rc != SQLITE_OK) return LegacyFailure(rc, "reading media_files");
  MediaRowConverter converter(layout_);
  MediaFileFields fields;
  std::string reason;
  uint64_t done = 0;
  while (rows.Next()) {
    sqlite3_stmt* row = rows.get();
    const int64_t id = converter.id(row);
    max_media_id_ = std::max(max_media_id_, id);
    min_media_id_ = std::min(min_media_id_, id);
    bool accepted = converter.Convert(row, &fields, &reason);
    if (accepted) {
      auto dup = duplicate_of_.find(id);
      if (dup != duplicate_of_.end()) {
        reason = "duplicate path (id " + std::to_string(dup->second) + " has the same path)";
        accepted = false;
      }
    }
    if (!accepted) {
      rejected_media_.push_back(id);
      Status status = Reject("media_files", id, reason);
      if (!status.ok()) return Failure{status, kExitError};
    } else {
      media_checksum_.Add(converter.Digest(row));
      report_.canonical_filled += converter.filled_canonical();
      report_.parent_filled += converter.filled_parent();
      ++report_.media_files;
      if (loader_) {
        loader_->batch().Put(fields);
        if (auto f = SubmitIfFull()) return f;
      }
    }
    if (++done % kProgressEvery == 0) ReportProgress(Phase::kMediaFiles, done, total);
  }
  if (rows.rc() != SQLITE_DONE) return LegacyFailure(rows.rc(), "reading media_files");
  ReportProgress(Phase::kMediaFiles, done, total);
  return std::nullopt;
}

std::optional<Failure> Migrator::LoadPlaylists() {
  if (!layout_.has_playlists) return std::nullopt;
  ReportProgress(Phase::kPlaylists, 0, 0);
  RowHasher hasher;
  {
    Statement rows;
    int rc = rows.Prepare(db_, "SELECT id, name, description, created_at, updated_at FROM legacy.playlists");
    if (rc != SQLITE_OK) return LegacyFailure(rc, "reading playlists");
    static const char* const kColumns[] = {"id", "name", "description", "created_at", "updated_at"};
    static const int kTypes[] = {SQLITE_INTEGER, SQLITE_TEXT, SQLITE_TEXT, SQLITE_INTEGER, SQLITE_INTEGER};
    while (rows.Next()) {
      sqlite3_stmt* row = rows.get();
      const int64_t id = rows.Int(0);
      max_playlist_id_ = std::max(max_playlist_id_, id);
      std::string reason = WrongColumn(rows, kColumns, kTypes, /*nullable_column=*/2);
      if (reason.empty() && (id < 1 || id > kMaxPlaylistId)) reason = "id " + std::to_string(id) + " is out of range";
      if (!reason.empty()) {
        rejected_playlists_.push_back(id);
        Status status = Reject("playlists", id, reason);
        if (!status.ok()) return Failure{status, kExitError};
        continue;
      }
      hasher.Row(row);
      playlist_checksum_.Add(hasher.Finish());
      ++report_.playlists;
      if (loader_) {
        PlaylistFields f;
        f.id = id;
        f.name = ColumnBytes(row, 1);
        if (!rows.IsNull(2)) {
          f.description = ColumnBytes(row, 2);
        }
        f.created_at = rows.Int(3);
        f.updated_at = rows.Int(4);
        loader_->batch().PutPlaylist(f);
        if (auto f = SubmitIfFull()) return f;
      }
    }
    if (rows.rc() != SQLITE_DONE) return LegacyFailure(rows.rc(), "reading playlists");
  }
  // Entries, with whether the rows they name exist in the legacy file (a
  // foreign key the legacy server may not have enforced).
  Statement rows;
  int rc = rows.Prepare(db_,
                        "SELECT e.id, e.playlist_id, e.media_file_id, e.position, e.created_at, "
                        "EXISTS (SELECT 1 FROM legacy.playlists p WHERE p.id = e.playlist_id), "
                        "EXISTS (SELECT 1 FROM legacy.media_files m WHERE m.id = e.media_file_id) "
                        "FROM legacy.playlist_entries e");
  if (rc != SQLITE_OK) return LegacyFailure(rc, "reading playlist_entries");
  static const char* const kColumns[] = {"id", "playlist_id", "media_file_id", "position", "created_at"};
  static const int kTypes[] = {SQLITE_INTEGER, SQLITE_INTEGER, SQLITE_INTEGER, SQLITE_INTEGER, SQLITE_INTEGER};
  while (rows.Next()) {
    sqlite3_stmt* row = rows.get();
    const int64_t id = rows.Int(0);
    max_entry_id_ = std::max(max_entry_id_, id);
    std::string reason = WrongColumn(rows, kColumns, kTypes, /*nullable_column=*/-1);
    if (reason.empty()) {
      const int64_t playlist = rows.Int(1), media = rows.Int(2);
      if (id < 1 || id > kMaxPlaylistId) {
        reason = "id " + std::to_string(id) + " is out of range";
      } else if (rows.Int(5) == 0) {
        reason = "playlist_id " + std::to_string(playlist) + " names no playlist";
      } else if (rows.Int(6) == 0) {
        reason = "media_file_id " + std::to_string(media) + " names no media file";
      } else if (std::binary_search(rejected_playlists_.begin(), rejected_playlists_.end(), playlist)) {
        reason = "its playlist " + std::to_string(playlist) + " was set aside";
      } else if (std::binary_search(rejected_media_.begin(), rejected_media_.end(), media)) {
        reason = "its media file " + std::to_string(media) + " was set aside";
      }
    }
    if (!reason.empty()) {
      rejected_entries_.push_back(id);
      Status status = Reject("playlist_entries", id, reason);
      if (!status.ok()) return Failure{status, kExitError};
      continue;
    }
    hasher.Begin();
    for (int c = 0; c < 5; ++c) hasher.Column(row, c);
    entry_checksum_.Add(hasher.Finish());
    ++report_.playlist_entries;
    if (loader_) {
      PlaylistEntryFields f;
      f.id = id;
      f.playlist_id = rows.Int(1);
      f.media_file_id = rows.Int(2);
      f.position = rows.Int(3);
      f.created_at = rows.Int(4);
      loader_->batch().PutPlaylistEntry(f);
      if (auto f = SubmitIfFull()) return f;
    }
  }
  if (rows.rc() != SQLITE_DONE) return LegacyFailure(rows.rc(), "reading playlist_entries");
  return std::nullopt;
}

std::optional<Failure> Migrator::FinishLoad() {
  // The AUTOINCREMENT high-water marks: new ids continue after the highest
  // id ever used (sqlite_sequence), or after the highest id present.
  int64_t sequences[3] = {max_media_id_, max_playlist_id_, max_entry_id_};
  if (std::find(legacy_tables_.begin(), legacy_tables_.end(), "sqlite_sequence") != legacy_tables_.end()) {
    Statement seq;
    seq.Prepare(db_, "SELECT name, seq FROM legacy.sqlite_sequence");
    while (seq.Next()) {
      for (int t = 0; t < 3; ++t) {
        if (seq.Text(0) == kMediaTables[t] && sqlite3_column_type(seq.get(), 1) == SQLITE_INTEGER) {
          sequences[t] = std::max(sequences[t], seq.Int(1));
        }
      }
    }
    if (seq.rc() != SQLITE_DONE) return LegacyFailure(seq.rc(), "reading sqlite_sequence");
  }
  if (!loader_) return std::nullopt;
  WriteBatch& batch = loader_->batch();
  if (sequences[0] > 0) batch.RaiseNextId(sequences[0] + 1);
  if (sequences[1] > 0) batch.RaiseNextPlaylistId(std::min(sequences[1] + 1, kMaxPlaylistId));
  if (sequences[2] > 0) batch.RaiseNextPlaylistEntryId(std::min(sequences[2] + 1, kMaxPlaylistId));
  Status status = loader_->Finish();
  loader_.reset();
  if (!status.ok()) return ExplainStoreRefusal(status);
  if (report_.rejected_total > 0 && !options_.set_aside) return std::nullopt;  // refused next; skip the merge
  // Merging the indexes is one thread's work: it runs while this thread
  // copies the other tables and verifies (the virtual tables read the
  // store through a read-only Store of their own, which sees the state
  // before or after the merge, both complete). FinishIndexes joins it.
  // The segments are complete: the same thread first starts their
  // writeback, so that the disk works during verification and Publish's
  // syncs find little left to write.
  Store* store = store_.get();
  const OutputFiles* files = files_.get();
  compact_indexes_ = std::async(std::launch::async, [store, files] {
    files->StartWriteback();
    return store->CompactIndexes();
  });
  return std::nullopt;
}

std::optional<Failure> Migrator::FinishIndexes() {
  if (!compact_indexes_.valid()) return std::nullopt;
  ReportProgress(Phase::kIndexes, 0, 0);
  Status status = compact_indexes_.get();
  if (!status.ok()) return Failure{status, status.IsIOError() ? kExitOutput : kExitError};
  store_.reset();
  return std::nullopt;
}

std::optional<Failure> Migrator::ExplainStoreRefusal(const Status& status) {
  if (!status.IsConstraint()) {
    // A full disk or another I/O error while writing the staged store.
    return Failure{Status::IOError("writing the store failed: " + status.message() +
                                   " (nothing was published; free space or fix the problem and run again)"),
                   status.IsIOError() ? kExitOutput : kExitError};
  }
  if (!duplicates_known_ && FindDuplicatePaths().ok() && !duplicate_of_.empty()) {
    std::string list;
    size_t shown = 0;
    for (const auto& [id, first] : duplicate_of_) {
      if (shown++ == 10) break;
      list += (list.empty() ? "" : ", ") + std::to_string(id) + " (same path as " + std::to_string(first) + ")";
    }
    return Failure{Status::Constraint(options_.legacy_path + ": " + std::to_string(duplicate_of_.size()) +
                                      " media_files rows repeat another row's path (the legacy UNIQUE constraint): "
                                      "ids " + list + (duplicate_of_.size() > 10 ? ", ..." : "") +
                                      ". Nothing was migrated; delete the duplicates from a copy, or run again "
                                      "with --set-aside to keep them in zcmedia_set_aside_media_files"),
                   kExitInvalidRows};
  }
  return Failure{Status::Constraint(options_.legacy_path + " breaks a legacy constraint: " + status.message() +
                                    ". Nothing was migrated; fix the row in a copy, or run again with --set-aside"),
                 kExitInvalidRows};
}

std::optional<Failure> Migrator::RefuseRejectedRows() {
  if (report_.rejected_total == 0 || options_.set_aside) return std::nullopt;
  std::string list;
  for (size_t i = 0; i < report_.rejected.size() && i < 10; ++i) {
    const RejectedRow& r = report_.rejected[i];
    list += (i ? "; " : "") + r.table + " id " + std::to_string(r.id) + ": " + r.reason;
  }
  return Failure{Status::Constraint(options_.legacy_path + ": " + std::to_string(report_.rejected_total) +
                                    " row(s) break the legacy constraints (" + list +
                                    (report_.rejected_total > 10 ? "; ..." : "") +
                                    "). Nothing was migrated; fix them in a copy, or run again with --set-aside "
                                    "to migrate the rest and keep them unchanged in zcmedia_set_aside_<table>"),
                 kExitInvalidRows};
}

std::optional<Failure> Migrator::CopyOtherTables() {
  ReportProgress(Phase::kOtherTables, 0, 0);
  // Tables first, then what hangs on them (indexes, triggers, views).
  Statement schema;
  schema.Prepare(db_,
                          "SELECT type, name, tbl_name, sql FROM legacy.sqlite_schema "
                          "WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL "
                          "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, "
                          "rowid");
  struct Object {
    std::string type, name, table, sql;
  };
  std::vector<Object> objects;
  while (schema.Next()) {
    objects.push_back({schema.Text(0), schema.Text(1), schema.Text(2), schema.Text(3)});
  }
  if (schema.rc() != SQLITE_DONE) return LegacyFailure(schema.rc(), "reading its schema");
  for (const Object& o : objects) {
    if (IsMediaTable(o.table)) {
      if (o.type == "index" || o.type == "trigger") report_.dropped_objects.push_back(o.type + " " + o.name);
      if (o.type != "view") continue;  // views over the three work on the virtual tables
    }
    if (o.type == "table" && o.sql.compare(0, 20, "CREATE VIRTUAL TABLE") == 0) {
      return Failure{Status::InvalidArgument(options_.legacy_path + " has the virtual table " + o.name +
                                             ", which the migration cannot copy: drop it from a copy first"),
                     kExitBadInput};
    }
    if (auto f = Exec(o.sql, "creating " + o.type + " " + o.name + " in the new database")) return f;
    if (o.type == "table") {
      const std::string name = QuoteIdentifier(o.name);
      if (auto f = Exec("INSERT INTO main." + name + " SELECT * FROM legacy." + name, "copying table " + o.name)) {
        return f;
      }
      report_.copied_tables.push_back({o.name, static_cast<uint64_t>(sqlite3_changes64(db_))});
    }
  }
  const bool legacy_has_sequence =
      std::find(legacy_tables_.begin(), legacy_tables_.end(), "sqlite_sequence") != legacy_tables_.end();
  Statement main_sequence;
  if (legacy_has_sequence && main_sequence.Prepare(db_, "SELECT 1 FROM main.sqlite_schema WHERE name = "
                                                        "'sqlite_sequence'") == SQLITE_OK &&
      main_sequence.Step() == SQLITE_ROW) {
    if (auto f = Exec("DELETE FROM main.sqlite_sequence;"
                      "INSERT INTO main.sqlite_sequence SELECT name, seq FROM legacy.sqlite_sequence "
                      "WHERE name NOT IN ('media_files', 'playlists', 'playlist_entries')",
                      "copying sqlite_sequence")) {
      return f;
    }
  }
  return std::nullopt;
}

std::optional<Failure> Migrator::CreateVirtualTables() {
  for (const char* table : kMediaTables) {
    std::string sql = std::string("CREATE VIRTUAL TABLE main.") + table + " USING zcmedia(store=" +
                      QuoteLiteral(files_->store_name()) + ")";
    if (auto f = Exec(sql, std::string("creating the virtual table ") + table)) return f;
  }
  // What was migrated, for support and for a later zcmedia: ordinary rows.
  std::string sql =
      "CREATE TABLE main.zcmedia_migration (key TEXT PRIMARY KEY, value TEXT);"
      "INSERT INTO main.zcmedia_migration VALUES "
      "('legacy_path', " + QuoteLiteral(std::filesystem::absolute(options_.legacy_path).string()) + "),"
      "('legacy_shape', " + QuoteLiteral(layout_.shape) + "),"
      "('legacy_schema_version', " + QuoteLiteral(report_.schema_version) + "),"
      "('media_files', " + std::to_string(report_.media_files) + "),"
      "('playlists', " + std::to_string(report_.playlists) + "),"
      "('playlist_entries', " + std::to_string(report_.playlist_entries) + "),"
      "('set_aside', " + std::to_string(report_.rejected_total) + "),"
      "('migrated_at', CAST(strftime('%s', 'now') AS INTEGER))";
  return Exec(sql, "recording the migration");
}

Failure Migrator::VerifyFailure(const std::string& table, const RowChecksum& migrated, const RowChecksum& legacy) {
  std::string where;
  if (IsMediaTable(table)) {
    std::string legacy_sql, migrated_sql;
    const std::vector<int64_t>* rejected = nullptr;
    if (table == "media_files") {
      legacy_sql = layout_.select_sql + " ORDER BY id";
      migrated_sql = "SELECT " + LegacyColumnList() + " FROM main.media_files ORDER BY id";
      rejected = &rejected_media_;
    } else {
      const std::string columns = table == "playlists" ? "id, name, description, created_at, updated_at"
                                                        : "id, playlist_id, media_file_id, position, created_at";
      legacy_sql = "SELECT " + columns + " FROM legacy." + table + " ORDER BY id";
      migrated_sql = "SELECT " + columns + " FROM main." + table + " ORDER BY id";
      rejected = table == "playlists" ? &rejected_playlists_ : &rejected_entries_;
    }
    Statement old_rows, new_rows;
    old_rows.Prepare(db_, legacy_sql);
    new_rows.Prepare(db_, migrated_sql);
    MediaRowConverter converter(layout_);
    RowHasher hasher;
    auto next_legacy = [&](KeyedDigest* row) {
      while (old_rows.Next()) {
        row->id = old_rows.Int(0);
        if (std::binary_search(rejected->begin(), rejected->end(), row->id) || duplicate_of_.count(row->id) != 0) {
          continue;  // set aside, not migrated
        }
        if (table == "media_files") {
          MediaFileFields fields;
          std::string reason;
          if (!converter.Convert(old_rows.get(), &fields, &reason)) continue;
          row->digest = converter.Digest(old_rows.get());
        } else {
          hasher.Row(old_rows.get());
          row->digest = hasher.Finish();
        }
        return true;
      }
      return false;
    };
    auto next_migrated = [&](KeyedDigest* row) {
      if (!new_rows.Next()) return false;
      row->id = new_rows.Int(0);
      hasher.Row(new_rows.get());
      row->digest = hasher.Finish();
      return true;
    };
    for (const std::string& difference : FirstDifferences(next_legacy, next_migrated, 5)) {
      where += (where.empty() ? " at " : ", ") + difference;
    }
  }
  return Failure{Status::Corruption("verification failed: " + table + " of the new database differs from the " +
                                    "legacy snapshot" + where + " (checksums: new " + migrated.ToString() +
                                    ", legacy " + legacy.ToString() +
                                    "); nothing was published. Please report this with the legacy file."),
                 kExitVerifyFailed};
}

std::optional<Failure> Migrator::RecordSchemaVersion() {
  // The new tables have shape D's columns whatever the legacy shape was; a
  // server reading an older schema_version would try to ALTER them (which
  // SQLite refuses on virtual tables). The old value stays in
  // zcmedia_migration. Runs after verification, which compares the copy.
  if (report_.schema_version.empty() || report_.schema_version == "2") return std::nullopt;
  return Exec("UPDATE main.database_metadata SET value = '2' WHERE key = 'schema_version'",
              "recording schema_version 2");
}

std::optional<Failure> Migrator::Verify() {
  const auto start = std::chrono::steady_clock::now();
  ReportProgress(Phase::kVerify, 0, report_.media_files);
  const std::string columns = LegacyColumnList();
  struct Check {
    std::string table;
    std::string migrated_sql;
    RowChecksum legacy;
  };
  // media_files, the big one, on two cores: ids below the midpoint through
  // NEW.db's own table, the rest on a second connection whose TEMP table
  // reads the same staged store (NEW.db's schema is not committed yet).
  const int64_t split = min_media_id_ + (max_media_id_ - min_media_id_) / 2 + 1;
  const std::string store_dir = files_->staging_store();
  auto upper_half = std::async(std::launch::async, [&columns, store_dir, split]() -> Result<RowChecksum> {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    char* error = nullptr;
    if (rc == SQLITE_OK) rc = zcmedia_register(db, &error);
    sqlite3_free(error);
    std::string create = "CREATE VIRTUAL TABLE temp.media_files USING zcmedia(store=" + QuoteLiteral(store_dir) +
                         ", kind='media_files')";
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, create.c_str(), nullptr, nullptr, nullptr);
    RowChecksum checksum;
    Status status = rc == SQLITE_OK
                        ? ChecksumQuery(db, "SELECT " + columns + " FROM temp.media_files WHERE id >= " +
                                                std::to_string(split), &checksum)
                        : Status::IOError(db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close_v2(db);
    if (!status.ok()) return status;
    return checksum;
  });
  RowChecksum media;
  Status lower = ChecksumQuery(db_, "SELECT " + columns + " FROM main.media_files WHERE id < " + std::to_string(split),
                               &media);
  Result<RowChecksum> upper = upper_half.get();
  if (!lower.ok() || !upper.ok()) {
    return Failure{Status::IOError("verification could not read media_files: " +
                                   (lower.ok() ? upper.status() : lower).message()),
                   kExitVerifyFailed};
  }
  media.Merge(upper.value());

  std::vector<Check> checks = {
      {"playlists", "SELECT id, name, description, created_at, updated_at FROM main.playlists", playlist_checksum_},
      {"playlist_entries", "SELECT id, playlist_id, media_file_id, position, created_at FROM main.playlist_entries",
       entry_checksum_}};
  if (!(media == media_checksum_)) return VerifyFailure("media_files", media, media_checksum_);
  for (const TableCount& copied : report_.copied_tables) {
    Check check{copied.table, "SELECT * FROM main." + QuoteIdentifier(copied.table), {}};
    Status status = ChecksumQuery(db_, "SELECT * FROM legacy." + QuoteIdentifier(copied.table), &check.legacy);
    if (!status.ok()) return LegacyFailure(sqlite3_extended_errcode(db_), "checksumming " + copied.table);
    checks.push_back(std::move(check));
  }
  for (const Check& check : checks) {
    RowChecksum migrated;
    Status status = ChecksumQuery(db_, check.migrated_sql, &migrated);
    if (!status.ok()) return Failure{Status::IOError("verification could not read " + check.table + ": " +
                                                     status.message()),
                                     kExitVerifyFailed};
    if (!(migrated == check.legacy)) return VerifyFailure(check.table, migrated, check.legacy);
  }
  // Rows set aside: all there, each once.
  if (options_.set_aside && report_.rejected_total > 0) {
    Statement count;
    if (count.Prepare(db_, "SELECT count(*) FROM main.zcmedia_set_aside") != SQLITE_OK || count.Step() != SQLITE_ROW ||
        static_cast<uint64_t>(count.Int(0)) != report_.rejected_total) {
      return Failure{Status::Corruption("verification failed: zcmedia_set_aside does not list the " +
                                        std::to_string(report_.rejected_total) + " rows set aside"),
                     kExitVerifyFailed};
    }
  }
  report_.verified = true;
  report_.verify_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::nullopt;
}


// --in-place (migrate.h, MigrateOptions::in_place).
MigrateResult MigrateInPlace(const MigrateOptions& options, MigrateReport* report) {
  namespace fs = std::filesystem;
  const std::string& legacy = options.legacy_path;
  std::error_code ec;
  if (!options.output_path.empty() && !fs::equivalent(options.output_path, legacy, ec)) {
    return {Status::InvalidArgument("--in-place converts the legacy file itself: give no second path (or the same "
                                    "one)"),
            kExitUsage};
  }
  if (options.dry_run) {
    MigrateOptions dry = options;
    dry.in_place = false;
    return Migrate(dry, report);
  }
  if (!fs::is_regular_file(legacy, ec)) {
    return {Status::InvalidArgument("the legacy database " + legacy + " does not exist: check the path"),
            kExitBadInput};
  }
  const std::string backup = options.backup_path.empty() ? legacy + ".bak" : options.backup_path;
  if (fs::exists(backup, ec) && !options.force) {
    return {Status::InvalidArgument("the backup " + backup + " already exists: give another --backup, or --force "
                                    "to overwrite it"),
            kExitOutput};
  }
  const std::string store = DefaultStorePath(legacy);
  if (fs::exists(store, ec) && !options.force) {
    return {Status::InvalidArgument(store + " already exists: move it away, or --force to replace it"), kExitOutput};
  }

  // Lock the legacy file against every other process for the whole
  // conversion: in WAL mode, exclusive locking mode takes the file's
  // exclusive lock at the first read, which fails while the server has it
  // open (in rollback mode the shared lock it keeps stops every writer).
  // A read transaction, not a write one: the backup API refuses a source
  // connection that is writing.
  struct Connection {
    sqlite3* db = nullptr;
    ~Connection() { sqlite3_close_v2(db); }
  } locked, copy;
  auto fail = [&](sqlite3* db, const std::string& doing, int exit_code) -> MigrateResult {
    return {Status::IOError(doing + ": " + (db ? sqlite3_errmsg(db) : "out of memory")), exit_code};
  };
  if (sqlite3_open_v2(legacy.c_str(), &locked.db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    return fail(locked.db, "cannot open " + legacy, kExitBadInput);
  }
  sqlite3_extended_result_codes(locked.db, 1);
  int rc = sqlite3_exec(locked.db, "PRAGMA locking_mode=EXCLUSIVE; BEGIN; SELECT count(*) FROM sqlite_schema",
                        nullptr, nullptr, nullptr);
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    return {Status::Busy(legacy + " is in use by another process (the legacy server?): stop it, then run the "
                         "in-place migration again"),
            kExitBadInput};
  }
  if (rc != SQLITE_OK) return fail(locked.db, legacy + " cannot be read", kExitBadInput);

  // The backup, with SQLite's backup API (a page copy of the locked file,
  // WAL content included), synced, then checked before anything relies on it.
  const std::string partial = backup + ".partial";
  fs::remove(partial, ec);
  if (sqlite3_open_v2(partial.c_str(), &copy.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    return fail(copy.db, "cannot create the backup " + partial, kExitOutput);
  }
  sqlite3_backup* job = sqlite3_backup_init(copy.db, "main", locked.db, "main");
  rc = job ? sqlite3_backup_step(job, -1) : SQLITE_ERROR;
  sqlite3_backup_finish(job);
  if (rc != SQLITE_DONE) {
    fs::remove(partial, ec);
    return fail(copy.db, "backing up " + legacy + " to " + partial + " failed", kExitOutput);
  }
  sqlite3_exec(copy.db, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr);  // no -wal beside the backup
  std::string problem;
  {
    Statement tables;
    tables.Prepare(locked.db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'");
    while (tables.Next() && problem.empty()) {
      const std::string sql = "SELECT * FROM " + QuoteIdentifier(tables.Text(0));
      RowChecksum original, copied;
      Status a = ChecksumQuery(locked.db, sql, &original);
      Status b = ChecksumQuery(copy.db, sql, &copied);
      if (!a.ok() || !b.ok() || !(original == copied)) problem = "table " + tables.Text(0) + " differs";
    }
    Statement check;
    check.Prepare(copy.db, "PRAGMA quick_check");
    if (problem.empty() && (!check.Next() || check.Text(0) != "ok")) problem = "quick_check: " + check.Text(0);
  }
  sqlite3_close_v2(copy.db);
  copy.db = nullptr;
  if (!problem.empty()) {
    fs::remove(partial, ec);
    return {Status::Corruption("the backup of " + legacy + " does not match it (" + problem +
                               "): nothing was changed"),
            kExitError};
  }
  {
    Status synced = SyncPath(partial);
    if (synced.ok()) {
      fs::rename(partial, backup, ec);
      synced = ec ? Status::IOError("cannot rename " + partial + ": " + ec.message())
                  : SyncPath(fs::absolute(backup).parent_path().string());
    }
    if (!synced.ok()) {
      return {Status::IOError("cannot make the backup " + backup + " durable: " + synced.message()), kExitOutput};
    }
  }

  // Migrate from the backup into the legacy file's place. Just before the
  // rename, the locked connection checkpoints the legacy WAL into the old
  // file and leaves WAL mode, so that no -wal of the old file is left to be
  // replayed into the new one.
  MigrateOptions inner = options;
  inner.in_place = false;
  inner.legacy_path = backup;
  inner.output_path = legacy;
  inner.force = true;
  inner.before_publish = [&]() -> Status {
    if (sqlite3_exec(locked.db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE; BEGIN IMMEDIATE",
                     nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Status::IOError("cannot checkpoint " + legacy + " before replacing it: " + sqlite3_errmsg(locked.db));
    }
    return options.before_publish ? options.before_publish() : Status::OK();
  };
  MigrateResult result = Migrator(inner, report).Run();
  report->backup_path = backup;
  return result;
}

}  // namespace

MigrateResult Migrate(const MigrateOptions& options, MigrateReport* report) {
  try {
    if (options.in_place) return MigrateInPlace(options, report);
    return Migrator(options, report).Run();
  } catch (const std::exception& e) {
    return {Status::IOError(std::string("internal error: ") + e.what()), kExitError};
  } catch (...) {
    return {Status::IOError("internal error: unknown exception"), kExitError};
  }
}

}  // namespace zcmedia::migrate
