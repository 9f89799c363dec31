// Store::Compact: the live records rewritten, every answer unchanged, the
// dead space gone; readers keep reading through it; a crash at any write
// operation leaves the old state or the new one, never a mix.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "durability_test_util.h"
#include "fault_injection_env.h"
#include "format.h"
#include "zcmedia/check.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace durtest {
namespace {

// The playlist tables as text (compared before and after).
std::string PlaylistRows(const Snapshot& snap) {
  std::string out;
  std::vector<PlaylistView> playlists;
  EXPECT_TRUE(snap.ListPlaylists(&playlists).ok());
  for (const PlaylistView& p : playlists) {
    out += "P" + std::to_string(p.id()) + " " + std::string(p.name()) + "\n";
    std::vector<PlaylistEntryView> entries;
    EXPECT_TRUE(snap.ListPlaylistEntries(p.id(), &entries).ok());
    for (const PlaylistEntryView& e : entries)
      out += " E" + std::to_string(e.id()) + " m" + std::to_string(e.media_file_id()) + "@" +
             std::to_string(e.position()) + "\n";
  }
  auto it = snap.NewPlaylistEntryIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) out += std::to_string(it->entry().id()) + ",";
  EXPECT_TRUE(it->status().ok());
  return out;
}

// A store with half its records dead: puts, then updates and removes of
// about half of them, and playlists whose entries lose some media files.
void BuildChurnedStore(const std::string& dir, Model* model, Env* env = nullptr) {
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir, TestOptions(env), &store).ok());
  std::vector<int64_t> ids;
  for (uint64_t b = 0; b < 8; ++b) {
    std::vector<OwnedRecord> recs;
    for (uint64_t i = 0; i < 400; ++i) recs.push_back(MakeRecord(3, b, i, 0, "/c/d" + std::to_string(b % 3) + "/b" + std::to_string(b)));
    ASSERT_TRUE(PutBatch(*store, recs).ok());
    for (auto& r : recs) {
      ids.push_back(r.id);
      (*model)[r.id] = r;
    }
  }
  WriteBatch playlists;
  playlists.PutPlaylist({0, "Churn", std::nullopt, 1, 1});
  playlists.PutPlaylist({0, "Keep", "kept", 1, 1});
  for (size_t i = 0; i < ids.size(); i += 7) playlists.PutPlaylistEntry({0, 1 + int64_t(i % 2), ids[i], int64_t(i), 1});
  ASSERT_TRUE(store->Write(playlists).ok());
  WriteBatch churn;
  std::vector<OwnedRecord> updated;
  for (size_t i = 0; i < ids.size(); i += 4) updated.push_back(MakeRecord(3, 100, i, 1, "/c/u"));
  for (size_t i = 0, u = 0; i < ids.size(); ++i) {
    if (i % 4 == 0) {
      churn.Update(ids[i], updated[u].Fields());
      updated[u].id = ids[i];
      (*model)[ids[i]] = updated[u++];
    } else if (i % 4 == 1) {
      churn.Remove(ids[i]);  // and with it its playlist entries
      model->erase(ids[i]);
    }
  }
  ASSERT_TRUE(store->Write(churn).ok());
}

