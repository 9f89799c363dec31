// Playlists and playlist entries: the legacy constraints and cascades,
// durability, and a randomised comparison with SQLite running the legacy
// schema (foreign keys on) through the same operations.
#include <sqlite3.h>

#include <map>
#include <random>

#include <gtest/gtest.h>

#include "test_util.h"
#include "zcmedia/check.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using test::OwnedRecord;
using test::TempDir;

Options SmallOptions() {
  Options o;
  o.memory_budget = 1 << 20;  // small in-memory runs: checkpoints happen
  return o;
}

std::unique_ptr<Store> OpenStore(const std::string& dir, const Options& options = SmallOptions()) {
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir, options, &store);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return store;
}

// Adds media files 1..n.
void AddMedia(Store* store, int n) {
  WriteBatch b;
  std::vector<OwnedRecord> records;
  for (int i = 1; i <= n; ++i) records.push_back(OwnedRecord::Sample(i));
  for (const OwnedRecord& r : records) b.Put(r.fields());
  ASSERT_TRUE(store->Write(b).ok());
}

Status CreatePlaylist(Store* store, std::string_view name, int64_t* id = nullptr) {
  WriteBatch b;
  b.PutPlaylist({0, name, std::nullopt, 100, 100});
  std::vector<int64_t> ids;
  Status s = store->Write(b, &ids);
  if (s.ok() && id != nullptr) *id = ids.at(0);
  return s;
}

Status AddEntry(Store* store, int64_t playlist, int64_t media, int64_t position, int64_t* id = nullptr) {
  WriteBatch b;
  b.PutPlaylistEntry({0, playlist, media, position, 200});
  std::vector<int64_t> ids;
  Status s = store->Write(b, &ids);
  if (s.ok() && id != nullptr) *id = ids.at(0);
  return s;
}

// (media_file_id, position) of a playlist's entries in position order.
std::vector<std::pair<int64_t, int64_t>> Entries(Store* store, int64_t playlist) {
  std::vector<PlaylistEntryView> entries;
  EXPECT_TRUE(store->GetSnapshot()->ListPlaylistEntries(playlist, &entries).ok());
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const PlaylistEntryView& e : entries) out.emplace_back(e.media_file_id(), e.position());
  return out;
}

TEST(PlaylistTest, CreateRenameDescribeDeleteWithUniqueNamesAndIdsNeverReused) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  int64_t rock = 0, jazz = 0;
  ASSERT_TRUE(CreatePlaylist(store.get(), "Rock", &rock).ok());
  ASSERT_TRUE(CreatePlaylist(store.get(), "Jazz", &jazz).ok());
  EXPECT_EQ(rock, 1);
  EXPECT_EQ(jazz, 2);

  Status dup = CreatePlaylist(store.get(), "Rock");
  EXPECT_TRUE(dup.IsConstraint());
  EXPECT_NE(dup.message().find("UNIQUE constraint failed: playlists.name"), std::string::npos) << dup.ToString();
  // Names are exact: another case is another name (SQLite's BINARY UNIQUE).
  EXPECT_TRUE(CreatePlaylist(store.get(), "rock").ok());

  {  // Rename onto a taken name fails; onto a free one works; NULL vs "" description.
    WriteBatch b;
    b.UpdatePlaylist(jazz, {0, "Rock", std::nullopt, 100, 101});
    EXPECT_TRUE(store->Write(b).IsConstraint());
    WriteBatch ok;
    ok.UpdatePlaylist(jazz, {0, "Smooth Jazz", "", 100, 102});
    ASSERT_TRUE(ok.size() == 1 && store->Write(ok).ok());
  }
  auto snap = store->GetSnapshot();
  PlaylistView v;
  ASSERT_TRUE(snap->FindPlaylistByName("Smooth Jazz", &v).ok());
  EXPECT_EQ(v.id(), jazz);
  ASSERT_TRUE(v.description().has_value());
  EXPECT_EQ(*v.description(), "");
  EXPECT_EQ(v.updated_at(), 102);
  EXPECT_TRUE(snap->FindPlaylistByName("Jazz", &v).IsNotFound());
  ASSERT_TRUE(snap->GetPlaylist(rock, &v).ok());
  EXPECT_FALSE(v.description().has_value());
  EXPECT_EQ(snap->playlist_count(), 3u);

  WriteBatch del;
  del.RemovePlaylist(jazz);
  ASSERT_TRUE(store->Write(del).ok());
  WriteBatch again;
  again.RemovePlaylist(jazz);
  EXPECT_TRUE(store->Write(again).IsConstraint());
  int64_t next = 0;
  ASSERT_TRUE(CreatePlaylist(store.get(), "Smooth Jazz", &next).ok());  // the name is free again
  EXPECT_EQ(next, 4);                                                    // the id is not
  std::vector<PlaylistView> all;
  ASSERT_TRUE(store->GetSnapshot()->ListPlaylists(&all).ok());
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id(), 1);
  EXPECT_EQ(all[1].id(), 3);
  EXPECT_EQ(all[2].id(), 4);
}

