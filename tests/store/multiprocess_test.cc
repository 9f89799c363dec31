// One writer process, reader processes (Options::read_only), and the writer
// lock across processes.
//
// Readers in another process must only ever see whole committed batches:
// the writer's batch k puts 100 records under /b<k>/, so every snapshot holds
// batches 0..m-1 completely (record_count == 100*m) and nothing of batch m.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "store/durability_test_util.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using namespace durtest;  // NOLINT

constexpr uint64_t kSeed = 0x5eed;
constexpr int kPerBatch = 100;
constexpr int kBatches = 60;

std::string BatchDir(int k) { return "/b" + std::to_string(k); }
OwnedRecord Rec(int k, int i) { return MakeRecord(kSeed, k, i, 0, BatchDir(k)); }

// Sends all of `s` (best effort; used by children).
void SendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Reads until EOF.
std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Waits (up to a generous bound, so a broken child cannot hang the suite)
// for one line on `fd`. Returns false on EOF or when the bound passes.
bool ReadLine(int fd, std::string* line, int timeout_ms = 60000) {
  line->clear();
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char c;
    if (::read(fd, &c, 1) != 1) return false;
    if (c == '\n') return true;
    line->push_back(c);
  }
}

// Parses "/b<k>/f<i>..." into k and i.
bool ParsePath(std::string_view p, int* k, int* i) {
  if (p.substr(0, 2) != "/b") return false;
  size_t slash = p.find('/', 2);
  if (slash == std::string_view::npos || p.substr(slash, 2) != "/f") return false;
  *k = std::atoi(std::string(p.substr(2, slash - 2)).c_str());
  *i = std::atoi(std::string(p.substr(slash + 2)).c_str());
  return true;
}

// Checks one snapshot; returns "" or what is wrong.
std::string CheckSnapshot(const Snapshot& snap, uint64_t* batches_out) {
  const uint64_t count = snap.record_count();
  if (count % kPerBatch != 0)
    return "record_count " + std::to_string(count) + " is not a whole number of batches";
  const int m = static_cast<int>(count / kPerBatch);
  if (m > kBatches) return "record_count " + std::to_string(count) + " exceeds what was written";
  std::vector<int> per_batch(kBatches, 0);
  uint64_t n = 0;
  int64_t last_id = 0;
  auto it = snap.NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (++n > count + 1) break;
    MediaFileView v = it->record();
    int k = -1, i = -1;
    if (!ParsePath(v.path(), &k, &i) || k < 0 || k >= kBatches || i < 0 || i >= kPerBatch)
      return "unexpected path " + std::string(v.path());
    if (k >= m) return "record of batch " + std::to_string(k) + " visible with record_count " +
                       std::to_string(count);
    if (it->id() <= last_id) return "iterator ids not increasing";
    last_id = it->id();
    OwnedRecord want = Rec(k, i);
    want.id = v.id();
    if (std::string d = DiffColumns(want, v); !d.empty())
      return "record " + std::string(v.path()) + ": " + d;
    ++per_batch[k];
  }
  if (!it->status().ok()) return "iterator: " + it->status().ToString();
  if (n != count)
    return "iterated " + std::to_string(n) + " records, record_count " + std::to_string(count);
  for (int k = 0; k < m; ++k) {
    if (per_batch[k] != kPerBatch)
      return "batch " + std::to_string(k) + " has " + std::to_string(per_batch[k]) + " records";
  }
  // Lookups agree: the last present batch is findable and listable, the
  // first absent one is not.
  if (m > 0) {
    const int k = m - 1;
    size_t in_dir = 0;
    for (int i = 0; i < kPerBatch; ++i) {
      OwnedRecord want = Rec(k, i);
      MediaFileView v;
      Status s = snap.FindByPath(want.path, &v);
      if (!s.ok()) return "FindByPath(" + want.path + "): " + s.ToString();
      want.id = v.id();
      if (std::string d = DiffColumns(want, v); !d.empty()) return want.path + ": " + d;
      Status g = snap.Get(v.id(), &v);
      if (!g.ok()) return "Get: " + g.ToString();
      if (want.parent_path && *want.parent_path == BatchDir(k)) ++in_dir;
    }
    std::vector<MediaFileView> listed;
    Status s = snap.ListDirectory(BatchDir(k), &listed);
    if (!s.ok()) return "ListDirectory: " + s.ToString();
    if (listed.size() != in_dir)
      return "ListDirectory(" + BatchDir(k) + ") gave " + std::to_string(listed.size()) +
             ", want " + std::to_string(in_dir);
  }
  if (m < kBatches) {
    MediaFileView v;
    Status s = snap.FindByPath(Rec(m, 0).path, &v);
    if (!s.IsNotFound())
      return "record of uncommitted batch " + std::to_string(m) + ": " + s.ToString();
    std::vector<MediaFileView> listed;
    s = snap.ListDirectory(BatchDir(m), &listed);
    if (!s.ok() || !listed.empty()) return "uncommitted batch listed: " + s.ToString();
  }
  *batches_out = static_cast<uint64_t>(m);
  return "";
}