TEST(CompactionTest, EveryAnswerIsUnchangedAndTheDeadSpaceIsGone) {
  TempDir tmp("zccompact");
  const std::string dir = tmp.Sub("store");
  Model model;
  BuildChurnedStore(dir, &model);
  if (HasFatalFailure()) return;

  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir, TestOptions(), &store).ok());
  auto before = store->GetSnapshot();
  ASSERT_GT(before->dead_bytes(), 0u);
  const std::string playlists_before = PlaylistRows(*before);
  const LibraryTotals totals_before = before->totals();
  ASSERT_NE(playlists_before.find("E"), std::string::npos);

  CompactionResult result;
  Status s = store->Compact(&result);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(result.records, model.size() + before->playlist_count() + before->playlist_entry_count());
  EXPECT_LT(result.bytes_after, result.bytes_before);

  auto after = store->GetSnapshot();
  EXPECT_EQ(after->dead_bytes(), 0u);
  EXPECT_GT(after->sequence(), before->sequence());
  EXPECT_EQ(after->next_id(), before->next_id());
  EXPECT_EQ(after->next_playlist_id(), before->next_playlist_id());
  EXPECT_EQ(after->next_playlist_entry_id(), before->next_playlist_entry_id());
  for (int f = 0; f < kMimeFamilies; ++f) {
    EXPECT_EQ(after->totals().files[f], totals_before.files[f]);
    EXPECT_EQ(after->totals().bytes[f], totals_before.bytes[f]);
  }
  ReadReport rep = ReadAndCheck(*after, model);
  EXPECT_TRUE(rep.clean()) << rep.Summary();
  EXPECT_EQ(PlaylistRows(*after), playlists_before);
  // The snapshot taken before still reads the old (unlinked) files.
  rep = ReadAndCheck(*before, model);
  EXPECT_TRUE(rep.clean()) << rep.Summary();
  EXPECT_EQ(PlaylistRows(*before), playlists_before);
  // Index runs: one per index that has entries.
  EXPECT_LE(store->Info().index_runs, uint64_t{format::kRunKinds});

  // New ids continue after the old ones; the state survives reopen.
  std::vector<OwnedRecord> extra = {MakeRecord(3, 999, 0, 0, "/c/new")};
  ASSERT_TRUE(PutBatch(*store, extra).ok());
  EXPECT_EQ(extra[0].id, before->next_id());
  model[extra[0].id] = extra[0];
  before.reset();
  after.reset();
  store.reset();
  ASSERT_TRUE(Store::Open(dir, TestOptions(), &store).ok());
  rep = ReadAndCheck(*store->GetSnapshot(), model);
  EXPECT_TRUE(rep.clean()) << rep.Summary();
  EXPECT_EQ(PlaylistRows(*store->GetSnapshot()), playlists_before);
  store.reset();
  // No file of the old state is left behind.
  EXPECT_EQ(ListNames(dir, "seg-", "").size(), result.segments_after);
  CheckReport report;
  ASSERT_TRUE(CheckStore(dir, /*deep=*/true, &report, TestOptions()).ok());
  EXPECT_TRUE(report.ok()) << report.ToString();
}

