// Real crashes: a forked child ingests batches and is SIGKILLed at a random
// moment; the parent reopens the store and checks that every acknowledged
// batch is there, completely and with the right columns, that no batch is
// partly visible, and that the store takes new writes with fresh ids.
//
// The child's batches are a pure function of (seed, batch number) and the
// ids the store assigned, which the child reports with each acknowledgement,
// so the parent can recompute the exact expected state.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "store/durability_test_util.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using namespace durtest;  // NOLINT

constexpr uint64_t kMaxBatches = 4000;  // the child idles after this many

// ---- the workload (shared by child and parent) ------------------------------

// Every third seed uses bigger batches, so that index checkpoints and
// segment roll-overs (1 MiB segments) happen within the first ~50 ms.
size_t BatchSize(uint64_t seed, uint64_t k) {
  return 1 + Hash(seed, k, 77) % (seed % 3 == 0 ? 600 : 150);
}

std::string BatchDir(uint64_t k) {
  return "/c/d" + std::to_string(k % 5) + "/b" + std::to_string(k);
}

OwnedRecord Rec(uint64_t seed, uint64_t k, uint64_t i, uint64_t version) {
  return MakeRecord(seed, k, i, version, BatchDir(k));
}

// Batch k (k % 3 == 2) also updates record 0 of batch k-1 and removes the
// last record of batch k-2 (when that batch has more than one record).
bool UpdatesPrevious(uint64_t k) { return k >= 2 && k % 3 == 2; }
bool RemovesFrom(uint64_t seed, uint64_t k) {
  return UpdatesPrevious(k) && BatchSize(seed, k - 2) >= 2;
}

// The ack the child sends after each successful Write: batch number, then
// the ids assigned to its puts. At most 152 * 8 bytes < PIPE_BUF, so a write
// of one ack is atomic even when the child is killed.
struct AckHeader {
  uint64_t batch;
  uint64_t count;
};

[[noreturn]] void ChildMain(const std::string& dir, uint64_t seed, bool compact, int ack_fd) {
  std::unique_ptr<Store> store;
  if (!Store::Open(dir, TestOptions(), &store).ok()) _exit(2);
  std::vector<std::vector<int64_t>> ids;
  std::vector<uint8_t> msg;
  for (uint64_t k = 0; k < kMaxBatches; ++k) {
    std::vector<OwnedRecord> puts;
    const size_t n = BatchSize(seed, k);
    for (size_t i = 0; i < n; ++i) puts.push_back(Rec(seed, k, i, 0));
    WriteBatch b;
    for (const auto& r : puts) b.Put(r.Fields());
    OwnedRecord upd;
    if (UpdatesPrevious(k)) {
      upd = Rec(seed, k - 1, 0, k);
      b.Update(ids[k - 1][0], upd.Fields());
    }
    if (RemovesFrom(seed, k)) b.Remove(ids[k - 2].back());
    std::vector<int64_t> got;
    Status s = store->Write(b, &got);
    if (!s.ok() || got.size() != n) _exit(3);
    AckHeader h{k, n};
    msg.resize(sizeof(h) + n * sizeof(int64_t));
    std::memcpy(msg.data(), &h, sizeof(h));
    std::memcpy(msg.data() + sizeof(h), got.data(), n * sizeof(int64_t));
    if (::write(ack_fd, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) _exit(4);
    ids.push_back(std::move(got));
    if (compact && k % 4 == 3) {  // index merges, and every other time a full compaction
      const Status c = k % 8 == 7 ? store->Compact() : store->CompactIndexes();
      if (!c.ok()) _exit(5);
    }
  }
  for (;;) ::pause();  // wait for the kill
}

// ---- the parent --------------------------------------------------------------

struct TrialResult {
  uint64_t acked = 0;
  uint64_t present = 0;
  bool in_flight_present = false;
  uint64_t segments = 0, runs = 0;
};

// Parses acks; returns false (with a failure) if they are malformed.
bool ParseAcks(const std::string& bytes, std::vector<std::vector<int64_t>>* ids) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    AckHeader h;
    if (bytes.size() - pos < sizeof(h)) {
      ADD_FAILURE() << "torn ack header";
      return false;
    }
    std::memcpy(&h, bytes.data() + pos, sizeof(h));
    pos += sizeof(h);
    if (h.batch != ids->size() || h.count > 1000 ||
        bytes.size() - pos < h.count * sizeof(int64_t)) {
      ADD_FAILURE() << "malformed ack for batch " << h.batch;
      return false;
    }
    std::vector<int64_t> v(h.count);
    std::memcpy(v.data(), bytes.data() + pos, h.count * sizeof(int64_t));
    pos += h.count * sizeof(int64_t);
    ids->push_back(std::move(v));
  }
  return true;
}

