// Power loss and I/O failures, simulated with FaultInjectionEnv.
//
// The contract under test (store.h): Write returns OK only after the batch and
// then the new committed watermark are durable; a batch is all or nothing; a
// failed Write stores nothing; ids are never reused.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "store/durability_test_util.h"
#include "store/fault_injection_env.h"
#include "zcmedia/env.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using namespace durtest;  // NOLINT

constexpr uint64_t kSeed = 0xfa017;

std::string Base(const std::string& path) {
  size_t s = path.rfind('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}
bool IsSegment(const std::string& path) {
  std::string b = Base(path);
  return b.rfind("seg-", 0) == 0 && b.size() > 4 && b.substr(b.size() - 4) == ".zcs";
}
bool IsMeta(const std::string& path) { return Base(path) == "META"; }

// One commit's worth of changes. Records are owned here, so the strings stay
// alive until Write returns.
struct Step {
  std::vector<OwnedRecord> puts;
  std::vector<OwnedRecord> updates;  // id = the record replaced
  std::vector<int64_t> removes;
  bool compact = false;  // a CompactIndexes() call instead of a batch
};

// Batch k: n puts under /fi/d<k%3>/b<k>, plus (when the model is big enough)
// an update of its record number 2*(k%50) and the removal of number
// 2*(k%50)+1 (in id order), so steps built from one model never collide.
Step MakeStep(uint64_t k, const Model& model, size_t n) {
  Step s;
  const std::string dir = "/fi/d" + std::to_string(k % 3) + "/b" + std::to_string(k);
  for (size_t i = 0; i < n; ++i) s.puts.push_back(MakeRecord(kSeed, k, i, 0, dir));
  const size_t u = 2 * (k % 50);
  if (model.size() > u + 1) {
    auto it = std::next(model.begin(), static_cast<std::ptrdiff_t>(u));
    const OwnedRecord& old = it->second;
    // New columns, same path (a rescan of the same file).
    OwnedRecord fresh = MakeRecord(kSeed, k + 1000, 0, k + 1, ParentOf(old.path));
    fresh.path = old.path;
    fresh.id = old.id;
    s.updates.push_back(fresh);
    ++it;
    s.removes.push_back(it->first);
  }
  return s;
}

Step CompactStep() {
  Step s;
  s.compact = true;
  return s;
}

Status RunStep(Store& store, Step& s) {
  if (s.compact) return store.CompactIndexes();
  WriteBatch b;
  for (const auto& r : s.puts) b.Put(r.Fields());
  for (const auto& u : s.updates) b.Update(u.id, u.Fields());
  for (int64_t id : s.removes) b.Remove(id);
  const size_t entries = b.size();
  std::vector<int64_t> ids;
  Status st = store.Write(b, &ids);
  if (!st.ok()) {
    if (b.size() != entries) {
      return Status::InvalidArgument("failed Write did not leave the batch as it was (" +
                                     std::to_string(b.size()) + " entries, had " +
                                     std::to_string(entries) + "); original error: " +
                                     st.ToString());
    }
    return st;
  }
  if (!b.empty()) return Status::InvalidArgument("successful Write did not clear the batch");
  if (ids.size() != s.puts.size())
    return Status::InvalidArgument("assigned_ids has the wrong size");
  for (size_t i = 0; i < ids.size(); ++i) s.puts[i].id = ids[i];
  return Status::OK();
}

void ApplyToModel(Model& m, const Step& s) {
  if (s.compact) return;
  for (const auto& r : s.puts) m[r.id] = r;
  for (const auto& u : s.updates) m[u.id] = u;
  for (int64_t id : s.removes) m.erase(id);
}

Status OpenDefault(const std::string& dir, std::unique_ptr<Store>* store) {
  return Store::Open(dir, TestOptions(), store);
}

// Reopens `dir` with the real file system and checks it holds exactly
// `model`; `absent` paths must not be found.
void ExpectStoreHolds(const std::string& dir, const Model& model,
                      const std::set<std::string>& absent = {}) {
  std::unique_ptr<Store> store;
  Status s = OpenDefault(dir, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto snap = store->GetSnapshot();
  ReadReport rep = ReadAndCheck(*snap, model, absent);
  EXPECT_TRUE(rep.clean()) << rep.Summary();
}

// Opens `dir` (real file system), writes one more batch, checks its ids are
// above `max_seen` and that it survives another reopen next to `model`.
void ExpectWritableAfter(const std::string& dir, Model model, int64_t max_seen) {
  {
    std::unique_ptr<Store> store;
    Status s = OpenDefault(dir, &store);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_GT(store->GetSnapshot()->next_id(), max_seen);
    Step step = MakeStep(9999, Model{}, 3);
    s = RunStep(*store, step);
    ASSERT_TRUE(s.ok()) << "write after recovery: " << s.ToString();
    for (const auto& r : step.puts) {
      EXPECT_GT(r.id, max_seen) << "id reused after recovery: " << r.path;
    }
    ApplyToModel(model, step);
  }
  ExpectStoreHolds(dir, model);
}

// ---------------------------------------------------------------------------
// The Env itself (no store): it must model a power loss correctly, or every
// store test below proves nothing.

class FaultInjectionEnvSelfTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(tmp_.ok()); }
  std::string P(const std::string& n) { return tmp_.Sub(n); }
  Status WriteStr(File* f, uint64_t off, const std::string& s) {
    return f->PWrite(off, s.data(), s.size());
  }
  TempDir tmp_{"zcfienv"};
  FaultInjectionEnv env_;
};

TEST_F(FaultInjectionEnvSelfTest, UnsyncedWritesAndTruncatesAreUndone) {
  {
    std::unique_ptr<File> f;
    ASSERT_TRUE(env_.OpenFile(P("a"), Env::OpenMode::kCreate, &f).ok());
    ASSERT_TRUE(WriteStr(f.get(), 0, "hello world").ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(env_.SyncDir(tmp_.path()).ok());
    ASSERT_TRUE(WriteStr(f.get(), 6, "WORLD, and more").ok());
    ASSERT_TRUE(WriteStr(f.get(), 0, "J").ok());
    ASSERT_TRUE(f->Truncate(3).ok());
    ASSERT_TRUE(WriteStr(f.get(), 40, "far").ok());
  }
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(ReadFileBytes(P("a")), "hello world");
}

TEST_F(FaultInjectionEnvSelfTest, PreexistingFilesCountAsDurable) {
  ASSERT_TRUE(WriteFileBytes(P("old"), "0123456789"));
  {
    std::unique_ptr<File> f;
    ASSERT_TRUE(env_.OpenFile(P("old"), Env::OpenMode::kReadWrite, &f).ok());
    ASSERT_TRUE(WriteStr(f.get(), 5, "abcdefgh").ok());
  }
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(ReadFileBytes(P("old")), "0123456789");
}

TEST_F(FaultInjectionEnvSelfTest, CreationNeedsSyncDir) {
  {
    std::unique_ptr<File> f;
    ASSERT_TRUE(env_.OpenFile(P("synced-no-dir"), Env::OpenMode::kCreate, &f).ok());
    ASSERT_TRUE(WriteStr(f.get(), 0, "x").ok());
    ASSERT_TRUE(f->Sync().ok());
  }
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  bool exists = true;
  ASSERT_TRUE(env_.FileExists(P("synced-no-dir"), &exists).ok());
  EXPECT_FALSE(exists);

  {
    std::unique_ptr<File> f;
    ASSERT_TRUE(env_.OpenFile(P("dir-synced-data-not"), Env::OpenMode::kCreate, &f).ok());
    ASSERT_TRUE(env_.SyncDir(tmp_.path()).ok());
    ASSERT_TRUE(WriteStr(f.get(), 0, "lost").ok());
  }
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  ASSERT_TRUE(env_.FileExists(P("dir-synced-data-not"), &exists).ok());
  EXPECT_TRUE(exists);
  EXPECT_EQ(ReadFileBytes(P("dir-synced-data-not")), "");
}

TEST_F(FaultInjectionEnvSelfTest, RenameWithoutSyncDirIsUndone) {
  ASSERT_TRUE(WriteFileBytes(P("target"), "old contents"));
  auto write_tmp = [&]() {
    std::unique_ptr<File> f;
    ASSERT_TRUE(env_.OpenFile(P("tmp"), Env::OpenMode::kCreate, &f).ok());
    ASSERT_TRUE(WriteStr(f.get(), 0, "new contents").ok());
    ASSERT_TRUE(f->Sync().ok());
  };
  write_tmp();
  ASSERT_TRUE(env_.RenameFile(P("tmp"), P("target")).ok());
  EXPECT_EQ(ReadFileBytes(P("target")), "new contents");
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(ReadFileBytes(P("target")), "old contents");
  bool exists = true;
  ASSERT_TRUE(env_.FileExists(P("tmp"), &exists).ok());
  EXPECT_FALSE(exists) << "tmp was never dir-synced: it must vanish";

  // The full pattern survives.
  write_tmp();
  ASSERT_TRUE(env_.RenameFile(P("tmp"), P("target")).ok());
  ASSERT_TRUE(env_.SyncDir(tmp_.path()).ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(ReadFileBytes(P("target")), "new contents");
  ASSERT_TRUE(env_.FileExists(P("tmp"), &exists).ok());
  EXPECT_FALSE(exists);
}

TEST_F(FaultInjectionEnvSelfTest, RemoveWithoutSyncDirIsUndone) {
  ASSERT_TRUE(WriteFileBytes(P("victim"), "still here"));
  ASSERT_TRUE(env_.RemoveFile(P("victim")).ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(ReadFileBytes(P("victim")), "still here");
  ASSERT_TRUE(env_.RemoveFile(P("victim")).ok());
  ASSERT_TRUE(env_.SyncDir(tmp_.path()).ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  bool exists = true;
  ASSERT_TRUE(env_.FileExists(P("victim"), &exists).ok());
  EXPECT_FALSE(exists);
}

TEST_F(FaultInjectionEnvSelfTest, FailAfterWritesRefusesAndChangesNothing) {
  std::unique_ptr<File> f;
  ASSERT_TRUE(env_.OpenFile(P("f"), Env::OpenMode::kCreate, &f).ok());
  env_.SetFailAfterWrites(2);
  EXPECT_TRUE(WriteStr(f.get(), 0, "ab").ok());
  EXPECT_TRUE(f->Sync().ok());
  Status s = WriteStr(f.get(), 2, "cd");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_TRUE(f->Sync().IsIOError());
  EXPECT_EQ(env_.failed_writes(), 2);
  EXPECT_EQ(env_.first_failed_op().kind, FaultInjectionEnv::OpKind::kWrite);
  EXPECT_EQ(ReadFileBytes(P("f")), "ab");
  env_.SetFailAfterWrites(-1);
  EXPECT_TRUE(WriteStr(f.get(), 2, "cd").ok());
  EXPECT_EQ(ReadFileBytes(P("f")), "abcd");
  auto log = env_.SyncLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0], P("f"));
}

// ---------------------------------------------------------------------------
// The store under power loss.

class StorePowerLossTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(tmp_.ok()); }
  std::string Dir(const std::string& name = "store") { return tmp_.Sub(name); }
  TempDir tmp_{"zcfi"};
};

TEST_F(StorePowerLossTest, AcknowledgedBatchesSurvive) {
  FaultInjectionEnv env;
  Model model;
  int64_t max_id = 0;
  {
    std::unique_ptr<Store> store;
    Status s = Store::Open(Dir(), TestOptions(&env), &store);
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (uint64_t k = 0; k < 8; ++k) {
      Step step = MakeStep(k, model, 1 + (k * 37) % 120);
      s = RunStep(*store, step);
      ASSERT_TRUE(s.ok()) << "batch " << k << ": " << s.ToString();
      ApplyToModel(model, step);
      for (auto& r : step.puts) max_id = std::max(max_id, r.id);
    }
    // Power goes out right after the last Write returned: the store gets to
    // write nothing more (its destructor's writes all fail).
    env.SetFailAfterWrites(0);
    store.reset();
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  ExpectStoreHolds(Dir(), model);
  ExpectWritableAfter(Dir(), model, max_id);
}

TEST_F(StorePowerLossTest, CleanCloseThenPowerLoss) {
  FaultInjectionEnv env;
  Model model;
  int64_t max_id = 0;
  {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(Dir(), TestOptions(&env), &store).ok());
    for (uint64_t k = 0; k < 4; ++k) {
      Step step = MakeStep(k, model, 50);
      ASSERT_TRUE(RunStep(*store, step).ok());
      ApplyToModel(model, step);
      for (auto& r : step.puts) max_id = std::max(max_id, r.id);
    }
    ASSERT_TRUE(store->CompactIndexes().ok());
    Step step = MakeStep(4, model, 10);
    ASSERT_TRUE(RunStep(*store, step).ok());
    ApplyToModel(model, step);
    for (auto& r : step.puts) max_id = std::max(max_id, r.id);
  }  // a normal close: whatever it writes must leave the store sound
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  ExpectStoreHolds(Dir(), model);
  ExpectWritableAfter(Dir(), model, max_id);
}

// Power goes out right after Store::Compact returned: the rewritten store
// is durable, whether each index came out of one spill of gathered entries
// (a small store) or of a merge of several (spills are not synced; the
// merged run files are).
TEST_F(StorePowerLossTest, PowerLossAfterCompaction) {
  for (size_t per_batch : {size_t{10}, size_t{600}}) {
    SCOPED_TRACE("batches of " + std::to_string(per_batch));
    const std::string dir = Dir("compact" + std::to_string(per_batch));
    FaultInjectionEnv env;
    Model model;
    int64_t max_id = 0;
    {
      std::unique_ptr<Store> store;
      ASSERT_TRUE(Store::Open(dir, TestOptions(&env), &store).ok());
      for (uint64_t k = 0; k < 6; ++k) {
        Step step = MakeStep(k, model, per_batch);
        ASSERT_TRUE(RunStep(*store, step).ok());
        ApplyToModel(model, step);
        for (auto& r : step.puts) max_id = std::max(max_id, r.id);
      }
      CompactionResult result;
      const Status s = store->Compact(&result);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_EQ(result.records, model.size());
      env.SetFailAfterWrites(0);
    }
    ASSERT_TRUE(env.DropUnsyncedData().ok());
    ExpectStoreHolds(dir, model);
    ExpectWritableAfter(dir, model, max_id);
  }
}

TEST_F(StorePowerLossTest, NewStoreLostBeforeFirstCommitOpensEmpty) {
  FaultInjectionEnv env;
  {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(Dir(), TestOptions(&env), &store).ok());
    env.SetFailAfterWrites(0);
    Step step = MakeStep(0, Model{}, 5);
    EXPECT_FALSE(RunStep(*store, step).ok());
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  ExpectStoreHolds(Dir(), Model{});
  ExpectWritableAfter(Dir(), Model{}, 0);
}

// The commit protocol, read off the operation log: segment data is synced
// before the META page that covers it is written (and so before META's sync),
// a renamed file is synced before its rename and the rename is dir-synced
// before the next META write, and Write returns after META is synced.
TEST_F(StorePowerLossTest, DataIsSyncedBeforeMeta) {
  FaultInjectionEnv env;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(Dir(), TestOptions(&env), &store).ok());
  Model model;
  for (uint64_t k = 0; k < 30; ++k) {
    Step step = (k % 10 == 9) ? CompactStep() : MakeStep(k, model, 1 + (k * 53) % 200);
    env.ResetCounters();
    Status s = RunStep(*store, step);
    ASSERT_TRUE(s.ok()) << "step " << k << ": " << s.ToString();
    ApplyToModel(model, step);
    const auto ops = env.OpLog();
    const auto syncs = env.SyncLog();
    using K = FaultInjectionEnv::OpKind;

    if (!step.compact) {
      // Brief's statement on the sync order: a segment sync, then META's.
      auto first_meta_sync = std::find_if(syncs.begin(), syncs.end(), IsMeta);
      ASSERT_NE(first_meta_sync, syncs.end()) << "step " << k << ": Write returned OK "
                                                 "without syncing META";
      auto first_seg_sync = std::find_if(syncs.begin(), syncs.end(), IsSegment);
      ASSERT_NE(first_seg_sync, syncs.end()) << "step " << k << ": no segment sync";
      EXPECT_LT(first_seg_sync - syncs.begin(), first_meta_sync - syncs.begin())
          << "step " << k << ": META synced before segment data";
      bool meta_written = false;
      for (const auto& op : ops) meta_written |= (op.kind == K::kWrite && IsMeta(op.path));
      EXPECT_TRUE(meta_written) << "step " << k << ": Write returned OK without writing META";
    }

    // For every META write: each segment written before it was synced after
    // its last write and before the META write.
    std::map<std::string, bool> dirty;  // path -> written since its last sync
    std::map<std::string, size_t> renamed_at;  // rename not yet dir-synced
    for (size_t i = 0; i < ops.size(); ++i) {
      const auto& op = ops[i];
      switch (op.kind) {
        case K::kWrite:
        case K::kTruncate:
          if (IsMeta(op.path)) {
            for (const auto& [p, d] : dirty) {
              EXPECT_FALSE(d && IsSegment(p))
                  << "step " << k << ": META written (op " << i << ") while " << Base(p)
                  << " has unsynced writes";
            }
            for (const auto& [p, at] : renamed_at) {
              ADD_FAILURE() << "step " << k << ": META written (op " << i << ") after rename to "
                            << Base(p) << " (op " << at << ") without SyncDir";
            }
          } else {
            dirty[op.path] = true;
          }
          break;
        case K::kSync:
          dirty[op.path] = false;
          break;
        case K::kRename:
          EXPECT_FALSE(dirty[op.from])
              << "step " << k << ": " << Base(op.from) << " renamed to " << Base(op.path)
              << " with unsynced writes";
          dirty[op.path] = dirty[op.from];
          dirty.erase(op.from);
          renamed_at[op.path] = i;
          break;
        case K::kSyncDir:
          renamed_at.clear();
          break;
        default:
          break;
      }
    }
  }
  store.reset();
  ExpectStoreHolds(Dir(), model);
}