TEST(PlaylistTest, EntryConstraintsMatchTheLegacySchema) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  AddMedia(store.get(), 5);
  int64_t p = 0;
  ASSERT_TRUE(CreatePlaylist(store.get(), "Mix", &p).ok());
  ASSERT_TRUE(AddEntry(store.get(), p, 1, 0).ok());
  ASSERT_TRUE(AddEntry(store.get(), p, 2, 1).ok());

  Status pos = AddEntry(store.get(), p, 3, 1);
  EXPECT_TRUE(pos.IsConstraint());
  EXPECT_NE(pos.message().find("UNIQUE constraint failed: playlist_entries.playlist_id, playlist_entries.position"),
            std::string::npos)
      << pos.ToString();
  Status pair = AddEntry(store.get(), p, 2, 7);
  EXPECT_TRUE(pair.IsConstraint());
  EXPECT_NE(pair.message().find("playlist_entries.playlist_id, playlist_entries.media_file_id"), std::string::npos);
  Status no_playlist = AddEntry(store.get(), 99, 3, 0);
  EXPECT_TRUE(no_playlist.IsConstraint());
  EXPECT_NE(no_playlist.message().find("FOREIGN KEY constraint failed"), std::string::npos);
  EXPECT_TRUE(AddEntry(store.get(), p, 99, 5).IsConstraint());  // no such media file

  // The same media file at the same position in another playlist is fine.
  int64_t q = 0;
  ASSERT_TRUE(CreatePlaylist(store.get(), "Other", &q).ok());
  ASSERT_TRUE(AddEntry(store.get(), q, 2, 1).ok());

  int64_t next = -1;
  ASSERT_TRUE(store->GetSnapshot()->NextPlaylistPosition(p, &next).ok());
  EXPECT_EQ(next, 2);
  ASSERT_TRUE(store->GetSnapshot()->NextPlaylistPosition(12345, &next).ok());
  EXPECT_EQ(next, 0);

  // A batch is all or nothing: the valid first entry is not stored either.
  WriteBatch b;
  b.PutPlaylistEntry({0, p, 3, 2, 200});
  b.PutPlaylistEntry({0, p, 4, 0, 200});  // position 0 is taken
  EXPECT_TRUE(store->Write(b).IsConstraint());
  EXPECT_EQ(b.size(), 2u);  // left as it was
  EXPECT_EQ(Entries(store.get(), p), (std::vector<std::pair<int64_t, int64_t>>{{1, 0}, {2, 1}}));
  EXPECT_EQ(store->GetSnapshot()->playlist_entry_count(), 3u);
}