void RunTrial(uint64_t seed, bool compact, TrialResult* result) {
  TempDir tmp("zccrash");
  ASSERT_TRUE(tmp.ok());
  const std::string dir = tmp.Sub("store");
  const int delay_us = static_cast<int>(Hash(seed, 999) % 50001);
  // One trial in ten may kill the child while it creates the store.
  const size_t min_acks = seed % 10 == 0 ? 0 : 1 + Hash(seed, 555) % 25;

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    ChildMain(dir, seed, compact, fds[1]);
  }
  ::close(fds[1]);

  // Read acks while waiting, so the child never blocks on a full pipe.
  std::string acks;
  char buf[65536];
  auto complete_acks = [&acks]() {
    size_t pos = 0, n = 0;
    AckHeader h;
    while (pos + sizeof(h) <= acks.size()) {
      std::memcpy(&h, acks.data() + pos, sizeof(h));
      const size_t len = sizeof(h) + h.count * sizeof(int64_t);
      if (pos + len > acks.size()) break;
      pos += len;
      ++n;
    }
    return n;
  };
  // First let the child get `min_acks` batches in (so the kill lands
  // mid-ingest however slow the machine is), then wait the random delay.
  while (complete_acks() < min_acks) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 60000) <= 0) break;  // bounded: a stuck child fails below
    ssize_t got = ::read(fds[0], buf, sizeof(buf));
    if (got <= 0) break;  // EOF: the child died on its own
    acks.append(buf, static_cast<size_t>(got));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(delay_us);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) break;
    pollfd p{fds[0], POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) {
      ssize_t got = ::read(fds[0], buf, sizeof(buf));
      if (got > 0) acks.append(buf, static_cast<size_t>(got));
      else break;  // EOF: the child died on its own
    } else if (r == 0 && left.count() == 0) {
      break;
    }
  }
  ::kill(pid, SIGKILL);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  for (;;) {
    ssize_t got = ::read(fds[0], buf, sizeof(buf));
    if (got <= 0) break;
    acks.append(buf, static_cast<size_t>(got));
  }
  ::close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
      << "child exited by itself: status " << (WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1)
      << " (2: Open failed, 3: Write failed, 4: ack pipe, 5: CompactIndexes or Compact failed)";

  std::vector<std::vector<int64_t>> ids;
  ASSERT_TRUE(ParseAcks(acks, &ids));
  const uint64_t acked = ids.size();
  ASSERT_GE(acked, min_acks) << "the child stalled before its first batches";
  result->acked = acked;

  std::unique_ptr<Store> store;
  Status s = Store::Open(dir, TestOptions(), &store);
  ASSERT_TRUE(s.ok()) << "reopen after the crash: " << s.ToString();
  auto snap = store->GetSnapshot();

  // The batch in flight (number `acked`) may have committed; find out.
  uint64_t present = acked;
  if (acked < kMaxBatches) {
    const size_t n = BatchSize(seed, acked);
    MediaFileView v;
    s = snap->FindByPath(Rec(seed, acked, 0, 0).path, &v);
    ASSERT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
    if (s.ok()) {
      std::vector<int64_t> found;
      for (size_t i = 0; i < n; ++i) {
        Status f = snap->FindByPath(Rec(seed, acked, i, 0).path, &v);
        ASSERT_TRUE(f.ok()) << "unacknowledged batch " << acked << " partly visible: record " << i
                            << " of " << n << ": " << f.ToString();
        found.push_back(v.id());
      }
      ids.push_back(std::move(found));
      present = acked + 1;
      result->in_flight_present = true;
    }
  }
  result->present = present;
  {
    StoreInfo info = store->Info();
    result->segments = info.segment_count;
    result->runs = info.index_runs;
  }

  // The batch after the in-flight one was never started.
  std::set<std::string> absent;
  for (uint64_t k = present; k < present + 2 && k < kMaxBatches; ++k)
    for (size_t i = 0; i < BatchSize(seed, k); ++i) absent.insert(Rec(seed, k, i, 0).path);

  // Expected state of batches [0, present).
  Model model;
  int64_t max_id = 0, prev_id = 0;
  std::set<std::string> dirs;
  for (uint64_t k = 0; k < present; ++k) {
    const size_t n = BatchSize(seed, k);
    ASSERT_EQ(ids[k].size(), n);
    dirs.insert(BatchDir(k));
    for (size_t i = 0; i < n; ++i) {
      const int64_t id = ids[k][i];
      EXPECT_GT(id, prev_id) << "ids must grow with every put (batch " << k << " record " << i
                             << ")";
      prev_id = id;
      max_id = std::max(max_id, id);
      uint64_t version = 0;
      if (i == 0 && UpdatesPrevious(k + 1) && k + 1 < present) version = k + 1;
      const bool removed = RemovesFrom(seed, k + 2) && k + 2 < present && i == n - 1;
      OwnedRecord r = Rec(seed, k, i, version);
      r.id = id;
      if (removed) absent.insert(r.path);
      else model[id] = std::move(r);
    }
  }
  ReadReport rep = ReadAndCheck(*snap, model, absent, dirs);
  ASSERT_TRUE(rep.clean()) << "acked " << acked << ", present " << present << "\n"
                           << rep.Summary();
  EXPECT_GT(snap->next_id(), max_id);

  // New writes work and never reuse an id.
  std::vector<OwnedRecord> extra;
  for (uint64_t i = 0; i < 5; ++i) extra.push_back(MakeRecord(seed, 1u << 30, i, 0, "/after"));
  s = PutBatch(*store, extra);
  ASSERT_TRUE(s.ok()) << "write after crash: " << s.ToString();
  for (auto& r : extra) {
    EXPECT_GT(r.id, max_id) << "id reused after crash";
    model[r.id] = r;
  }
  snap.reset();
  store.reset();
  ASSERT_TRUE(Store::Open(dir, TestOptions(), &store).ok());
  rep = ReadAndCheck(*store->GetSnapshot(), model, absent);
  EXPECT_TRUE(rep.clean()) << "after the post-crash write and another reopen:\n"
                           << rep.Summary();
}