// Sequence of steps used by the crash-point sweeps.
std::vector<Step> SweepSteps(const Model& model, bool with_compaction, size_t per_batch) {
  std::vector<Step> steps;
  for (uint64_t k = 100; k < 104; ++k) {
    if (with_compaction && k == 102) steps.push_back(CompactStep());
    Step s = MakeStep(k, model, per_batch + k % 7);
    // Model only needs ids for updates/removes of later steps; the ids the
    // store assigns are not known yet, so later steps touch base records only.
    steps.push_back(std::move(s));
  }
  return steps;
}

// Builds a base store (3 committed batches) in `dir` with the real Env.
void BuildBase(const std::string& dir, Model* model, int64_t* max_id) {
  std::unique_ptr<Store> store;
  Status s = OpenDefault(dir, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (uint64_t k = 0; k < 3; ++k) {
    Step step = MakeStep(k, *model, 40);
    s = RunStep(*store, step);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ApplyToModel(*model, step);
    for (auto& r : step.puts) *max_id = std::max(*max_id, r.id);
  }
}

// A batch whose Write did not return OK (the power went out or an I/O error
// put the commit in doubt) may be in the store after a reopen -- but then
// completely, with ids above every acknowledged one. Updates `model`,
// `max_id` or `absent` accordingly.
void ResolveInFlight(const std::string& dir, Step& st, Model* model, int64_t* max_id,
                     std::set<std::string>* absent) {
  std::unique_ptr<Store> store;
  Status s = OpenDefault(dir, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto snap = store->GetSnapshot();
  MediaFileView v;
  s = snap->FindByPath(st.puts[0].path, &v);
  ASSERT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
  if (s.ok()) {
    int64_t prev = *max_id;
    for (auto& r : st.puts) {
      Status f = snap->FindByPath(r.path, &v);
      ASSERT_TRUE(f.ok()) << "in-flight batch partially visible: " << r.path << " "
                          << f.ToString();
      EXPECT_GT(v.id(), prev) << r.path;
      prev = v.id();
      r.id = v.id();
    }
    ApplyToModel(*model, st);
    for (auto& r : st.puts) *max_id = std::max(*max_id, r.id);
  } else {
    for (auto& r : st.puts) absent->insert(r.path);
  }
}

// Power loss at every write operation of creating a store (Open on an empty
// directory) and of its first commit: afterwards the directory opens as an
// empty store or with the first batch whole -- never as a damaged store.
TEST_F(StorePowerLossTest, CrashWhileCreatingTheStore) {
  int64_t ops = 0;
  {
    FaultInjectionEnv env;
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(Dir("count"), TestOptions(&env), &store).ok());
    Step st = MakeStep(1, Model{}, 3);
    ASSERT_TRUE(RunStep(*store, st).ok());
    ops = env.write_ops();
  }
  ASSERT_GT(ops, 0);
  for (int64_t n = 0; n <= ops; ++n) {
    SCOPED_TRACE("crash after " + std::to_string(n) + " of " + std::to_string(ops) +
                 " write operations of Open and the first Write");
    const std::string dir = Dir("create" + std::to_string(n));
    FaultInjectionEnv env;
    Step st = MakeStep(1, Model{}, 3);
    Model model;
    bool opened = false, written = false;
    {
      env.SetFailAfterWrites(static_cast<int>(n));
      std::unique_ptr<Store> store;
      Status s = Store::Open(dir, TestOptions(&env), &store);
      opened = s.ok();
      if (opened) written = RunStep(*store, st).ok();
      env.SetFailAfterWrites(0);
    }
    ASSERT_TRUE(env.DropUnsyncedData().ok());
    std::set<std::string> absent;
    int64_t max_id = 0;
    if (written) {
      ApplyToModel(model, st);
      for (auto& r : st.puts) max_id = std::max(max_id, r.id);
    } else if (opened) {
      ResolveInFlight(dir, st, &model, &max_id, &absent);
      ASSERT_FALSE(HasFatalFailure());
    } else {
      for (auto& r : st.puts) absent.insert(r.path);
    }
    ExpectStoreHolds(dir, model, absent);
    ExpectWritableAfter(dir, model, max_id);
    if (HasFatalFailure()) return;
  }
}

// Power loss after each possible number of write operations during a series
// of commits (and a compaction). After recovery: every acknowledged batch is
// there, the batch in flight is there completely or not at all, nothing else.
void CrashPointSweep(const TempDir& tmp, bool with_compaction, size_t per_batch = 20) {
  const std::string base = tmp.Sub("base");
  Model base_model;
  int64_t base_max = 0;
  BuildBase(base, &base_model, &base_max);
  if (::testing::Test::HasFatalFailure()) return;

  // Count the write operations of a full run.
  int64_t total_ops = 0;
  {
    const std::string dir = tmp.Sub("count");
    ASSERT_TRUE(CopyDirFiles(base, dir));
    FaultInjectionEnv env;
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(dir, TestOptions(&env), &store).ok());
    env.ResetCounters();
    auto steps = SweepSteps(base_model, with_compaction, per_batch);
    for (auto& st : steps) ASSERT_TRUE(RunStep(*store, st).ok());
    total_ops = env.write_ops();
    std::map<std::string, int> kinds;
    for (const auto& op : env.OpLog()) {
      std::string b = Base(op.path);
      kinds[b.substr(0, b.find('-'))]++;
    }
    std::string mix;
    for (auto& [k, c] : kinds) mix += " " + k + ":" + std::to_string(c);
    ::testing::Test::RecordProperty("crash_points", static_cast<int>(total_ops));
    std::cerr << "crash-point sweep: " << total_ops << " write operations (by file:" << mix
              << ")\n";
  }
  ASSERT_GT(total_ops, 0);
  // Every crash point if that is affordable, else an even spread.
  const int64_t stride = std::max<int64_t>(1, total_ops / 150);
  int trials = 0;
  for (int64_t n = 0; n <= total_ops; n += stride, ++trials) {
    SCOPED_TRACE("crash after " + std::to_string(n) + " of " + std::to_string(total_ops) +
                 " write operations");
    const std::string dir = tmp.Sub("trial" + std::to_string(n));
    ASSERT_TRUE(CopyDirFiles(base, dir));
    FaultInjectionEnv env;
    auto steps = SweepSteps(base_model, with_compaction, per_batch);
    Model model = base_model;
    int64_t max_id = base_max;
    int in_flight = -1;  // index in steps of the step that failed
    {
      std::unique_ptr<Store> store;
      Status s = Store::Open(dir, TestOptions(&env), &store);
      ASSERT_TRUE(s.ok()) << s.ToString();
      env.SetFailAfterWrites(static_cast<int>(n));
      for (size_t i = 0; i < steps.size(); ++i) {
        s = RunStep(*store, steps[i]);
        if (!s.ok()) {
          ASSERT_FALSE(s.IsInvalidArgument()) << s.ToString();
          in_flight = static_cast<int>(i);
          break;
        }
        ApplyToModel(model, steps[i]);
        for (auto& r : steps[i].puts) max_id = std::max(max_id, r.id);
      }
      env.SetFailAfterWrites(0);  // the power is out: nothing more reaches disk
      store.reset();
    }
    ASSERT_TRUE(env.DropUnsyncedData().ok());

    // Was the in-flight batch made durable before the lights went out?
    std::set<std::string> absent;
    if (in_flight >= 0 && !steps[in_flight].compact) {
      ResolveInFlight(dir, steps[in_flight], &model, &max_id, &absent);
      if (::testing::Test::HasFatalFailure()) return;
    }
    for (size_t i = in_flight + 1; in_flight >= 0 && i < steps.size(); ++i)
      for (auto& r : steps[i].puts) absent.insert(r.path);
    ExpectStoreHolds(dir, model, absent);
    ExpectWritableAfter(dir, model, max_id);
    if (::testing::Test::HasFatalFailure()) return;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  EXPECT_GT(trials, 5);
}

TEST_F(StorePowerLossTest, CrashAtEveryWriteOperation) { CrashPointSweep(tmp_, false); }

TEST_F(StorePowerLossTest, CrashAtEveryWriteOperationWithCompaction) {
  CrashPointSweep(tmp_, true);
}

// Batches big enough that the in-memory index outgrows its budget and is
// checkpointed into run files during the commits.
TEST_F(StorePowerLossTest, CrashAtEveryWriteOperationAcrossCheckpoints) {
  CrashPointSweep(tmp_, false, 1500);
}

// ---------------------------------------------------------------------------
// Injected I/O errors: a failed Write stores nothing.

enum class FailMode {
  kTransient,                // only the n-th operation fails; later ones succeed
  kPersistent,               // from the n-th operation on, every one fails
  kPersistentThenPowerLoss,  // ... and then the power goes
};

// Which write operation fails: the n-th of one commit, for every n.
//
// kTransient and kPersistentThenPowerLoss: a failed Write stores nothing.
// kPersistent: when the disk refuses every write from META's write or sync
// on, the store cannot take the new META page back, so that commit is in
// doubt until a reopen: it may then be there (whole) or not. Failures
// before META is touched must store nothing.
void FailedWriteSweep(const TempDir& tmp, FailMode mode) {
  const bool power_loss_after = mode == FailMode::kPersistentThenPowerLoss;
  const std::string base = tmp.Sub("base");
  Model base_model;
  int64_t base_max = 0;
  BuildBase(base, &base_model, &base_max);
  if (::testing::Test::HasFatalFailure()) return;

  int64_t ops_per_commit = 0;
  {
    const std::string dir = tmp.Sub("count");
    ASSERT_TRUE(CopyDirFiles(base, dir));
    FaultInjectionEnv env;
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(dir, TestOptions(&env), &store).ok());
    env.ResetCounters();
    Step st = MakeStep(50, base_model, 30);
    ASSERT_TRUE(RunStep(*store, st).ok());
    ops_per_commit = env.write_ops();
  }
  ASSERT_GT(ops_per_commit, 0);

  for (int64_t n = 0; n <= ops_per_commit; ++n) {
    SCOPED_TRACE("fail after " + std::to_string(n) + " of " + std::to_string(ops_per_commit) +
                 " write operations of one commit");
    const std::string dir = tmp.Sub("trial" + std::to_string(n));
    ASSERT_TRUE(CopyDirFiles(base, dir));
    FaultInjectionEnv env;
    Model model = base_model;
    int64_t max_id = base_max;
    Step st = MakeStep(50, base_model, 30);
    bool committed = false;
    std::string first_failed;
    {
      std::unique_ptr<Store> store;
      ASSERT_TRUE(Store::Open(dir, TestOptions(&env), &store).ok());
      env.SetFailAfterWrites(static_cast<int>(n), mode == FailMode::kTransient);
      Status s = RunStep(*store, st);
      ASSERT_FALSE(s.IsInvalidArgument()) << s.ToString();
      if (n == 0) {
        EXPECT_FALSE(s.ok()) << "a commit that can write nothing returned OK";
      }
      if (!s.ok()) {
        EXPECT_GT(env.failed_writes(), 0) << "Write failed without an injected error: "
                                          << s.ToString();
        first_failed = env.first_failed_op().path;
      } else {
        committed = true;
        ApplyToModel(model, st);
        for (auto& r : st.puts) max_id = std::max(max_id, r.id);
      }
      if (power_loss_after) env.SetFailAfterWrites(0);
    }
    if (power_loss_after) {
      ASSERT_TRUE(env.DropUnsyncedData().ok());
    }
    std::set<std::string> absent;
    if (!committed) {
      if (mode == FailMode::kPersistent && IsMeta(first_failed)) {
        ResolveInFlight(dir, st, &model, &max_id, &absent);
        if (::testing::Test::HasFatalFailure()) return;
      } else {
        for (auto& r : st.puts) absent.insert(r.path);
      }
    }
    {
      SCOPED_TRACE(committed ? "Write returned OK"
                             : "Write failed; first refused operation on " + Base(first_failed));
      ExpectStoreHolds(dir, model, absent);
      ExpectWritableAfter(dir, model, max_id);
    }
    if (::testing::Test::HasFatalFailure()) return;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}

TEST_F(StorePowerLossTest, FailedWriteStoresNothing) {
  FailedWriteSweep(tmp_, FailMode::kTransient);
}

TEST_F(StorePowerLossTest, FailedWriteOnBrokenDiskIsAtomic) {
  FailedWriteSweep(tmp_, FailMode::kPersistent);
}

TEST_F(StorePowerLossTest, FailedWriteThenPowerLossStoresNothing) {
  FailedWriteSweep(tmp_, FailMode::kPersistentThenPowerLoss);
}

// CompactIndexes failing at any write operation (transiently or for good)
// loses nothing: the store keeps answering correctly, and after a reopen
// (with the partial run files still lying around) everything is there.
TEST_F(StorePowerLossTest, FailedCompactionLosesNothing) {
  const std::string base = tmp_.Sub("base");
  Model base_model;
  int64_t base_max = 0;
  BuildBase(base, &base_model, &base_max);
  ASSERT_FALSE(HasFatalFailure());
  const int64_t ops = CountWriteOps(base, tmp_.Sub("count"), [](Store& store) { return store.CompactIndexes(); });
  ASSERT_GT(ops, 0) << "CompactIndexes wrote nothing (or failed)";
  for (bool transient : {true, false}) {
    for (int64_t n = 0; n < ops; ++n) {
      SCOPED_TRACE(std::string(transient ? "transient" : "persistent") + " failure after " +
                   std::to_string(n) + " of " + std::to_string(ops) + " operations");
      const std::string dir = tmp_.Sub("trial" + std::to_string(transient) + "-" +
                                       std::to_string(n));
      ASSERT_TRUE(CopyDirFiles(base, dir));
      FaultInjectionEnv env;
      Model model = base_model;
      int64_t max_id = base_max;
      {
        std::unique_ptr<Store> store;
        ASSERT_TRUE(Store::Open(dir, TestOptions(&env), &store).ok());
        env.SetFailAfterWrites(static_cast<int>(n), transient);
        Status s = store->CompactIndexes();
        EXPECT_FALSE(s.ok()) << "CompactIndexes succeeded although a write failed";
        env.SetFailAfterWrites(-1);
        ReadReport rep = ReadAndCheck(*store->GetSnapshot(), model);
        EXPECT_TRUE(rep.clean()) << "after the failed compaction, same store:\n"
                                 << rep.Summary();
        if (transient) {
          Step st = MakeStep(70, model, 10);
          s = RunStep(*store, st);
          if (s.ok()) {
            ApplyToModel(model, st);
            for (auto& r : st.puts) max_id = std::max(max_id, r.id);
            s = store->CompactIndexes();
            EXPECT_TRUE(s.ok()) << "compaction retry: " << s.ToString();
          } else {
            std::cerr << "note: store refuses writes after a failed compaction: "
                      << s.ToString() << "\n";
          }
        }
      }
      ExpectStoreHolds(dir, model);
      ExpectWritableAfter(dir, model, max_id);
      if (HasFatalFailure()) return;
    }
  }
}

// Index checkpoints run on a background thread while commits go on. A
// transient I/O error at any write operation of a series of commits (the
// checkpoint thread's run files and syncs included) fails only the commit
// that meets it: every commit that returned OK is there after a reopen,
// every one that failed is not, and the store keeps taking writes (a failed
// checkpoint is retried by a later commit).
TEST_F(StorePowerLossTest, FailedBackgroundCheckpointLosesNothing) {
  const std::string base = tmp_.Sub("base");
  Model base_model;
  int64_t base_max = 0;
  BuildBase(base, &base_model, &base_max);
  ASSERT_FALSE(HasFatalFailure());
  constexpr uint64_t kSteps = 8;
  constexpr size_t kPutsPerStep = 500;  // ~4,000 records: several checkpoints at a 1 MiB budget
  int64_t ops = 0;
  uint64_t runs_before = 0, runs_after = 0;
  {
    const std::string dir = tmp_.Sub("count");
    ASSERT_TRUE(CopyDirFiles(base, dir));
    FaultInjectionEnv env;
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(dir, TestOptions(&env), &store).ok());
    runs_before = store->Info().index_runs;
    env.ResetCounters();
    Model model = base_model;
    for (uint64_t k = 0; k < kSteps; ++k) {
      Step st = MakeStep(100 + k, model, kPutsPerStep);
      ASSERT_TRUE(RunStep(*store, st).ok());
      ApplyToModel(model, st);
    }
    ops = env.write_ops();
    store.reset();  // waits for the checkpoint in flight and installs it
    ASSERT_TRUE(Store::Open(dir, TestOptions(&env), &store).ok());
    runs_after = store->Info().index_runs;
  }
  ASSERT_GT(runs_after, runs_before) << "no checkpoint ran: the test would not exercise one";
  // Every operation up to 120, then every 7th: the checkpoint's operations
  // are interleaved with the commits' ones.
  int checkpoint_failures = 0;  // commits that reported a failed checkpoint
  for (int64_t n = 0; n < ops; n += n < 120 ? 1 : 7) {
    SCOPED_TRACE("transient failure after " + std::to_string(n) + " of " + std::to_string(ops) + " operations");
    const std::string dir = tmp_.Sub("trial" + std::to_string(n));
    ASSERT_TRUE(CopyDirFiles(base, dir));
    FaultInjectionEnv env;
    Model model = base_model;
    int64_t max_id = base_max;
    std::set<std::string> absent;
    int failed = 0;
    {
      std::unique_ptr<Store> store;
      ASSERT_TRUE(Store::Open(dir, TestOptions(&env), &store).ok());
      env.SetFailAfterWrites(static_cast<int>(n), /*only_once=*/true);
      for (uint64_t k = 0; k < kSteps; ++k) {
        Step st = MakeStep(100 + k, model, kPutsPerStep);
        Status s = RunStep(*store, st);
        ASSERT_FALSE(s.IsInvalidArgument()) << s.ToString();
        if (s.ok()) {
          ApplyToModel(model, st);
          for (auto& r : st.puts) max_id = std::max(max_id, r.id);
        } else {
          ++failed;
          if (s.message().find("index checkpoint") != std::string::npos) ++checkpoint_failures;
          for (auto& r : st.puts) absent.insert(r.path);
        }
      }
      // The failure was transient: with nothing failing any more the store
      // takes a batch. (If the error hit a checkpoint that ended after the
      // last step, this write is the one that reports it, storing nothing;
      // the retry then succeeds.)
      env.SetFailAfterWrites(-1);
      Step last = MakeStep(200, model, 20);
      Status s = RunStep(*store, last);
      if (!s.ok() && failed == 0 && s.message().find("index checkpoint") != std::string::npos) {
        ++failed;
        ++checkpoint_failures;
        s = RunStep(*store, last);
      }
      ASSERT_TRUE(s.ok()) << "write after a transient failure: " << s.ToString();
      ApplyToModel(model, last);
      for (auto& r : last.puts) max_id = std::max(max_id, r.id);
    }
    EXPECT_LE(failed, 1) << "one transient error failed more than one commit";
    ExpectStoreHolds(dir, model, absent);
    ExpectWritableAfter(dir, model, max_id);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(checkpoint_failures, 0) << "no trial failed inside a background checkpoint";
}

// After a Write failed on a transient I/O error, the batch was left as it
// was and can be retried on the same store object; it lands exactly once.
// (A store may instead refuse further writes; then a reopen must show the
// batch whole or not at all.)
TEST_F(StorePowerLossTest, RetryAfterFailedWrite) {
  const std::string base = tmp_.Sub("base");
  Model base_model;
  int64_t base_max = 0;
  BuildBase(base, &base_model, &base_max);
  ASSERT_FALSE(HasFatalFailure());
  for (int n = 0; n < 12; ++n) {
    SCOPED_TRACE("fail after " + std::to_string(n));
    const std::string dir = tmp_.Sub("trial" + std::to_string(n));
    ASSERT_TRUE(CopyDirFiles(base, dir));
    FaultInjectionEnv env;
    Model model = base_model;
    Step st = MakeStep(60, base_model, 25);
    {
      std::unique_ptr<Store> store;
      ASSERT_TRUE(Store::Open(dir, TestOptions(&env), &store).ok());
      WriteBatch b;
      for (const auto& r : st.puts) b.Put(r.Fields());
      for (const auto& u : st.updates) b.Update(u.id, u.Fields());
      for (int64_t id : st.removes) b.Remove(id);
      const size_t entries = b.size();
      env.SetFailAfterWrites(n, /*only_once=*/true);  // a transient error
      std::vector<int64_t> ids;
      Status s = store->Write(b, &ids);
      env.SetFailAfterWrites(-1);
      if (s.ok()) {
        for (size_t i = 0; i < ids.size(); ++i) st.puts[i].id = ids[i];
      } else {
        ASSERT_EQ(b.size(), entries) << "failed Write must leave the batch as it was";
        ids.clear();
        Status r = store->Write(b, &ids);
        if (!r.ok()) {
          // The store may refuse writes after an I/O error that left the
          // commit in doubt ("reopen the store"). Then a reopen shows the
          // batch completely or not at all. (Whether "not at all" is
          // required is FailedWriteStoresNothing's business.)
          std::cerr << "note: store refuses writes after an I/O error: " << r.ToString() << "\n";
          store.reset();
          std::set<std::string> absent;
          int64_t max_id = base_max;
          ResolveInFlight(dir, st, &model, &max_id, &absent);
          ASSERT_FALSE(HasFatalFailure());
          ExpectStoreHolds(dir, model, absent);
          ExpectWritableAfter(dir, model, max_id);
          continue;
        }
        ASSERT_EQ(ids.size(), st.puts.size());
        for (size_t i = 0; i < ids.size(); ++i) {
          st.puts[i].id = ids[i];
          EXPECT_GT(ids[i], base_max);
        }
      }
      ApplyToModel(model, st);
      // Visible in this process right away, exactly once.
      ReadReport rep = ReadAndCheck(*store->GetSnapshot(), model);
      EXPECT_TRUE(rep.clean()) << rep.Summary();
    }
    ExpectStoreHolds(dir, model);
  }
}

}  // namespace
}  // namespace zcmedia