TEST(PlaylistTest, ReorderThroughAFreePositionAndEntriesComeInPositionOrder) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  AddMedia(store.get(), 4);
  int64_t p = 0;
  ASSERT_TRUE(CreatePlaylist(store.get(), "Order", &p).ok());
  std::vector<int64_t> ids(4);
  // Added out of order, with a gap.
  ASSERT_TRUE(AddEntry(store.get(), p, 1, 30, &ids[0]).ok());
  ASSERT_TRUE(AddEntry(store.get(), p, 2, 10, &ids[1]).ok());
  ASSERT_TRUE(AddEntry(store.get(), p, 3, 0, &ids[2]).ok());
  ASSERT_TRUE(AddEntry(store.get(), p, 4, 20, &ids[3]).ok());
  EXPECT_EQ(Entries(store.get(), p),
            (std::vector<std::pair<int64_t, int64_t>>{{3, 0}, {2, 10}, {4, 20}, {1, 30}}));

  // Swap media 3 (position 0) and media 1 (position 30) in one batch.
  WriteBatch swap;
  swap.UpdatePlaylistEntry(ids[2], {0, p, 3, -1, 200});
  swap.UpdatePlaylistEntry(ids[0], {0, p, 1, 0, 200});
  swap.UpdatePlaylistEntry(ids[2], {0, p, 3, 30, 200});
  ASSERT_TRUE(store->Write(swap).ok());
  EXPECT_EQ(Entries(store.get(), p),
            (std::vector<std::pair<int64_t, int64_t>>{{1, 0}, {2, 10}, {4, 20}, {3, 30}}));
  // Without the free position, the swap fails as it would in SQL.
  WriteBatch bad;
  bad.UpdatePlaylistEntry(ids[0], {0, p, 1, 30, 200});
  EXPECT_TRUE(store->Write(bad).IsConstraint());
  EXPECT_EQ(store->GetSnapshot()->playlist_entry_count(), 4u);
}

TEST(PlaylistTest, RemovingMediaOrPlaylistsCascadesToEntriesEvenWithinOneBatch) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  AddMedia(store.get(), 6);
  int64_t a = 0, b = 0;
  ASSERT_TRUE(CreatePlaylist(store.get(), "A", &a).ok());
  ASSERT_TRUE(CreatePlaylist(store.get(), "B", &b).ok());
  for (int m = 1; m <= 4; ++m) {
    ASSERT_TRUE(AddEntry(store.get(), a, m, m).ok());
    ASSERT_TRUE(AddEntry(store.get(), b, m, 10 - m).ok());
  }
  EXPECT_EQ(store->GetSnapshot()->playlist_entry_count(), 8u);

  WriteBatch remove_media;
  remove_media.Remove(2);
  ASSERT_TRUE(store->Write(remove_media).ok());
  auto snap = store->GetSnapshot();
  EXPECT_EQ(snap->playlist_entry_count(), 6u);
  std::vector<PlaylistEntryView> of_media;
  ASSERT_TRUE(snap->ListEntriesOfMediaFile(2, &of_media).ok());
  EXPECT_TRUE(of_media.empty());
  EXPECT_EQ(Entries(store.get(), a), (std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 3}, {4, 4}}));

  // An entry added and its media file removed in the same batch.
  WriteBatch same;
  same.PutPlaylistEntry({0, a, 5, 5, 200});
  same.Remove(5);
  ASSERT_TRUE(store->Write(same).ok());
  EXPECT_EQ(store->GetSnapshot()->playlist_entry_count(), 6u);
  EXPECT_EQ(Entries(store.get(), a), (std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 3}, {4, 4}}));

  WriteBatch remove_playlist;
  remove_playlist.RemovePlaylist(b);
  ASSERT_TRUE(store->Write(remove_playlist).ok());
  snap = store->GetSnapshot();
  EXPECT_EQ(snap->playlist_entry_count(), 3u);
  EXPECT_EQ(snap->playlist_count(), 1u);
  EXPECT_TRUE(Entries(store.get(), b).empty());
  ASSERT_TRUE(snap->ListEntriesOfMediaFile(1, &of_media).ok());
  ASSERT_EQ(of_media.size(), 1u);
  EXPECT_EQ(of_media[0].playlist_id(), a);

  // Everything survives reopen and an index rebuild, and checks clean.
  store.reset();
  ASSERT_TRUE(RepairIndexes(dir.path()).ok());
  store = OpenStore(dir.path());
  EXPECT_EQ(Entries(store.get(), a), (std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 3}, {4, 4}}));
  EXPECT_EQ(store->GetSnapshot()->playlist_entry_count(), 3u);
  store.reset();
  CheckReport report;
  ASSERT_TRUE(CheckStore(dir.path(), /*deep=*/true, &report).ok());
  EXPECT_TRUE(report.ok()) << report.ToString();
}

