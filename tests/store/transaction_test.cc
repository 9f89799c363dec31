// Transactions (zcmedia/store.h, class Transaction): isolation, rollback,
// savepoints, refused rows, checkpoints midway, two-phase commit and its
// recovery (Store::CommitPrepared), crash points, the writer's exclusion.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "fault_injection_env.h"
#include "stats.h"
#include "test_util.h"
#include "zcmedia/check.h"
#include "zcmedia/store.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ZC_TXN_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ZC_TXN_SANITIZED 1
#endif
#endif

namespace zcmedia {
namespace {

using test::OwnedRecord;
using test::TempDir;

Options TxnOptions(Env* env = nullptr, size_t budget = Options{}.memory_budget) {
  Options o = test::BudgetOptions(budget);
  o.env = env;
  o.lock_timeout = std::chrono::milliseconds(100);
  return o;
}

std::unique_ptr<Store> OpenStore(const std::string& dir, const Options& o) {
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir, o, &store);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return store;
}

// Records n in [first, first + count) committed by Store::Write.
void Load(Store& store, int first, int count) {
  WriteBatch b;
  for (int n = first; n < first + count; ++n) b.Put(OwnedRecord::Sample(n).fields());
  Status s = store.Write(b);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

Status PutOne(Transaction& txn, int n, int64_t* id = nullptr) {
  WriteBatch b;
  OwnedRecord r = OwnedRecord::Sample(n);
  b.Put(r.fields());
  std::vector<int64_t> ids;
  Status s = txn.Write(b, &ids);
  if (s.ok() && id != nullptr) *id = ids.at(0);
  return s;
}

bool Has(const Snapshot& snap, int n) {
  MediaFileView v;
  return snap.FindByPath(OwnedRecord::Sample(n).path, &v).ok();
}

std::set<std::string> Files(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

void ExpectSound(const std::string& dir) {
  CheckReport report;
  Status s = CheckStore(dir, /*deep=*/true, &report, test::BudgetOptions());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(report.ok()) << dir;
}

TEST(TransactionTest, OwnWritesVisibleInsideOnlyUntilCommit) {
  TempDir dir;
  auto store = OpenStore(dir.path(), TxnOptions());
  Load(*store, 0, 10);
  const uint64_t seq0 = store->GetSnapshot()->sequence();

  std::unique_ptr<Transaction> txn;
  ASSERT_TRUE(store->BeginTransaction(&txn).ok());
  int64_t id = 0;
  ASSERT_TRUE(PutOne(*txn, 100, &id).ok());
  EXPECT_EQ(id, 11);
  auto inside = txn->GetSnapshot();
  EXPECT_TRUE(Has(*inside, 100));
  EXPECT_TRUE(Has(*inside, 3));
  EXPECT_EQ(inside->record_count(), 11u);
  EXPECT_EQ(inside->totals().total_files(), 11u);
  MediaFileView v;
  ASSERT_TRUE(inside->Get(id, &v).ok());
  EXPECT_EQ(v.path(), OwnedRecord::Sample(100).path);
  std::vector<DirectoryInfo> dirs;
  ASSERT_TRUE(inside->ListSubdirectories("/media/music", std::nullopt, &dirs).ok());

  // Update and remove committed records inside.
  WriteBatch b;
  OwnedRecord changed = OwnedRecord::Sample(200);
  b.Update(1, changed.fields());
  b.Remove(2);
  ASSERT_TRUE(txn->Write(b).ok());
  EXPECT_TRUE(b.empty());
  inside = txn->GetSnapshot();
  EXPECT_TRUE(inside->Get(2, &v).IsNotFound());
  ASSERT_TRUE(inside->Get(1, &v).ok());
  EXPECT_EQ(v.path(), changed.path);

  // Nobody else sees any of it.
  auto outside = store->GetSnapshot();
  EXPECT_EQ(outside->sequence(), seq0);
  EXPECT_FALSE(Has(*outside, 100));
  EXPECT_TRUE(outside->Get(2, &v).ok());
  EXPECT_EQ(outside->record_count(), 10u);
  {
    Options ro = TxnOptions();
    ro.read_only = true;
    auto reader = OpenStore(dir.path(), ro);
    EXPECT_FALSE(Has(*reader->GetSnapshot(), 100));
    EXPECT_EQ(reader->GetSnapshot()->record_count(), 10u);
  }

  ASSERT_TRUE(txn->Commit().ok());
  txn.reset();
  auto after = store->GetSnapshot();
  EXPECT_EQ(after->sequence(), seq0 + 1);
  EXPECT_TRUE(Has(*after, 100));
  EXPECT_TRUE(after->Get(2, &v).IsNotFound());
  EXPECT_EQ(after->record_count(), 10u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/PREPARED"));
  store.reset();
  store = OpenStore(dir.path(), TxnOptions());
  EXPECT_TRUE(Has(*store->GetSnapshot(), 100));
  EXPECT_EQ(store->GetSnapshot()->record_count(), 10u);
  store.reset();
  ExpectSound(dir.path());
}

TEST(TransactionTest, RollbackLeavesNothing) {
  TempDir dir;
  auto store = OpenStore(dir.path(), TxnOptions());
  Load(*store, 0, 10);
  const std::set<std::string> files = Files(dir.path());
  const uint64_t seq0 = store->GetSnapshot()->sequence();
  for (int explicit_rollback = 0; explicit_rollback < 2; ++explicit_rollback) {
    std::unique_ptr<Transaction> txn;
    ASSERT_TRUE(store->BeginTransaction(&txn).ok());
    for (int n = 100; n < 3100; ++n) ASSERT_TRUE(PutOne(*txn, n).ok());
    EXPECT_EQ(txn->GetSnapshot()->record_count(), 3010u);
    if (explicit_rollback) txn->Rollback();
    txn.reset();  // the destructor rolls back
    EXPECT_EQ(store->GetSnapshot()->sequence(), seq0);
    EXPECT_FALSE(Has(*store->GetSnapshot(), 100));
  }
  EXPECT_EQ(Files(dir.path()), files);
  // The writer is free again, and the rolled-back ids are assigned anew.
  WriteBatch b;
  b.Put(OwnedRecord::Sample(5000).fields());
  std::vector<int64_t> ids;
  ASSERT_TRUE(store->Write(b, &ids).ok());
  EXPECT_EQ(ids.at(0), 11);
  store.reset();
  store = OpenStore(dir.path(), TxnOptions());
  EXPECT_EQ(store->GetSnapshot()->record_count(), 11u);
  EXPECT_FALSE(Has(*store->GetSnapshot(), 100));
  store.reset();
  ExpectSound(dir.path());
}

TEST(TransactionTest, NestedSavepoints) {
  TempDir dir;
  auto store = OpenStore(dir.path(), TxnOptions());
  Load(*store, 0, 5);
  std::unique_ptr<Transaction> txn;
  ASSERT_TRUE(store->BeginTransaction(&txn).ok());
  const uint64_t m1 = txn->Mark();
  ASSERT_TRUE(PutOne(*txn, 100).ok());
  const uint64_t m2 = txn->Mark();
  ASSERT_TRUE(PutOne(*txn, 101).ok());
  WriteBatch rm;
  rm.Remove(1);
  ASSERT_TRUE(txn->Write(rm).ok());
  const uint64_t m3 = txn->Mark();
  ASSERT_TRUE(PutOne(*txn, 102).ok());

  ASSERT_TRUE(txn->RollbackTo(m2).ok());
  auto s = txn->GetSnapshot();
  EXPECT_TRUE(Has(*s, 100));
  EXPECT_FALSE(Has(*s, 101));
  EXPECT_FALSE(Has(*s, 102));
  EXPECT_TRUE(Has(*s, 1));
  EXPECT_EQ(s->record_count(), 6u);
  EXPECT_TRUE(txn->RollbackTo(m3).IsInvalidArgument());  // after m2: gone

  ASSERT_TRUE(PutOne(*txn, 103).ok());
  ASSERT_TRUE(txn->RollbackTo(m2).ok());  // m2 stays valid
  EXPECT_FALSE(Has(*txn->GetSnapshot(), 103));
  ASSERT_TRUE(txn->RollbackTo(m1).ok());
  s = txn->GetSnapshot();
  EXPECT_FALSE(Has(*s, 100));
  EXPECT_EQ(s->record_count(), 5u);
  EXPECT_TRUE(txn->RollbackTo(m2).IsInvalidArgument());
  EXPECT_TRUE(txn->RollbackTo(12345).IsInvalidArgument());

  int64_t id = 0;
  ASSERT_TRUE(PutOne(*txn, 104, &id).ok());
  EXPECT_EQ(id, 6);  // the rolled-back ids were never committed
  ASSERT_TRUE(txn->Commit().ok());
  txn.reset();
  s = store->GetSnapshot();
  EXPECT_TRUE(Has(*s, 104));
  EXPECT_FALSE(Has(*s, 100));
  EXPECT_FALSE(Has(*s, 103));
  EXPECT_EQ(s->record_count(), 6u);
  store.reset();
  ExpectSound(dir.path());
}

TEST(TransactionTest, RefusedRowLeavesTransactionUnchanged) {
  TempDir dir;
  auto store = OpenStore(dir.path(), TxnOptions());
  Load(*store, 0, 5);
  std::unique_ptr<Transaction> txn;
  ASSERT_TRUE(store->BeginTransaction(&txn).ok());
  ASSERT_TRUE(PutOne(*txn, 100).ok());
  int64_t playlist = 0;
  {
    WriteBatch b;
    PlaylistFields p;
    p.name = "Mix";
    b.PutPlaylist(p);
    std::vector<int64_t> ids;
    ASSERT_TRUE(txn->Write(b, &ids).ok());
    playlist = ids.at(0);
    PlaylistEntryFields e;
    e.playlist_id = playlist;
    e.media_file_id = 1;
    e.position = 0;
    b.PutPlaylistEntry(e);
    ASSERT_TRUE(txn->Write(b).ok());
  }
  auto before = txn->GetSnapshot();
  const uint64_t count = before->record_count();
  const int64_t next_id = before->next_id();

  auto refuse = [&](WriteBatch& b, const char* what) {
    SCOPED_TRACE(what);
    const size_t size = b.size(), bytes = b.ByteSize();
    Status s = txn->Write(b);
    EXPECT_TRUE(s.IsConstraint()) << s.ToString();
    EXPECT_NE(s.message().find("batch entry"), std::string::npos) << s.ToString();
    EXPECT_EQ(b.size(), size);  // left as it was
    EXPECT_EQ(b.ByteSize(), bytes);
    auto now = txn->GetSnapshot();
    EXPECT_EQ(now->record_count(), count);
    EXPECT_EQ(now->next_id(), next_id);
    EXPECT_EQ(now->playlist_entry_count(), 1u);
  };
  {
    WriteBatch b;
    b.Put(OwnedRecord::Sample(3).fields());  // committed path
    refuse(b, "duplicate committed path");
  }
  {
    WriteBatch b;
    b.Put(OwnedRecord::Sample(100).fields());  // this transaction's path
    refuse(b, "duplicate own path");
  }
  {
    WriteBatch b;
    b.Update(999, OwnedRecord::Sample(300).fields());
    refuse(b, "unknown id");
  }
  {
    WriteBatch b;
    b.Remove(999);
    refuse(b, "remove unknown id");
  }
  {
    WriteBatch b;
    PlaylistFields p;
    p.name = "Mix";
    b.PutPlaylist(p);
    refuse(b, "duplicate playlist name");
  }
  {
    WriteBatch b;
    PlaylistEntryFields e;
    e.playlist_id = playlist;
    e.media_file_id = 2;
    e.position = 0;
    b.PutPlaylistEntry(e);
    refuse(b, "duplicate position");
  }
  {
    WriteBatch b;
    PlaylistEntryFields e;
    e.playlist_id = playlist + 50;
    e.media_file_id = 2;
    b.PutPlaylistEntry(e);
    refuse(b, "unknown playlist");
  }
  {
    // Several entries: the second is refused, the first is not kept.
    WriteBatch b;
    b.Put(OwnedRecord::Sample(400).fields());
    b.Put(OwnedRecord::Sample(4).fields());
    Status s = txn->Write(b);
    EXPECT_TRUE(s.IsConstraint()) << s.ToString();
    EXPECT_NE(s.message().find("batch entry 1"), std::string::npos) << s.ToString();
    EXPECT_FALSE(Has(*txn->GetSnapshot(), 400));
    EXPECT_EQ(txn->GetSnapshot()->record_count(), count);
  }
  // Later writes go on as if nothing happened.
  int64_t id = 0;
  ASSERT_TRUE(PutOne(*txn, 101, &id).ok());
  EXPECT_EQ(id, next_id);
  {
    WriteBatch b;
    PlaylistEntryFields e;
    e.playlist_id = playlist;
    e.media_file_id = 2;
    e.position = 1;
    b.PutPlaylistEntry(e);
    b.Remove(1);  // cascades to the first entry
    ASSERT_TRUE(txn->Write(b).ok());
  }
  ASSERT_TRUE(txn->Commit().ok());
  txn.reset();
  auto s = store->GetSnapshot();
  EXPECT_TRUE(Has(*s, 100));
  EXPECT_TRUE(Has(*s, 101));
  EXPECT_EQ(s->playlist_count(), 1u);
  EXPECT_EQ(s->playlist_entry_count(), 1u);
  store.reset();
  ExpectSound(dir.path());
}

// A transaction of many rows at the smallest budget: its in-memory runs are
// written out midway and it rolls to new segments.
TEST(TransactionTest, BigTransactionCheckpointsMidway) {
  constexpr int kRows = 40000;
  for (int commit = 0; commit < 2; ++commit) {
    SCOPED_TRACE(commit ? "commit" : "rollback");
    TempDir dir;
    Options o = TxnOptions(nullptr, size_t{1} << 20);
    o.segment_max_bytes = uint64_t{4} << 20;
    auto store = OpenStore(dir.path(), o);
    Load(*store, 0, 100);
    const std::set<std::string> files = Files(dir.path());
    std::unique_ptr<Transaction> txn;
    ASSERT_TRUE(store->BeginTransaction(&txn).ok());
    const uint64_t anon_before = ProcessAnonBytes();
    uint64_t anon_peak = anon_before;
    uint64_t mark = 0;
    for (int n = 1000; n < 1000 + kRows; ++n) {
      if (n == 1000 + kRows / 2) mark = txn->Mark();
      ASSERT_TRUE(PutOne(*txn, n).ok()) << n;
      if (n % 5000 == 0) anon_peak = std::max(anon_peak, ProcessAnonBytes());
    }
    size_t runs = 0, segments = 0;
    for (const std::string& f : Files(dir.path())) {
      runs += f.rfind("idx-", 0) == 0 && !files.count(f);
      segments += f.rfind("seg-", 0) == 0 && !files.count(f);
    }
    EXPECT_GT(runs, 0u) << "no checkpoint during the transaction";
    EXPECT_GT(segments, 0u) << "no new segment during the transaction";
    EXPECT_EQ(store->GetSnapshot()->record_count(), 100u);
#ifndef ZC_TXN_SANITIZED
    EXPECT_LT(anon_peak - anon_before, uint64_t{3} << 20) << "anonymous memory grew with the transaction";
#endif
    // Undo the second half (run files and segments made since go), redo a bit.
    ASSERT_TRUE(txn->RollbackTo(mark).ok());
    auto inside = txn->GetSnapshot();
    EXPECT_EQ(inside->record_count(), 100u + kRows / 2);
    EXPECT_TRUE(Has(*inside, 1000 + kRows / 2 - 1));
    EXPECT_FALSE(Has(*inside, 1000 + kRows / 2));
    ASSERT_TRUE(PutOne(*txn, 1000 + kRows - 1).ok());
    if (commit) {
      ASSERT_TRUE(txn->Commit().ok());
    } else {
      txn->Rollback();
    }
    txn.reset();
    auto s = store->GetSnapshot();
    EXPECT_EQ(s->record_count(), commit ? 100u + kRows / 2 + 1 : 100u);
    for (int n : {0, 1000, 1000 + kRows / 4, 1000 + kRows / 2 - 1, 1000 + kRows - 1})
      EXPECT_EQ(Has(*s, n), n < 1000 || commit) << n;
    EXPECT_FALSE(Has(*s, 1000 + kRows / 2));
    if (!commit) {
      EXPECT_EQ(Files(dir.path()), files);
    }
    // And the store keeps working.
    Load(*store, 100000, 10);
    store.reset();
    store = OpenStore(dir.path(), o);
    s = store->GetSnapshot();
    EXPECT_EQ(s->record_count(), (commit ? 100u + kRows / 2 + 1 : 100u) + 10u);
    EXPECT_EQ(Has(*s, 1000 + kRows / 4), commit == 1);
    store.reset();
    ExpectSound(dir.path());
  }
}

TEST(TransactionTest, EmptyTransactionAndMisuse) {
  TempDir dir;
  auto store = OpenStore(dir.path(), TxnOptions());
  Load(*store, 0, 3);
  const uint64_t seq0 = store->GetSnapshot()->sequence();
  std::unique_ptr<Transaction> txn;
  ASSERT_TRUE(store->BeginTransaction(&txn).ok());
  uint64_t seq = 0;
  ASSERT_TRUE(txn->Prepare(&seq).ok());
  EXPECT_EQ(seq, seq0);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/PREPARED"));
  ASSERT_TRUE(txn->Commit().ok());
  EXPECT_EQ(store->GetSnapshot()->sequence(), seq0);
  txn.reset();

  ASSERT_TRUE(store->BeginTransaction(&txn).ok());
  ASSERT_TRUE(PutOne(*txn, 10).ok());
  ASSERT_TRUE(txn->Prepare(&seq).ok());
  EXPECT_EQ(seq, seq0 + 1);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/PREPARED"));
  EXPECT_TRUE(PutOne(*txn, 11).IsInvalidArgument());
  uint64_t again = 0;
  ASSERT_TRUE(txn->Prepare(&again).ok());
  EXPECT_EQ(again, seq);
  txn->Rollback();  // after Prepare: the PREPARED goes too
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/PREPARED"));
  EXPECT_FALSE(txn->Commit().ok());
  txn.reset();
  EXPECT_FALSE(Has(*store->GetSnapshot(), 10));

  Options ro = TxnOptions();
  ro.read_only = true;
  auto reader = OpenStore(dir.path(), ro);
  EXPECT_TRUE(reader->BeginTransaction(&txn).IsReadOnly());
  EXPECT_TRUE(reader->CommitPrepared(seq0 + 1).IsReadOnly());
}

TEST(TransactionTest, BeginTwiceIsBusyAfterTheTimeout) {
  TempDir dir;
  auto store = OpenStore(dir.path(), TxnOptions());
  std::unique_ptr<Transaction> t1, t2;
  ASSERT_TRUE(store->BeginTransaction(&t1).ok());
  const auto start = std::chrono::steady_clock::now();
  Status s = store->BeginTransaction(&t2);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find("store is in a transaction of this process"), std::string::npos) << s.ToString();
  EXPECT_GE(waited, std::chrono::milliseconds(90));
  EXPECT_EQ(t2, nullptr);
  WriteBatch b;
  b.Put(OwnedRecord::Sample(1).fields());
  EXPECT_TRUE(store->Write(b).IsBusy());
  EXPECT_TRUE(store->CompactIndexes().IsBusy());
  // Another thread waits for the writer and gets it when t1 ends.
  std::thread other([&] {
    Status st = store->Write(b);
    EXPECT_TRUE(st.ok() || st.IsBusy()) << st.ToString();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(PutOne(*t1, 2).ok());
  ASSERT_TRUE(t1->Commit().ok());
  other.join();
  t1.reset();
  ASSERT_TRUE(store->BeginTransaction(&t2).ok());
  t2.reset();
}

TEST(TransactionTest, ReadersNeverSeeUncommittedData) {
  TempDir dir;
  auto store = OpenStore(dir.path(), TxnOptions(nullptr, size_t{1} << 20));
  Load(*store, 0, 50);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, bad{0};
  std::thread reader([&] {
    while (!stop.load()) {
      auto s = store->GetSnapshot();
      const bool committed = s->record_count() == 50 + 5000;
      if (s->record_count() != 50 && !committed) ++bad;
      if (!committed && (Has(*s, 1000) || Has(*s, 5999))) ++bad;
      if (committed && !(Has(*s, 1000) && Has(*s, 5999))) ++bad;
      ++reads;
    }
  });
  std::unique_ptr<Transaction> txn;
  ASSERT_TRUE(store->BeginTransaction(&txn).ok());
  for (int n = 1000; n < 6000; ++n) {
    ASSERT_TRUE(PutOne(*txn, n).ok());
    if (n % 1000 == 0) {
      EXPECT_TRUE(Has(*txn->GetSnapshot(), n));
    }
  }
  EXPECT_EQ(store->GetSnapshot()->record_count(), 50u);
  ASSERT_TRUE(txn->Commit().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(store->GetSnapshot()->record_count(), 5050u);
}

// Prepare, then the process dies before Commit.
TEST(TransactionTest, CommitPreparedAfterCrash) {
  TempDir dir;
  FaultInjectionEnv env;
  Options o = TxnOptions(&env, size_t{1} << 20);
  o.segment_max_bytes = uint64_t{1} << 20;
  uint64_t seq0 = 0, seq = 0;
  {
    auto store = OpenStore(dir.path(), o);
    Load(*store, 0, 20);
    seq0 = store->GetSnapshot()->sequence();
    std::unique_ptr<Transaction> txn;
    ASSERT_TRUE(store->BeginTransaction(&txn).ok());
    for (int n = 1000; n < 9000; ++n) ASSERT_TRUE(PutOne(*txn, n).ok());  // checkpoints, several segments
    WriteBatch b;
    b.Remove(3);
    ASSERT_TRUE(txn->Write(b).ok());
    ASSERT_TRUE(txn->Prepare(&seq).ok());
    EXPECT_EQ(seq, seq0 + 1);
    env.SetFailAfterWrites(0);  // power loss: the rollback of the destructor reaches nothing
    txn.reset();
    store.reset();
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  env.SetFailAfterWrites(-1);

  for (int reopen = 0; reopen < 2; ++reopen) {  // Open keeps the prepared files
    auto store = OpenStore(dir.path(), o);
    auto s = store->GetSnapshot();
    EXPECT_EQ(s->sequence(), seq0);
    EXPECT_FALSE(Has(*s, 1000));
    EXPECT_EQ(s->record_count(), 20u);
  }
  {
    Options ro = o;
    ro.read_only = true;
    auto reader = OpenStore(dir.path(), ro);
    EXPECT_EQ(reader->GetSnapshot()->record_count(), 20u);
  }
  auto store = OpenStore(dir.path(), o);
  Status st = store->CommitPrepared(seq + 1);
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find("store lost a prepared transaction"), std::string::npos) << st.ToString();
  EXPECT_TRUE(store->CommitPrepared(seq0).ok());  // committed already: nothing to do
  EXPECT_EQ(store->GetSnapshot()->sequence(), seq0);
  st = store->CommitPrepared(seq);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto s = store->GetSnapshot();
  EXPECT_EQ(s->sequence(), seq);
  EXPECT_TRUE(Has(*s, 1000));
  EXPECT_TRUE(Has(*s, 8999));
  EXPECT_FALSE(Has(*s, 2));  // id 3
  EXPECT_TRUE(Has(*s, 3));
  EXPECT_EQ(s->record_count(), 20u + 8000u - 1u);
  EXPECT_TRUE(store->CommitPrepared(seq).ok());  // again: nothing to do
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/PREPARED"));
  store.reset();
  store = OpenStore(dir.path(), o);
  EXPECT_EQ(store->GetSnapshot()->record_count(), 20u + 8000u - 1u);
  store.reset();
  ExpectSound(dir.path());
}

// A leftover PREPARED is discarded by the next write: never committed after.
TEST(TransactionTest, WriteDiscardsAPreparedTransaction) {
  TempDir dir;
  FaultInjectionEnv env;
  Options o = TxnOptions(&env);
  uint64_t seq = 0;
  {
    auto store = OpenStore(dir.path(), o);
    Load(*store, 0, 5);
    std::unique_ptr<Transaction> txn;
    ASSERT_TRUE(store->BeginTransaction(&txn).ok());
    ASSERT_TRUE(PutOne(*txn, 100).ok());
    ASSERT_TRUE(txn->Prepare(&seq).ok());
    env.SetFailAfterWrites(0);
    txn.reset();
    store.reset();
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  env.SetFailAfterWrites(-1);
  auto store = OpenStore(dir.path(), o);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/PREPARED"));
  Load(*store, 200, 1);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/PREPARED"));
  EXPECT_TRUE(store->CommitPrepared(seq).ok());  // the store is at seq now: nothing to do
  auto s = store->GetSnapshot();
  EXPECT_FALSE(Has(*s, 100));
  EXPECT_TRUE(Has(*s, 200));
  store.reset();
  ExpectSound(dir.path());
}

// Power loss after every possible number of write operations of a
// transaction's Prepare and Commit: the store holds the old state or the new
// one, and once Prepare has returned OK, CommitPrepared gives the new one.
TEST(TransactionTest, CrashAtEveryWriteOperationOfPrepareAndCommit) {
  TempDir tmp;
  const std::string base = tmp.path() + "/base";
  Options plain = TxnOptions(nullptr, size_t{1} << 20);
  plain.segment_max_bytes = uint64_t{1} << 20;
  {
    auto store = OpenStore(base, plain);
    Load(*store, 0, 30);
  }
  constexpr int kRows = 4000;  // a checkpoint and a new segment on the way
  auto run = [&](Store& store, uint64_t* prepared_seq) -> Status {
    *prepared_seq = 0;
    std::unique_ptr<Transaction> txn;
    ZC_RETURN_IF_ERROR(store.BeginTransaction(&txn));
    for (int n = 1000; n < 1000 + kRows; ++n) ZC_RETURN_IF_ERROR(PutOne(*txn, n));
    WriteBatch b;
    b.Remove(7);
    ZC_RETURN_IF_ERROR(txn->Write(b));
    uint64_t seq = 0;
    ZC_RETURN_IF_ERROR(txn->Prepare(&seq));
    *prepared_seq = seq;
    return txn->Commit();
  };
  auto copy = [&](const std::string& to) {
    std::filesystem::create_directories(to);
    for (const auto& e : std::filesystem::directory_iterator(base))
      std::filesystem::copy_file(e.path(), std::filesystem::path(to) / e.path().filename());
  };
  int64_t total = 0;
  {
    const std::string dir = tmp.path() + "/count";
    copy(dir);
    FaultInjectionEnv env;
    Options o = plain;
    o.env = &env;
    auto store = OpenStore(dir, o);
    env.ResetCounters();
    uint64_t seq = 0;
    ASSERT_TRUE(run(*store, &seq).ok());
    total = env.write_ops();
  }
  ASSERT_GT(total, 10);
  const int64_t stride = std::max<int64_t>(1, total / 250);  // every crash point at this size
  int old_states = 0, new_states = 0, recovered = 0;
  for (int64_t n = 0; n <= total; n += stride) {
    SCOPED_TRACE("crash after " + std::to_string(n) + " of " + std::to_string(total) + " write operations");
    const std::string dir = tmp.path() + "/trial" + std::to_string(n);
    copy(dir);
    FaultInjectionEnv env;
    Options o = plain;
    o.env = &env;
    uint64_t prepared_seq = 0, seq0 = 0;
    {
      auto store = OpenStore(dir, o);
      seq0 = store->GetSnapshot()->sequence();
      env.SetFailAfterWrites(static_cast<int>(n));
      (void)run(*store, &prepared_seq);
      env.SetFailAfterWrites(0);
      store.reset();
    }
    ASSERT_TRUE(env.DropUnsyncedData().ok());
    auto store = OpenStore(dir, plain);
    ASSERT_NE(store, nullptr);
    auto s = store->GetSnapshot();
    const bool is_new = s->record_count() == 30 + kRows - 1;
    if (is_new) {
      ++new_states;
      EXPECT_EQ(s->sequence(), seq0 + 1);
    } else {
      ++old_states;
      EXPECT_EQ(s->record_count(), 30u);
      EXPECT_EQ(s->sequence(), seq0);
    }
    for (int r : {5, 6, 1000, 1000 + kRows / 2, 1000 + kRows - 1})  // 6 is id 7
      EXPECT_EQ(Has(*s, r), r == 5 || (r == 6 ? !is_new : is_new)) << r;
    if (prepared_seq != 0) {
      Status st = store->CommitPrepared(prepared_seq);
      ASSERT_TRUE(st.ok()) << st.ToString();
      s = store->GetSnapshot();
      EXPECT_EQ(s->record_count(), 30u + kRows - 1);
      EXPECT_TRUE(Has(*s, 1000 + kRows - 1));
      recovered += is_new ? 0 : 1;
    }
    Load(*store, 100000, 3);  // writable afterwards
    store.reset();
    ExpectSound(dir);
    if (::testing::Test::HasFatalFailure()) return;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  EXPECT_GT(old_states, 0);
  EXPECT_GT(new_states, 0);
  EXPECT_GT(recovered, 0);
}

// Power loss during CommitPrepared itself: old or new state, and a second
// CommitPrepared finishes the job.
TEST(TransactionTest, CrashAtEveryWriteOperationOfCommitPrepared) {
  TempDir tmp;
  const std::string base = tmp.path() + "/base";
  Options plain = TxnOptions(nullptr, size_t{1} << 20);
  plain.segment_max_bytes = uint64_t{1} << 20;
  uint64_t seq = 0;
  {
    FaultInjectionEnv env;
    Options o = plain;
    o.env = &env;
    auto store = OpenStore(base, o);
    Load(*store, 0, 30);
    std::unique_ptr<Transaction> txn;
    ASSERT_TRUE(store->BeginTransaction(&txn).ok());
    for (int n = 1000; n < 4000; ++n) ASSERT_TRUE(PutOne(*txn, n).ok());
    ASSERT_TRUE(txn->Prepare(&seq).ok());
    env.SetFailAfterWrites(0);
    txn.reset();
    store.reset();
    ASSERT_TRUE(env.DropUnsyncedData().ok());
  }
  auto copy = [&](const std::string& to) {
    std::filesystem::create_directories(to);
    for (const auto& e : std::filesystem::directory_iterator(base))
      std::filesystem::copy_file(e.path(), std::filesystem::path(to) / e.path().filename());
  };
  int64_t total = 0;
  {
    const std::string dir = tmp.path() + "/count";
    copy(dir);
    FaultInjectionEnv env;
    Options o = plain;
    o.env = &env;
    auto store = OpenStore(dir, o);
    env.ResetCounters();
    ASSERT_TRUE(store->CommitPrepared(seq).ok());
    total = env.write_ops();
  }
  ASSERT_GT(total, 0);
  for (int64_t n = 0; n <= total; ++n) {
    SCOPED_TRACE("crash after " + std::to_string(n) + " of " + std::to_string(total) + " write operations");
    const std::string dir = tmp.path() + "/trial" + std::to_string(n);
    copy(dir);
    FaultInjectionEnv env;
    Options o = plain;
    o.env = &env;
    {
      auto store = OpenStore(dir, o);
      env.SetFailAfterWrites(static_cast<int>(n));
      (void)store->CommitPrepared(seq);
      env.SetFailAfterWrites(0);
      store.reset();
    }
    ASSERT_TRUE(env.DropUnsyncedData().ok());
    auto store = OpenStore(dir, plain);
    ASSERT_NE(store, nullptr);
    const uint64_t count = store->GetSnapshot()->record_count();
    EXPECT_TRUE(count == 30u || count == 3030u) << count;
    Status st = store->CommitPrepared(seq);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(store->GetSnapshot()->record_count(), 3030u);
    EXPECT_TRUE(Has(*store->GetSnapshot(), 3999));
    store.reset();
    ExpectSound(dir);
    if (::testing::Test::HasFatalFailure()) return;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}

// A batch bigger than a pending log batch is appended in parts: a refusal
// at its end undoes the parts already appended.
TEST(TransactionTest, RefusedBigBatchIsUndoneWhole) {
  TempDir dir;
  auto store = OpenStore(dir.path(), TxnOptions(nullptr, size_t{1} << 20));
  Load(*store, 0, 10);
  std::unique_ptr<Transaction> txn;
  ASSERT_TRUE(store->BeginTransaction(&txn).ok());
  ASSERT_TRUE(PutOne(*txn, 100).ok());
  const size_t n = 3 * store->recommended_batch_records();
  WriteBatch b;
  for (size_t i = 0; i < n; ++i) b.Put(OwnedRecord::Sample(1000 + static_cast<int>(i)).fields());
  b.Put(OwnedRecord::Sample(100).fields());  // the transaction's own path: refused
  Status s = txn->Write(b);
  ASSERT_TRUE(s.IsConstraint()) << s.ToString();
  EXPECT_NE(s.message().find("batch entry " + std::to_string(n)), std::string::npos) << s.ToString();
  EXPECT_EQ(b.size(), n + 1);
  auto inside = txn->GetSnapshot();
  EXPECT_EQ(inside->record_count(), 11u);
  EXPECT_FALSE(Has(*inside, 1000));
  EXPECT_TRUE(Has(*inside, 100));
  b.Clear();
  for (size_t i = 0; i < n; ++i) b.Put(OwnedRecord::Sample(1000 + static_cast<int>(i)).fields());
  std::vector<int64_t> ids;
  ASSERT_TRUE(txn->Write(b, &ids).ok());
  EXPECT_EQ(ids.front(), 12);
  ASSERT_TRUE(txn->Commit().ok());
  txn.reset();
  EXPECT_EQ(store->GetSnapshot()->record_count(), 11u + n);
  store.reset();
  ExpectSound(dir.path());
}

}  // namespace
}  // namespace zcmedia
