// Playlists under power loss: a crash after any write operation of a run of
// playlist batches (creates, renames, entries, cascades from media and
// playlist removals, enough entries to checkpoint the index) leaves exactly
// the state after some prefix of the batches: the acknowledged ones, plus
// perhaps the one in flight, whole.
#include <gtest/gtest.h>

#include <filesystem>

#include "durability_test_util.h"
#include "fault_injection_env.h"
#include "zcmedia/check.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace durtest {
namespace {

constexpr int kMedia = 2000;

// The playlist tables as text rows, in id order: what must survive.
std::string PlaylistState(Store& store) {
  auto snap = store.GetSnapshot();
  std::string out = "playlists=" + std::to_string(snap->playlist_count()) +
                    " entries=" + std::to_string(snap->playlist_entry_count()) +
                    " media=" + std::to_string(snap->record_count()) + "\n";
  std::vector<PlaylistView> playlists;
  EXPECT_TRUE(snap->ListPlaylists(&playlists).ok());
  for (const PlaylistView& p : playlists) {
    out += "P " + std::to_string(p.id()) + " " + std::string(p.name()) + " " + Show(p.description()) + "\n";
    std::vector<PlaylistEntryView> entries;
    EXPECT_TRUE(snap->ListPlaylistEntries(p.id(), &entries).ok());
    for (const PlaylistEntryView& e : entries)
      out += "  E " + std::to_string(e.id()) + " m" + std::to_string(e.media_file_id()) + " @" +
             std::to_string(e.position()) + "\n";
  }
  return out;
}

// The batches of the run; each is a function filling a WriteBatch. Media
// ids are 1..kMedia and playlist ids 1.. in creation order (a fresh store).
using Step = std::function<void(WriteBatch&)>;
std::vector<Step> Steps() {
  std::vector<Step> steps;
  steps.push_back([](WriteBatch& b) {  // two playlists, 2000 entries: an index checkpoint
    b.PutPlaylist({0, "Road trip", std::nullopt, 1, 1});
    b.PutPlaylist({0, "Focus", "calm", 1, 1});
    for (int i = 0; i < 1000; ++i) {
      b.PutPlaylistEntry({0, 1, 1 + i, i, 2});
      b.PutPlaylistEntry({0, 2, kMedia - i, 1000 - i, 2});
    }
  });
  steps.push_back([](WriteBatch& b) {  // rename; swap entries 1 (m1 @0) and 3 (m2 @1) via a free position
    b.UpdatePlaylist(1, {0, "Road trip 2026", "summer", 1, 3});
    b.UpdatePlaylistEntry(1, {0, 1, 1, -1, 2});
    b.UpdatePlaylistEntry(3, {0, 1, 2, 0, 2});
    b.UpdatePlaylistEntry(1, {0, 1, 1, 1, 2});
  });
  steps.push_back([](WriteBatch& b) {  // media removals cascade into both playlists
    for (int m = 100; m < 300; m += 3) b.Remove(m);
  });
  steps.push_back([](WriteBatch& b) {  // a playlist removal cascades; a new one takes its name
    b.RemovePlaylist(2);
    b.PutPlaylist({0, "Focus", std::nullopt, 4, 4});
    for (int i = 0; i < 50; ++i) b.PutPlaylistEntry({0, 3, 2 * i + 1, i, 4});
  });
  steps.push_back([](WriteBatch& b) {  // single removals
    b.RemovePlaylistEntry(3);
    b.RemovePlaylistEntry(5);  // (entry 4 went with playlist 2)
  });
  return steps;
}

void BuildBase(const std::string& dir) {
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir, TestOptions(), &store).ok());
  std::vector<OwnedRecord> media;
  for (int i = 0; i < kMedia; ++i) media.push_back(MakeRecord(7, 0, static_cast<uint64_t>(i), 0, "/pl"));
  ASSERT_TRUE(PutBatch(*store, media).ok());
}

TEST(PlaylistPowerLossTest, EveryCrashPointLeavesTheStateAfterAPrefixOfTheBatches) {
  TempDir tmp("zcpl");
  const std::string base = tmp.Sub("base");
  BuildBase(base);
  if (::testing::Test::HasFatalFailure()) return;

  // The state after each prefix of the steps, and the write operations of the run.
  std::vector<std::string> states;
  int64_t total_ops = 0;
  {
    const std::string dir = tmp.Sub("count");
    ASSERT_TRUE(CopyDirFiles(base, dir));
    FaultInjectionEnv env;
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(dir, TestOptions(&env), &store).ok());
    states.push_back(PlaylistState(*store));
    env.ResetCounters();
    for (const Step& step : Steps()) {
      WriteBatch b;
      step(b);
      Status s = store->Write(b);
      ASSERT_TRUE(s.ok()) << s.ToString();
      states.push_back(PlaylistState(*store));
    }
    total_ops = env.write_ops();
    ASSERT_FALSE(ListNames(dir, "idx-pl-", "").empty()) << "the run should checkpoint the playlist index";
  }
  ASSERT_NE(states.front(), states.back());

  const int64_t stride = std::max<int64_t>(1, total_ops / 60);
  for (int64_t n = 0; n <= total_ops; n += stride) {
    SCOPED_TRACE("crash after " + std::to_string(n) + " of " + std::to_string(total_ops) + " write operations");
    const std::string dir = tmp.Sub("trial" + std::to_string(n));
    ASSERT_TRUE(CopyDirFiles(base, dir));
    FaultInjectionEnv env;
    size_t acked = 0;
    {
      std::unique_ptr<Store> store;
      ASSERT_TRUE(Store::Open(dir, TestOptions(&env), &store).ok());
      env.SetFailAfterWrites(static_cast<int>(n));
      for (const Step& step : Steps()) {
        WriteBatch b;
        step(b);
        if (!store->Write(b).ok()) break;
        ++acked;
      }
      env.SetFailAfterWrites(0);  // the power is out
      store.reset();
    }
    ASSERT_TRUE(env.DropUnsyncedData().ok());
    std::unique_ptr<Store> store;
    Status s = Store::Open(dir, TestOptions(), &store);
    ASSERT_TRUE(s.ok()) << s.ToString();
    const std::string got = PlaylistState(*store);
    const bool in_flight_landed = acked + 1 < states.size() && got == states[acked + 1];
    EXPECT_TRUE(got == states[acked] || in_flight_landed)
        << acked << " batches acknowledged; found:\n" << got << "expected:\n" << states[acked];
    store.reset();
    CheckReport report;
    ASSERT_TRUE(CheckStore(dir, /*deep=*/true, &report, TestOptions()).ok());
    EXPECT_TRUE(report.ok()) << report.ToString();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}

}  // namespace
}  // namespace durtest
}  // namespace zcmedia