// Directory names: a directory that still holds files (at any depth) keeps
// its name, one emptied by removals loses it. The counts that decide live
// in several tree runs (index compactions between the batches), the newest
// of them a tombstone for an emptied directory, and compaction reads them
// alongside the names in hash order.
TEST(CompactionTest, EmptiedDirectoriesLoseTheirNamesOthersKeepThem) {
  TempDir tmp("zccompactdirs");
  const std::string dir = tmp.Sub("store");
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir, TestOptions(), &store).ok());
  constexpr int kDirs = 40;
  std::map<int, std::vector<int64_t>> ids_in;  // directory number -> its files
  Model model;
  for (int d = 0; d < kDirs; ++d) {
    std::vector<OwnedRecord> recs;
    for (uint64_t i = 0; i < 5; ++i)
      recs.push_back(MakeRecord(5, d, i, 0, "/t/g" + std::to_string(d % 4) + "/d" + std::to_string(d)));
    ASSERT_TRUE(PutBatch(*store, recs).ok());
    for (auto& r : recs) {
      ids_in[d].push_back(r.id);
      model[r.id] = r;
    }
    if (d % 10 == 9) {
      ASSERT_TRUE(store->CompactIndexes().ok());  // several tree runs
    }
  }
  // Empty every third directory, and the whole of /t/g3 (the directories
  // d = 3, 7, 11, ... below it): then /t/g3 is empty as well.
  std::set<std::string> emptied;
  WriteBatch removals;
  for (int d = 0; d < kDirs; ++d) {
    if (d % 3 != 0 && d % 4 != 3) continue;
    for (int64_t id : ids_in[d]) {
      removals.Remove(id);
      model.erase(id);
    }
    emptied.insert("/t/g" + std::to_string(d % 4) + "/d" + std::to_string(d));
  }
  emptied.insert("/t/g3");
  ASSERT_TRUE(store->Write(removals).ok());  // its zero counts: in runs newer than the counts they end
  std::vector<OwnedRecord> late = {MakeRecord(5, 99, 0, 0, "/t/g0/d0")};  // d0 holds a file again
  ASSERT_TRUE(PutBatch(*store, late).ok());
  model[late[0].id] = late[0];
  emptied.erase("/t/g0/d0");

  // Every directory that holds a file, with its ancestors up to the root
  // (the tree is built from parent_path; a NULL one names no directory).
  std::set<std::string> named;
  for (const auto& [id, rec] : model) {
    if (!rec.parent_path) continue;
    for (std::string d = *rec.parent_path; d != "/"; d = ParentOf(d)) named.insert(d);
    named.insert("/");
  }
  for (const std::string& d : emptied) ASSERT_EQ(named.count(d), 0u) << d;

  CompactionResult result;
  ASSERT_TRUE(store->Compact(&result).ok());
  EXPECT_EQ(result.directories, named.size());
  auto snap = store->GetSnapshot();
  for (const std::string& parent : {std::string("/t"), std::string("/t/g0"), std::string("/t/g1"),
                                    std::string("/t/g2"), std::string("/t/g3")}) {
    std::vector<DirectoryInfo> subdirs;
    ASSERT_TRUE(snap->ListSubdirectories(parent, std::nullopt, &subdirs).ok());
    std::set<std::string> listed;
    for (const DirectoryInfo& info : subdirs) {
      const std::string path = parent + std::string(info.tail);
      listed.insert(path);
      uint64_t want = 0;
      for (const auto& [id, rec] : model)
        want += rec.parent_path && (rec.parent_path->rfind(path + "/", 0) == 0 || *rec.parent_path == path);
      EXPECT_EQ(info.total_files(), want) << path;
    }
    std::set<std::string> want;
    for (const std::string& d : named)
      if (ParentOf(d) == parent) want.insert(d);
    EXPECT_EQ(listed, want) << "under " << parent;
  }
  ReadReport rep = ReadAndCheck(*snap, model);
  EXPECT_TRUE(rep.clean()) << rep.Summary();
  snap.reset();
  store.reset();
  CheckReport report;
  ASSERT_TRUE(CheckStore(dir, /*deep=*/true, &report, TestOptions()).ok());
  EXPECT_TRUE(report.ok()) << report.ToString();
}

TEST(CompactionTest, AnEmptyStoreCompactsToOneEmptySegment) {
  TempDir tmp("zccompact");
  const std::string dir = tmp.Sub("store");
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir, TestOptions(), &store).ok());
  std::vector<OwnedRecord> recs = {MakeRecord(1, 0, 0, 0, "/e"), MakeRecord(1, 0, 1, 0, "/e")};
  ASSERT_TRUE(PutBatch(*store, recs).ok());
  WriteBatch b;
  b.Remove(recs[0].id);
  b.Remove(recs[1].id);
  ASSERT_TRUE(store->Write(b).ok());
  CompactionResult result;
  ASSERT_TRUE(store->Compact(&result).ok());
  EXPECT_EQ(result.records, 0u);
  EXPECT_EQ(result.segments_after, 1u);
  EXPECT_EQ(store->GetSnapshot()->record_count(), 0u);
  std::vector<OwnedRecord> more = {MakeRecord(1, 1, 0, 0, "/e")};
  ASSERT_TRUE(PutBatch(*store, more).ok());
  EXPECT_EQ(more[0].id, 3);  // ids are never reused
}