TEST(PlaylistTest, CallerSuppliedIdsAreKeptAndSequencesRaised) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  AddMedia(store.get(), 2);
  WriteBatch b;
  b.PutPlaylist({40, "Kept", std::nullopt, 1, 1});
  b.PutPlaylistEntry({700, 40, 1, 0, 1});
  b.RaiseNextPlaylistId(100);
  b.RaiseNextPlaylistEntryId(1000);
  ASSERT_TRUE(store->Write(b).ok());
  int64_t p = 0, e = 0;
  ASSERT_TRUE(CreatePlaylist(store.get(), "New", &p).ok());
  ASSERT_TRUE(AddEntry(store.get(), 40, 2, 1, &e).ok());
  EXPECT_EQ(p, 100);
  EXPECT_EQ(e, 1000);
  WriteBatch collide;
  collide.PutPlaylist({40, "Another", std::nullopt, 1, 1});
  EXPECT_TRUE(store->Write(collide).IsConstraint());
  WriteBatch out_of_range;
  out_of_range.PutPlaylist({kMaxPlaylistId + 1, "Huge", std::nullopt, 1, 1});
  EXPECT_TRUE(store->Write(out_of_range).IsInvalidArgument());
  store.reset();
  store = OpenStore(dir.path());
  EXPECT_EQ(store->GetSnapshot()->next_playlist_id(), 101);
  EXPECT_EQ(store->GetSnapshot()->next_playlist_entry_id(), 1001);
}

// ---- Randomised comparison with SQLite ------------------------------------------

class LegacyReference {
 public:
  LegacyReference() {
    EXPECT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    Exec("PRAGMA foreign_keys=ON;"
         "CREATE TABLE media_files (id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT UNIQUE NOT NULL);"
         "CREATE TABLE playlists (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL,"
         " description TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
         "CREATE TABLE playlist_entries (id INTEGER PRIMARY KEY AUTOINCREMENT, playlist_id INTEGER NOT NULL,"
         " media_file_id INTEGER NOT NULL, position INTEGER NOT NULL, created_at INTEGER NOT NULL,"
         " FOREIGN KEY (playlist_id) REFERENCES playlists(id) ON DELETE CASCADE,"
         " FOREIGN KEY (media_file_id) REFERENCES media_files(id) ON DELETE CASCADE,"
         " UNIQUE(playlist_id, media_file_id), UNIQUE(playlist_id, position));");
  }
  ~LegacyReference() { sqlite3_close(db_); }

  void Exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "") << sql;
  }
  // Runs one statement with integer/text parameters; true when it succeeded.
  // Parameters are bound as text (nullopt: NULL); the columns' INTEGER
  // affinity turns numbers back into integers.
  bool Run(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i])
        sqlite3_bind_text(st, static_cast<int>(i + 1), params[i]->c_str(), -1, SQLITE_TRANSIENT);
      else
        sqlite3_bind_null(st, static_cast<int>(i + 1));
    }
    const int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
  }
  std::vector<std::string> Rows(const std::string& sql) {
    std::vector<std::string> rows;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const auto* t = sqlite3_column_text(st, c);
        row += (t ? std::string(reinterpret_cast<const char*>(t)) : "NULL") + "|";
      }
      rows.push_back(row);
    }
    sqlite3_finalize(st);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::vector<std::string> StoreRows(const Snapshot& snap, bool playlists) {
  std::vector<std::string> rows;
  auto d = [](const OptText& t) { return t ? std::string(*t) : std::string("NULL"); };
  if (playlists) {
    std::vector<PlaylistView> all;
    EXPECT_TRUE(snap.ListPlaylists(&all).ok());
    for (const PlaylistView& p : all)
      rows.push_back(std::to_string(p.id()) + "|" + std::string(p.name()) + "|" + d(p.description()) + "|" +
                     std::to_string(p.created_at()) + "|" + std::to_string(p.updated_at()) + "|");
    return rows;
  }
  auto it = snap.NewPlaylistEntryIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const PlaylistEntryView e = it->entry();
    rows.push_back(std::to_string(e.id()) + "|" + std::to_string(e.playlist_id()) + "|" +
                   std::to_string(e.media_file_id()) + "|" + std::to_string(e.position()) + "|" +
                   std::to_string(e.created_at()) + "|");
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return rows;
}