// The reader child: checks snapshots until it has seen the final state.
// Reports "progress <batches>" lines on `progress_fd` and a final
// "ok <snapshots> <distinct states>" or "fail <why>" line on `result_fd`.
[[noreturn]] void ReaderMain(const std::string& dir, int go_fd, int progress_fd, int result_fd) {
  char c;
  if (::read(go_fd, &c, 1) != 1) _exit(2);
  auto fail = [&](const std::string& why) {
    SendAll(result_fd, "fail " + why + "\n");
    _exit(1);
  };
  Options opt = TestOptions();
  opt.read_only = true;
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir, opt, &store);
  if (!s.ok()) fail("read-only Open: " + s.ToString());
  {
    WriteBatch b;
    OwnedRecord r = Rec(999, 0);
    b.Put(r.Fields());
    s = store->Write(b);
    if (!s.IsReadOnly()) fail("Write on a read-only store: " + s.ToString());
  }
  std::shared_ptr<const Snapshot> prev;
  uint64_t prev_batches = 0, prev_seq = 0, snapshots = 0, distinct = 0, last_reported = ~0ull;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    auto snap = store->GetSnapshot();
    ++snapshots;
    uint64_t batches = 0;
    std::string err = CheckSnapshot(*snap, &batches);
    if (!err.empty()) fail("snapshot seq " + std::to_string(snap->sequence()) + ": " + err);
    if (snap->sequence() < prev_seq || batches < prev_batches)
      fail("went back in time: sequence " + std::to_string(snap->sequence()) + " after " +
           std::to_string(prev_seq));
    if (prev) {
      // An older snapshot never changes, even after the writer moved on.
      uint64_t again = 0;
      err = CheckSnapshot(*prev, &again);
      if (!err.empty() || again != prev_batches)
        fail("an older snapshot changed: " + err + " batches " + std::to_string(again) +
             " were " + std::to_string(prev_batches));
    }
    if (batches != last_reported) {
      ++distinct;
      SendAll(progress_fd, "progress " + std::to_string(batches) + "\n");
      last_reported = batches;
    }
    prev = snap;
    prev_batches = batches;
    prev_seq = snap->sequence();
    if (batches == static_cast<uint64_t>(kBatches)) break;
    if (std::chrono::steady_clock::now() > give_up)
      fail("never saw the final state; last saw " + std::to_string(batches) + " batches");
  }
  SendAll(result_fd, "ok " + std::to_string(snapshots) + " " + std::to_string(distinct) + "\n");
  _exit(0);
}

class MultiProcessTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(tmp_.ok()); }
  std::string Dir() { return tmp_.Sub("store"); }
  TempDir tmp_{"zcmulti"};
};