void RunTrials(uint64_t first_seed, int trials, bool compact) {
  uint64_t total_acked = 0;
  int killed_mid_run = 0, in_flight_seen = 0, multi_segment = 0, with_runs = 0;
  for (int t = 0; t < trials; ++t) {
    const uint64_t seed = first_seed + static_cast<uint64_t>(t);
    SCOPED_TRACE("seed " + std::to_string(seed) + (compact ? " (compacting)" : ""));
    TrialResult r;
    RunTrial(seed, compact, &r);
    if (::testing::Test::HasFatalFailure()) return;
    total_acked += r.acked;
    killed_mid_run += (r.acked > 0 && r.acked < kMaxBatches) ? 1 : 0;
    in_flight_seen += r.in_flight_present ? 1 : 0;
    multi_segment += r.segments > 1 ? 1 : 0;
    with_runs += r.runs > 0 ? 1 : 0;
  }
  std::cerr << "crash trials: " << trials << ", batches acknowledged " << total_acked
            << ", killed mid-ingest " << killed_mid_run
            << ", in-flight batch found committed " << in_flight_seen
            << ", several segments " << multi_segment << ", index runs " << with_runs << "\n";
  EXPECT_GT(total_acked, static_cast<uint64_t>(trials));
}

TEST(CrashRecoveryTest, KillDuringIngest) { RunTrials(1000, 80, false); }

// SIGKILL at random moments of ingest, index merges and full compactions.
TEST(CrashRecoveryTest, KillDuringIngestWithIndexCompaction) { RunTrials(5000, 24, true); }

}  // namespace
}  // namespace zcmedia