TEST(CompactionTest, ReadersInThreadsAndAReadOnlyStoreKeepReadingThroughIt) {
  TempDir tmp("zccompact");
  const std::string dir = tmp.Sub("store");
  Model model;
  BuildChurnedStore(dir, &model);
  if (HasFatalFailure()) return;
  std::unique_ptr<Store> store, follower;
  ASSERT_TRUE(Store::Open(dir, TestOptions(), &store).ok());
  Options ro = TestOptions();
  ro.read_only = true;
  ASSERT_TRUE(Store::Open(dir, ro, &follower).ok());

  std::atomic<bool> done{false};
  std::atomic<int> rounds{0};
  std::vector<std::string> failures;
  std::mutex failures_mu;
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        ReadReport rep = ReadAndCheck(*store->GetSnapshot(), model);
        if (!rep.clean()) {
          std::lock_guard<std::mutex> g(failures_mu);
          failures.push_back(rep.Summary());
          return;
        }
        rounds.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 3; ++i) {
    Status s = store->Compact();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  while (rounds.load() < 4) std::this_thread::yield();
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_TRUE(failures.empty()) << failures.front();
  // The read-only store follows the writer onto the new files.
  auto snap = follower->GetSnapshot();
  EXPECT_EQ(snap->sequence(), store->GetSnapshot()->sequence());
  ReadReport rep = ReadAndCheck(*snap, model);
  EXPECT_TRUE(rep.clean()) << rep.Summary();
}

// A crash after any write operation of a compaction: the store opens with
// every answer as before (whichever state won), checks clean, and writes.
TEST(CompactionPowerLossTest, EveryCrashPointLeavesTheOldOrTheNewStateWhole) {
  TempDir tmp("zccompact");
  const std::string base = tmp.Sub("base");
  Model model;
  BuildChurnedStore(base, &model);
  if (HasFatalFailure()) return;
  std::string playlists;
  uint64_t dead_before = 0;
  {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(base, TestOptions(), &store).ok());
    playlists = PlaylistRows(*store->GetSnapshot());
    dead_before = store->GetSnapshot()->dead_bytes();
  }
  const int64_t total_ops = CountWriteOps(base, tmp.Sub("count"), [](Store& store) { return store.Compact(); });
  ASSERT_GT(total_ops, 3);
  const int64_t stride = std::max<int64_t>(1, total_ops / 40);
  int old_states = 0, new_states = 0;
  for (int64_t n = 0; n <= total_ops; n += stride) {
    SCOPED_TRACE("crash after " + std::to_string(n) + " of " + std::to_string(total_ops) + " write operations");
    const std::string dir = tmp.Sub("trial" + std::to_string(n));
    ASSERT_TRUE(CopyDirFiles(base, dir));
    FaultInjectionEnv env;
    {
      std::unique_ptr<Store> store;
      ASSERT_TRUE(Store::Open(dir, TestOptions(&env), &store).ok());
      env.SetFailAfterWrites(static_cast<int>(n));
      (void)store->Compact();
      env.SetFailAfterWrites(0);
      store.reset();
    }
    ASSERT_TRUE(env.DropUnsyncedData().ok());
    std::unique_ptr<Store> store;
    Status s = Store::Open(dir, TestOptions(), &store);
    ASSERT_TRUE(s.ok()) << s.ToString();
    auto snap = store->GetSnapshot();
    (snap->dead_bytes() == 0 ? new_states : old_states) += 1;
    if (snap->dead_bytes() != 0) {
      EXPECT_EQ(snap->dead_bytes(), dead_before);
    }
    ReadReport rep = ReadAndCheck(*snap, model);
    ASSERT_TRUE(rep.clean()) << rep.Summary();
    EXPECT_EQ(PlaylistRows(*snap), playlists);
    snap.reset();
    std::vector<OwnedRecord> extra = {MakeRecord(5, 0, 0, 0, "/after")};
    ASSERT_TRUE(PutBatch(*store, extra).ok());
    store.reset();
    CheckReport report;
    ASSERT_TRUE(CheckStore(dir, /*deep=*/true, &report, TestOptions()).ok());
    EXPECT_TRUE(report.ok()) << report.ToString();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  EXPECT_GT(old_states, 0);
  EXPECT_GT(new_states, 0);
}

}  // namespace
}  // namespace durtest
}  // namespace zcmedia