TEST_F(MultiProcessTest, ReaderProcessSeesOnlyWholeBatches) {
  int go[2], progress[2], result[2];
  ASSERT_EQ(::pipe(go), 0);
  ASSERT_EQ(::pipe(progress), 0);
  ASSERT_EQ(::pipe(result), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(go[1]);
    ::close(progress[0]);
    ::close(result[0]);
    ReaderMain(Dir(), go[0], progress[1], result[1]);
  }
  ::close(go[0]);
  ::close(progress[1]);
  ::close(result[1]);

  uint64_t reader_saw = 0;
  bool reader_alive = true;
  // Waits until the reader reports at least `batches` (bounded).
  auto wait_reader = [&](uint64_t batches) {
    std::string line;
    while (reader_alive && reader_saw < batches) {
      if (!ReadLine(progress[0], &line)) {
        reader_alive = false;
        break;
      }
      reader_saw = std::stoull(line.substr(line.find(' ') + 1));
    }
  };
  {
    std::unique_ptr<Store> store;
    Status s = Store::Open(Dir(), TestOptions(), &store);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(::write(go[1], "g", 1), 1);
    for (int k = 0; k < kBatches; ++k) {
      std::vector<OwnedRecord> recs;
      for (int i = 0; i < kPerBatch; ++i) recs.push_back(Rec(k, i));
      s = PutBatch(*store, recs);
      ASSERT_TRUE(s.ok()) << "batch " << k << ": " << s.ToString();
      if (k % 15 == 14) {
        s = store->CompactIndexes();
        ASSERT_TRUE(s.ok()) << s.ToString();
      }
      // Every ten batches, let the reader catch up, so it provably reads
      // while the writer is mid-way (no timing involved).
      if (k % 10 == 9) wait_reader(static_cast<uint64_t>(k + 1));
    }
    wait_reader(kBatches);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  std::string res = ReadAll(result[0]);
  ::close(progress[0]);
  ::close(result[0]);
  ::close(go[1]);
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
      << "reader process: " << (res.empty() ? "(no report; crashed?)" : res)
      << " wait status " << wstatus;
  EXPECT_EQ(res.substr(0, 3), "ok ") << res;
  std::cerr << "reader: " << res;
}

// The result of a writer-open attempt made in another process.
struct ChildOpen {
  std::string code;     // Status code as a number, or "exit"
  std::string message;
};

// Forks a child that, on a byte on `go`, tries Store::Open(read_only=false)
// on `dir`, and when it succeeds writes one batch and closes cleanly.
// Returns the child's pid; its report comes on `report_fd`.
pid_t SpawnWriterAttempt(const std::string& dir, int* go_w, int* report_r) {
  int go[2], rep[2];
  if (::pipe(go) != 0 || ::pipe(rep) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(go[1]);
    ::close(rep[0]);
    char c;
    if (::read(go[0], &c, 1) != 1) _exit(2);
    std::unique_ptr<Store> store;
    Status s = Store::Open(dir, TestOptions(), &store);
    std::string msg = std::to_string(static_cast<int>(s.code())) + "\n" + s.message() + "\n";
    if (s.ok()) {
      std::vector<OwnedRecord> recs{Rec(500, 0), Rec(500, 1)};
      Status w = PutBatch(*store, recs);
      msg += w.ToString() + "\n";
      store.reset();
    }
    SendAll(rep[1], msg);
    _exit(0);
  }
  ::close(go[0]);
  ::close(rep[1]);
  *go_w = go[1];
  *report_r = rep[0];
  return pid;
}

TEST_F(MultiProcessTest, SecondWriterProcessIsBusy) {
  int go_w = -1, rep_r = -1;
  const pid_t child = SpawnWriterAttempt(Dir(), &go_w, &rep_r);
  ASSERT_GT(child, 0);
  {
    std::unique_ptr<Store> store;
    Status s = Store::Open(Dir(), TestOptions(), &store);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::vector<OwnedRecord> recs{Rec(0, 0)};
    ASSERT_TRUE(PutBatch(*store, recs).ok());
    // LOCK holds the writer's pid.
    EXPECT_NE(ReadFileBytes(Dir() + "/LOCK").find(std::to_string(::getpid())), std::string::npos)
        << "LOCK: '" << ReadFileBytes(Dir() + "/LOCK") << "'";

    ASSERT_EQ(::write(go_w, "g", 1), 1);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
    std::string rep = ReadAll(rep_r);
    ::close(go_w);
    ::close(rep_r);
    ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << rep;
    const std::string code = rep.substr(0, rep.find('\n'));
    EXPECT_EQ(code, std::to_string(static_cast<int>(Status::Code::kBusy)))
        << "second writer's Open: " << rep;
    const std::string want = "locked by process " + std::to_string(::getpid());
    EXPECT_NE(rep.find(want), std::string::npos) << "message must say '" << want << "': " << rep;

    // The writer is unaffected.
    std::vector<OwnedRecord> more{Rec(0, 1)};
    Status w = PutBatch(*store, more);
    EXPECT_TRUE(w.ok()) << w.ToString();
  }
  // Once the writer has closed, another process can become the writer.
  const pid_t next = SpawnWriterAttempt(Dir(), &go_w, &rep_r);
  ASSERT_GT(next, 0);
  ASSERT_EQ(::write(go_w, "g", 1), 1);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(next, &wstatus, 0), next);
  std::string rep = ReadAll(rep_r);
  ::close(go_w);
  ::close(rep_r);
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << rep;
  EXPECT_EQ(rep.substr(0, rep.find('\n')), "0") << "writer after the first closed: " << rep;
  EXPECT_NE(rep.find("\nOK\n"), std::string::npos) << "its write: " << rep;

  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(Dir(), TestOptions(), &store).ok());
  auto snap = store->GetSnapshot();
  EXPECT_EQ(snap->record_count(), 4u);
  MediaFileView v;
  EXPECT_TRUE(snap->FindByPath(Rec(500, 1).path, &v).ok());
}