class PlaylistModelTest : public ::testing::TestWithParam<int> {};

TEST_P(PlaylistModelTest, RandomOperationsAgreeWithSqliteIncludingFailuresAndCascades) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  LegacyReference ref;
  std::mt19937_64 rng(static_cast<uint64_t>(GetParam()));
  auto pick = [&](int n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
  std::vector<OwnedRecord> media;  // kept alive: batches hold views
  int next_media = 1;
  const std::vector<std::string> names = {"A", "B", "c", "C", "Mix", "", "Ünïcode", "Rock"};

  for (int step = 0; step < 900; ++step) {
    const int op = static_cast<int>(pick(100));
    WriteBatch b;
    bool ref_ok = false;
    std::string what;
    if (op < 15) {  // add media files
      const int n = 1 + static_cast<int>(pick(4));
      for (int i = 0; i < n; ++i) {
        media.push_back(OwnedRecord::Sample(next_media++));
        b.Put(media.back().fields());
        ASSERT_TRUE(ref.Run("INSERT INTO media_files(path) VALUES(?)", {media.back().path}));
      }
      ref_ok = true;
      what = "add media";
    } else if (op < 22) {  // remove a media file (cascade)
      const int64_t id = 1 + pick(next_media);
      b.Remove(id);
      ref_ok = ref.Run("DELETE FROM media_files WHERE id = ?", {std::to_string(id)}) &&
               ref.Rows("SELECT changes()").at(0) == "1|";
      what = "remove media " + std::to_string(id);
    } else if (op < 32) {  // create a playlist
      const std::string& name = names[pick(static_cast<int>(names.size()))];
      const bool described = pick(2) == 0;
      b.PutPlaylist({0, name, described ? OptText("desc " + name) : std::nullopt, step, step});
      ref_ok = ref.Run("INSERT INTO playlists(name, description, created_at, updated_at) VALUES(?, ?, ?, ?)",
                       {name, described ? std::optional<std::string>("desc " + name) : std::nullopt,
                        std::to_string(step), std::to_string(step)});
      what = "create playlist '" + name + "'";
    } else if (op < 37) {  // rename a playlist
      const int64_t id = 1 + pick(12);
      const std::string& name = names[pick(static_cast<int>(names.size()))];
      b.UpdatePlaylist(id, {0, name, std::nullopt, 1, step});
      ref_ok = ref.Run("UPDATE playlists SET name = ?, description = NULL, created_at = 1, updated_at = ? WHERE id = ?",
                       {name, std::to_string(step), std::to_string(id)}) &&
               ref.Rows("SELECT changes()").at(0) == "1|";
      what = "rename playlist " + std::to_string(id) + " to '" + name + "'";
    } else if (op < 41) {  // delete a playlist (cascade)
      const int64_t id = 1 + pick(12);
      b.RemovePlaylist(id);
      ref_ok = ref.Run("DELETE FROM playlists WHERE id = ?", {std::to_string(id)}) &&
               ref.Rows("SELECT changes()").at(0) == "1|";
      what = "delete playlist " + std::to_string(id);
    } else if (op < 80) {  // add an entry (often colliding)
      const int64_t playlist = 1 + pick(12), m = 1 + pick(next_media), pos = pick(12);
      b.PutPlaylistEntry({0, playlist, m, pos, step});
      ref_ok = ref.Run("INSERT INTO playlist_entries(playlist_id, media_file_id, position, created_at) VALUES(?,?,?,?)",
                       {std::to_string(playlist), std::to_string(m), std::to_string(pos), std::to_string(step)});
      what = "add entry " + std::to_string(playlist) + "/" + std::to_string(m) + "@" + std::to_string(pos);
    } else if (op < 92) {  // move an entry (position, sometimes playlist)
      const int64_t id = 1 + pick(static_cast<int>(store->GetSnapshot()->next_playlist_entry_id()));
      PlaylistEntryView e;
      if (!store->GetSnapshot()->GetPlaylistEntry(id, &e).ok()) continue;
      const int64_t playlist = pick(4) == 0 ? 1 + pick(12) : e.playlist_id();
      const int64_t pos = pick(12);
      b.UpdatePlaylistEntry(id, {0, playlist, e.media_file_id(), pos, e.created_at()});
      ref_ok = ref.Run("UPDATE playlist_entries SET playlist_id = ?, position = ? WHERE id = ?",
                       {std::to_string(playlist), std::to_string(pos), std::to_string(id)});
      what = "move entry " + std::to_string(id);
    } else {  // remove an entry
      const int64_t id = 1 + pick(static_cast<int>(store->GetSnapshot()->next_playlist_entry_id()));
      b.RemovePlaylistEntry(id);
      ref_ok = ref.Run("DELETE FROM playlist_entries WHERE id = ?", {std::to_string(id)}) &&
               ref.Rows("SELECT changes()").at(0) == "1|";
      what = "remove entry " + std::to_string(id);
    }
    Status s = store->Write(b);
    ASSERT_EQ(s.ok(), ref_ok) << "step " << step << ": " << what << ": store says " << s.ToString();
    if (!s.ok()) {
      ASSERT_TRUE(s.IsConstraint()) << s.ToString();
    }

    if (step % 50 == 49 || step == 0) {
      auto snap = store->GetSnapshot();
      ASSERT_EQ(StoreRows(*snap, true), ref.Rows("SELECT * FROM playlists ORDER BY id")) << "step " << step;
      ASSERT_EQ(StoreRows(*snap, false), ref.Rows("SELECT * FROM playlist_entries ORDER BY id")) << "step " << step;
      for (int64_t p = 1; p <= 12; ++p) {
        std::vector<PlaylistEntryView> entries;
        ASSERT_TRUE(snap->ListPlaylistEntries(p, &entries).ok());
        std::vector<std::string> got;
        for (const PlaylistEntryView& e : entries) got.push_back(std::to_string(e.id()) + "|");
        ASSERT_EQ(got, ref.Rows("SELECT id FROM playlist_entries WHERE playlist_id = " + std::to_string(p) +
                                " ORDER BY position"));
        int64_t next = 0;
        ASSERT_TRUE(snap->NextPlaylistPosition(p, &next).ok());
        ASSERT_EQ(std::to_string(next) + "|",
                  ref.Rows("SELECT COALESCE(MAX(position) + 1, 0) FROM playlist_entries WHERE playlist_id = " +
                           std::to_string(p)).at(0));
      }
      ASSERT_EQ(std::to_string(snap->playlist_count()) + "|", ref.Rows("SELECT COUNT(*) FROM playlists").at(0));
      ASSERT_EQ(std::to_string(snap->playlist_entry_count()) + "|",
                ref.Rows("SELECT COUNT(*) FROM playlist_entries").at(0));
    }
    if (step % 300 == 299) {  // reopen: the in-memory runs replayed or checkpointed
      store.reset();
      store = OpenStore(dir.path());
    }
  }
  store.reset();
  CheckReport report;
  ASSERT_TRUE(CheckStore(dir.path(), /*deep=*/true, &report).ok());
  EXPECT_TRUE(report.ok()) << report.ToString();
}

INSTANTIATE_TEST_SUITE_P(Seeds, PlaylistModelTest, ::testing::Values(1, 2, 3));

}  // namespace
}  // namespace zcmedia