// A writer killed with SIGKILL leaves LOCK behind; the lock must not be.
TEST_F(MultiProcessTest, DeadWritersLockIsReleased) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    std::unique_ptr<Store> store;
    if (!Store::Open(Dir(), TestOptions(), &store).ok()) _exit(2);
    std::vector<OwnedRecord> recs{Rec(1, 0), Rec(1, 1), Rec(1, 2)};
    if (!PutBatch(*store, recs).ok()) _exit(3);
    SendAll(ready[1], "r");
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1) << "writer child failed";
  ::close(ready[0]);
  {  // while it lives: busy
    std::unique_ptr<Store> store;
    Status s = Store::Open(Dir(), TestOptions(), &store);
    EXPECT_TRUE(s.IsBusy()) << s.ToString();
    EXPECT_NE(s.message().find("locked by process " + std::to_string(pid)), std::string::npos)
        << s.ToString();
  }
  ::kill(pid, SIGKILL);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  std::unique_ptr<Store> store;
  Status s = Store::Open(Dir(), TestOptions(), &store);
  ASSERT_TRUE(s.ok()) << "after the writer died: " << s.ToString();
  EXPECT_EQ(store->GetSnapshot()->record_count(), 3u);
}

TEST_F(MultiProcessTest, ReadOnlyOpenNeverCreates) {
  Options opt = TestOptions();
  opt.read_only = true;
  opt.create_if_missing = true;
  std::unique_ptr<Store> store;
  Status s = Store::Open(Dir(), opt, &store);
  EXPECT_FALSE(s.ok()) << "a read-only Open created a store";
  EXPECT_FALSE(std::filesystem::exists(Dir() + "/META"));
}

}  // namespace
}  // namespace zcmedia
