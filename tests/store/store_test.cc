// Store behaviour through the public API: round trips, reopen, ids, the
// UNIQUE path rule, updates, removes, directory listings, iteration, and a
// randomized comparison against an in-memory model across checkpoints,
// index compactions and reopens.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "format.h"
#include "test_util.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using test::OwnedRecord;
using test::TempDir;

std::unique_ptr<Store> OpenOrDie(const std::string& dir, Options options = {}) {
  std::unique_ptr<Store> store;
  Status s = Store::Open(dir, options, &store);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return store;
}

TEST(StoreTest, RoundTripEveryFieldWithNullsAndNonAscii) {
  TempDir dir;
  OwnedRecord full = OwnedRecord::Sample(1);
  full.title = "Été — 日本語 ünïcödé";
  OwnedRecord sparse;  // every nullable column NULL, empty strings elsewhere
  sparse.path = "/media/odd/ファイル.flac";
  sparse.parent_path = std::string("");  // "" is not NULL and not the derived parent
  sparse.filename.reset();
  sparse.mime_type = std::string("application/x-unknown");  // not in the mime table
  sparse.genre = std::string("");
  sparse.duration = 0;  // 0 is not NULL
  sparse.year.reset();
  std::vector<int64_t> ids;
  {
    auto store = OpenOrDie(dir.path());
    WriteBatch b;
    b.Put(full.fields());
    b.Put(sparse.fields());
    ASSERT_TRUE(store->Write(b, &ids).ok());
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_EQ(ids[0], 1);
    EXPECT_EQ(ids[1], 2);
    EXPECT_TRUE(b.empty());
  }
  auto store = OpenOrDie(dir.path());
  auto snap = store->GetSnapshot();
  EXPECT_EQ(snap->record_count(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    OwnedRecord& want = i == 0 ? full : sparse;
    want.id = ids[i];
    MediaFileView v;
    ASSERT_TRUE(snap->Get(ids[i], &v).ok());
    EXPECT_TRUE(SameColumns(v.Fields(), want.fields())) << test::Describe(v.Fields()) << "\nwant\n"
                                                        << test::Describe(want.fields());
    ASSERT_TRUE(snap->FindByPath(want.path, &v).ok());
    EXPECT_EQ(v.id(), ids[i]);
  }
  MediaFileView v;
  ASSERT_TRUE(snap->Get(ids[1], &v).ok());
  EXPECT_FALSE(v.year().has_value());
  ASSERT_TRUE(v.duration().has_value());
  EXPECT_EQ(*v.duration(), 0);
  ASSERT_TRUE(v.genre().has_value());
  EXPECT_EQ(*v.genre(), "");
  EXPECT_FALSE(v.filename().has_value());
  EXPECT_EQ(*v.parent_path(), "");
}

TEST(StoreTest, DuplicatePathIsRefusedAndNothingOfTheBatchIsStored) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  OwnedRecord a = OwnedRecord::Sample(1), b = OwnedRecord::Sample(2);
  WriteBatch batch;
  batch.Put(a.fields());
  ASSERT_TRUE(store->Write(batch).ok());

  batch.Put(b.fields());
  batch.Put(a.fields());  // duplicate of a stored path
  Status s = store->Write(batch);
  ASSERT_TRUE(s.IsConstraint()) << s.ToString();
  EXPECT_NE(s.message().find("UNIQUE constraint failed: media_files.path"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(a.path), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("batch entry 1"), std::string::npos) << s.message();
  EXPECT_EQ(batch.size(), 2u);  // left as it was
  auto snap = store->GetSnapshot();
  EXPECT_EQ(snap->record_count(), 1u);
  MediaFileView v;
  EXPECT_TRUE(snap->FindByPath(b.path, &v).IsNotFound());

  WriteBatch dup_in_batch;  // duplicates inside one batch
  dup_in_batch.Put(b.fields());
  dup_in_batch.Put(b.fields());
  EXPECT_TRUE(store->Write(dup_in_batch).IsConstraint());
  EXPECT_EQ(store->GetSnapshot()->record_count(), 1u);
}

TEST(StoreTest, IdsPersistAreMonotonicAndNeverReused) {
  TempDir dir;
  int64_t last = 0;
  for (int round = 0; round < 3; ++round) {
    auto store = OpenOrDie(dir.path());
    WriteBatch b;
    OwnedRecord r = OwnedRecord::Sample(100 + round);
    b.Put(r.fields());
    std::vector<int64_t> ids;
    ASSERT_TRUE(store->Write(b, &ids).ok());
    EXPECT_GT(ids[0], last);
    last = ids[0];
    b.Remove(ids[0]);  // removing the newest must not let its id come back
    ASSERT_TRUE(store->Write(b).ok());
  }
  auto store = OpenOrDie(dir.path());
  EXPECT_EQ(store->GetSnapshot()->next_id(), last + 1);
  EXPECT_EQ(store->GetSnapshot()->record_count(), 0u);
}

TEST(StoreTest, CallerSuppliedIdsAndCollisions) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  OwnedRecord a = OwnedRecord::Sample(1), b = OwnedRecord::Sample(2), c = OwnedRecord::Sample(3);
  a.id = 500;
  WriteBatch batch;
  batch.Put(a.fields());
  batch.RaiseNextId(900);  // sqlite_sequence above max(id)
  ASSERT_TRUE(store->Write(batch).ok());
  b.id = 500;
  batch.Put(b.fields());
  Status s = store->Write(batch);
  EXPECT_TRUE(s.IsConstraint()) << s.ToString();
  batch.Clear();
  std::vector<int64_t> ids;
  batch.Put(c.fields());
  ASSERT_TRUE(store->Write(batch, &ids).ok());
  EXPECT_EQ(ids[0], 900);
}

TEST(StoreTest, UpdateAndRemoveKeepIndexesCurrent) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  OwnedRecord a = OwnedRecord::Sample(1);
  WriteBatch batch;
  batch.Put(a.fields());
  std::vector<int64_t> ids;
  ASSERT_TRUE(store->Write(batch, &ids).ok());
  const int64_t id = ids[0];
  const std::string old_path = a.path, old_parent = *a.parent_path;

  a.path = "/media/moved/elsewhere/new name.mp3";
  a.parent_path = std::string("/media/moved/elsewhere");
  a.filename = std::string("new name.mp3");
  a.canonical_path = a.path;
  a.canonical_parent_path = a.parent_path;
  a.title = std::string("Retitled");
  batch.Update(id, a.fields());
  ASSERT_TRUE(store->Write(batch).ok());

  auto snap = store->GetSnapshot();
  MediaFileView v;
  EXPECT_TRUE(snap->FindByPath(old_path, &v).IsNotFound());
  ASSERT_TRUE(snap->FindByPath(a.path, &v).ok());
  EXPECT_EQ(v.id(), id);
  EXPECT_EQ(*v.title(), "Retitled");
  std::vector<MediaFileView> listing;
  ASSERT_TRUE(snap->ListDirectory(old_parent, &listing).ok());
  EXPECT_TRUE(listing.empty());
  ASSERT_TRUE(snap->ListDirectory("/media/moved/elsewhere", &listing).ok());
  ASSERT_EQ(listing.size(), 1u);
  EXPECT_EQ(snap->record_count(), 1u);

  // The old path is free again.
  OwnedRecord reuse = OwnedRecord::Sample(1);
  batch.Put(reuse.fields());
  ASSERT_TRUE(store->Write(batch).ok());

  batch.Remove(id);
  ASSERT_TRUE(store->Write(batch).ok());
  snap = store->GetSnapshot();
  EXPECT_TRUE(snap->Get(id, &v).IsNotFound());
  EXPECT_TRUE(snap->FindByPath(a.path, &v).IsNotFound());
  EXPECT_EQ(snap->record_count(), 1u);

  batch.Remove(id);  // already gone
  EXPECT_TRUE(store->Write(batch).IsConstraint());
  batch.Clear();
  batch.Update(12345, a.fields());
  EXPECT_TRUE(store->Write(batch).IsConstraint());
}

TEST(StoreTest, SnapshotIsStableWhileWritesContinue) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  WriteBatch batch;
  OwnedRecord a = OwnedRecord::Sample(1);
  batch.Put(a.fields());
  ASSERT_TRUE(store->Write(batch).ok());
  auto before = store->GetSnapshot();
  batch.Remove(1);
  ASSERT_TRUE(store->Write(batch).ok());
  MediaFileView v;
  ASSERT_TRUE(before->Get(1, &v).ok());
  EXPECT_EQ(v.path(), a.path);
  EXPECT_TRUE(store->GetSnapshot()->Get(1, &v).IsNotFound());
}

TEST(StoreTest, SecondWriterIsBusyAndReadOnlyCannotWrite) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  std::unique_ptr<Store> other;
  // flock locks are per open file description: a second open in the same
  // process conflicts like another process would.
  Options no_wait;
  no_wait.lock_timeout = std::chrono::milliseconds(0);
  Status s = Store::Open(dir.path(), no_wait, &other);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find("locked by process"), std::string::npos);
  Options ro;
  ro.read_only = true;
  ASSERT_TRUE(Store::Open(dir.path(), ro, &other).ok());
  WriteBatch b;
  OwnedRecord a = OwnedRecord::Sample(1);
  b.Put(a.fields());
  EXPECT_TRUE(other->Write(b).IsReadOnly());
  // The reader follows the writer.
  ASSERT_TRUE(store->Write(b).ok());
  EXPECT_EQ(other->GetSnapshot()->record_count(), 1u);
}

TEST(StoreTest, BadOptionsAndMissingStore) {
  TempDir dir;
  std::unique_ptr<Store> store;
  Options tiny;
  tiny.memory_budget = 1000;
  Status s = Store::Open(dir.path() + "/x", tiny, &store);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  Options ro;
  ro.read_only = true;
  s = Store::Open(dir.path() + "/missing", ro, &store);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("missing"), std::string::npos);
}

void CheckAgainstModel(Store& store, const std::map<int64_t, OwnedRecord>& model);

TEST(StoreTest, DirectoryListingFilteredByMimeFamily) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  const char* mimes[] = {"audio/flac", "VIDEO/mp4", "video/x-matroska", "image/jpeg", nullptr, "text/plain"};
  WriteBatch b;
  std::vector<OwnedRecord> recs;
  for (int i = 0; i < 6; ++i) {
    OwnedRecord r = OwnedRecord::Sample(i);
    r.parent_path = "/media/mixed";
    r.canonical_parent_path = r.parent_path;
    r.path = "/media/mixed/" + *r.filename;
    r.canonical_path = r.path;
    r.mime_type = mimes[i] ? std::optional<std::string>(mimes[i]) : std::nullopt;
    recs.push_back(r);
  }
  OwnedRecord elsewhere = OwnedRecord::Sample(99);  // a video in another directory
  elsewhere.mime_type = "video/mp4";
  for (const auto& r : recs) b.Put(r.fields());
  b.Put(elsewhere.fields());
  std::vector<int64_t> ids;
  ASSERT_TRUE(store->Write(b, &ids).ok());
  auto snap = store->GetSnapshot();
  auto ids_of = [&](MimeFamily family) {
    std::vector<MediaFileView> out;
    EXPECT_TRUE(snap->ListDirectory("/media/mixed", family, &out).ok());
    std::vector<int64_t> got;
    for (const auto& v : out) got.push_back(v.id());
    return got;
  };
  EXPECT_EQ(ids_of(MimeFamily::kAudio), (std::vector<int64_t>{ids[0]}));
  EXPECT_EQ(ids_of(MimeFamily::kVideo), (std::vector<int64_t>{ids[1], ids[2]}));
  EXPECT_EQ(ids_of(MimeFamily::kImage), (std::vector<int64_t>{ids[3]}));
  EXPECT_EQ(ids_of(MimeFamily::kOther), (std::vector<int64_t>{ids[4], ids[5]}));
  std::vector<MediaFileView> all;
  ASSERT_TRUE(snap->ListDirectory("/media/mixed", &all).ok());
  EXPECT_EQ(all.size(), 6u);
}

// Dead space counts exactly the segment bytes of replaced versions and of
// removals (each removed version plus its removal entry), and is committed:
// the same after reopen and after an index rebuild.
TEST(StoreTest, DeadBytesCountReplacedAndRemovedVersions) {
  TempDir dir;
  std::vector<int64_t> ids;
  std::unique_ptr<Store> store = OpenOrDie(dir.path());
  {
    WriteBatch b;
    for (int i = 0; i < 100; ++i) b.Put(OwnedRecord::Sample(i).fields());
    ASSERT_TRUE(store->Write(b, &ids).ok());
  }
  EXPECT_EQ(store->GetSnapshot()->dead_bytes(), 0u);
  // Writes versions of the first ten records; returns the entry bytes written.
  auto update_ten = [&](int salt) -> uint64_t {
    const uint64_t before = store->Info().segment_bytes;
    WriteBatch b;
    for (int i = 0; i < 10; ++i) {
      OwnedRecord r = OwnedRecord::Sample(i);
      r.title = "version " + std::to_string(salt);
      b.Update(ids[i], r.fields());
    }
    EXPECT_TRUE(store->Write(b).ok());
    return store->Info().segment_bytes - before - sizeof(format::BatchHeader);
  };
  const uint64_t first = update_ten(1);
  const uint64_t dead1 = store->GetSnapshot()->dead_bytes();
  EXPECT_GT(dead1, 0u);  // the ten original versions
  const uint64_t second = update_ten(2);
  EXPECT_EQ(store->GetSnapshot()->dead_bytes(), dead1 + first) << "the second update replaces the first's versions";
  const uint64_t dead2 = store->GetSnapshot()->dead_bytes();
  {
    WriteBatch b;
    for (int i = 0; i < 10; ++i) b.Remove(ids[i]);
    ASSERT_TRUE(store->Write(b).ok());
  }
  const uint64_t dead3 = store->GetSnapshot()->dead_bytes();
  EXPECT_EQ(dead3, dead2 + second + 10 * sizeof(format::EntryHeader));
  store.reset();
  store = OpenOrDie(dir.path());
  EXPECT_EQ(store->GetSnapshot()->dead_bytes(), dead3);
  EXPECT_EQ(store->GetSnapshot()->totals().total_files(), 90u);
  store.reset();
  ASSERT_TRUE(RepairIndexes(dir.path()).ok());
  store = OpenOrDie(dir.path());
  EXPECT_EQ(store->GetSnapshot()->dead_bytes(), dead3) << "recomputed by the rebuild";
  EXPECT_EQ(store->GetSnapshot()->totals().files[static_cast<int>(MimeFamily::kAudio)], 90u);
}

TEST(StoreTest, RepairIndexesRebuildsDamagedOrMissingRunsFromSegments) {
  TempDir dir;
  Options options;
  options.memory_budget = 1 << 20;  // checkpoints write run files early
  std::map<int64_t, OwnedRecord> model;
  {
    auto store = OpenOrDie(dir.path(), options);
    for (int b = 0; b < 12; ++b) {
      WriteBatch batch;
      std::vector<OwnedRecord> recs;
      for (int i = 0; i < 1000; ++i) recs.push_back(OwnedRecord::Sample(b * 1000 + i));
      for (const auto& r : recs) batch.Put(r.fields());
      std::vector<int64_t> ids;
      ASSERT_TRUE(store->Write(batch, &ids).ok());
      for (size_t i = 0; i < ids.size(); ++i) {
        recs[i].id = ids[i];
        model[ids[i]] = recs[i];
      }
    }
    WriteBatch removes;
    for (int64_t id = 5; id < 12000; id += 97) {
      removes.Remove(id);
      model.erase(id);
    }
    ASSERT_TRUE(store->Write(removes).ok());
    ASSERT_GT(store->Info().index_runs, 0u);
  }
  // Damage one run file and delete another.
  std::vector<std::string> runs;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    if (e.path().filename().string().rfind("idx-", 0) == 0) runs.push_back(e.path().string());
  ASSERT_GE(runs.size(), 2u);
  {
    std::fstream f(runs[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');
  }
  std::filesystem::remove(runs[1]);
  std::unique_ptr<Store> broken;
  Status s = Store::Open(dir.path(), options, &broken);
  ASSERT_FALSE(s.ok());

  ASSERT_TRUE(RepairIndexes(dir.path(), options).ok());
  auto store = OpenOrDie(dir.path(), options);
  CheckAgainstModel(*store, model);
  // And it keeps working: new writes, ids continue.
  WriteBatch batch;
  OwnedRecord extra = OwnedRecord::Sample(99999);
  batch.Put(extra.fields());
  std::vector<int64_t> ids;
  ASSERT_TRUE(store->Write(batch, &ids).ok());
  EXPECT_EQ(ids[0], 12001);
}

// A long load at the smallest budget: more flushes of the in-memory runs
// than the meta page has run slots per index, with merges of the higher
// run tiers running in their lanes beside the flushes
// (StoreImpl::MaybeCheckpoint). Every record stays found while merges
// install into run lists that flushes changed after they started, and the
// tier merges keep the run files few (without them every index would sit
// near the meta page's limit, where merges are forced).
TEST(StoreTest, BackgroundMergesKeepRunsFewThroughALongLoad) {
  TempDir dir;
  Options options;
  options.memory_budget = 1 << 20;
  std::map<int64_t, OwnedRecord> model;
  constexpr int kBatches = 144;  // of 1,000 records: enough flushes for eight tier-1 runs
  uint64_t most_runs = 0, checkpoints = 0, merges = 0;
  {
    auto store = OpenOrDie(dir.path(), options);
    int name = 0;
    for (int b = 0; b < kBatches; ++b) {
      WriteBatch batch;
      std::vector<OwnedRecord> recs;
      for (int i = 0; i < 1000; ++i) recs.push_back(OwnedRecord::Sample(name++));
      for (const auto& r : recs) batch.Put(r.fields());
      // Tombstones too, so that merges that reach the oldest run drop them.
      for (int64_t id = 1 + (b - 1) * 1000; b > 0 && id <= b * 1000; id += 37)
        if (model.erase(id) == 1) batch.Remove(id);
      std::vector<int64_t> ids;
      Status s = store->Write(batch, &ids);
      ASSERT_TRUE(s.ok()) << s.ToString();
      for (size_t i = 0; i < ids.size(); ++i) {
        recs[i].id = ids[i];
        model[ids[i]] = recs[i];
      }
      most_runs = std::max(most_runs, store->Info().index_runs);
      if (b == kBatches - 1) CheckAgainstModel(*store, model);  // merges may still be in flight
    }
    checkpoints = store->GetStats().checkpoints;
    merges = store->GetStats().index_merges;
  }
  EXPECT_GT(checkpoints, uint64_t{format::kMaxRunsPerKind}) << "fewer flushes than run slots: the test proves nothing";
  EXPECT_GT(merges, 0u) << "no merge lane ran: the test does not exercise one";
  EXPECT_LE(most_runs, uint64_t{format::kRunKinds} * 24) << "the run tiers were not merged as the load went";
  auto store = OpenOrDie(dir.path(), options);
  CheckAgainstModel(*store, model);
}

TEST(StoreTest, RepairIndexesRefusesAMissingStore) {
  TempDir dir;
  Status s = RepairIndexes(dir.path() + "/none");
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
}

// A model of the store: id -> record. Every operation goes to both; after
// each step (and across reopens) every lookup must agree.
class ModelTest : public ::testing::TestWithParam<uint32_t> {};

void CheckAgainstModel(Store& store, const std::map<int64_t, OwnedRecord>& model) {
  auto snap = store.GetSnapshot();
  ASSERT_EQ(snap->record_count(), model.size());
  std::map<std::string, std::set<int64_t>> dirs;
  for (const auto& [id, rec] : model) {
    MediaFileView v;
    ASSERT_TRUE(snap->Get(id, &v).ok()) << "id " << id;
    ASSERT_TRUE(SameColumns(v.Fields(), rec.fields())) << test::Describe(v.Fields());
    ASSERT_TRUE(snap->FindByPath(rec.path, &v).ok()) << rec.path;
    ASSERT_EQ(v.id(), id);
    if (rec.parent_path) dirs[*rec.parent_path].insert(id);
  }
  for (const auto& [parent, ids] : dirs) {
    std::vector<MediaFileView> listing;
    ASSERT_TRUE(snap->ListDirectory(parent, &listing).ok());
    std::set<int64_t> got;
    for (const auto& v : listing) got.insert(v.id());
    ASSERT_EQ(got, ids) << parent;
  }
  auto it = snap->NewIterator();
  auto want = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++want) {
    ASSERT_NE(want, model.end());
    ASSERT_EQ(it->id(), want->first);
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  ASSERT_EQ(want, model.end());
  if (!model.empty()) {  // Seek into the middle
    auto mid = std::next(model.begin(), static_cast<long>(model.size() / 2));
    it->Seek(mid->first);
    ASSERT_TRUE(it->Valid());
    ASSERT_EQ(it->id(), mid->first);
  }
  // Library totals: per mime family, maintained by every write.
  LibraryTotals want_totals;
  for (const auto& [id, rec] : model) {
    const int f = static_cast<int>(MimeFamilyOf(rec.mime_type ? OptText(*rec.mime_type) : std::nullopt));
    ++want_totals.files[f];
    want_totals.bytes[f] += rec.size;
    if (rec.parent_path && rec.path.starts_with(*rec.parent_path)) ++want_totals.parent_prefix_files;
  }
  const LibraryTotals totals = snap->totals();
  for (int f = 0; f < kMimeFamilies; ++f) {
    ASSERT_EQ(totals.files[f], want_totals.files[f]) << "family " << f;
    ASSERT_EQ(totals.bytes[f], want_totals.bytes[f]) << "family " << f;
  }
  ASSERT_EQ(totals.total_files(), model.size());
  ASSERT_EQ(totals.parent_prefix_files, want_totals.parent_prefix_files);
  // Categories: every value's track count and track ids, from the model.
  // (Their orders are checked against SQLite in category_test.cc.)
  struct Expected {
    std::map<std::string, std::set<int64_t>> by_name;
    std::map<int64_t, std::set<int64_t>> by_year;
  };
  const Category kNamed[] = {Category::kArtist, Category::kAlbum, Category::kGenre, Category::kAlbumArtist};
  std::map<Category, Expected> expected;
  for (const auto& [id, rec] : model) {
    if (!rec.mime_type || rec.mime_type->rfind("audio/", 0) != 0) continue;
    const std::optional<std::string>* texts[] = {&rec.artist, &rec.album, &rec.genre, &rec.album_artist};
    for (size_t c = 0; c < 4; ++c)
      if (*texts[c] && !(*texts[c])->empty()) expected[kNamed[c]].by_name[**texts[c]].insert(id);
    if (rec.year) expected[Category::kYear].by_year[*rec.year].insert(id);
  }
  for (Category c : kNamed) {
    std::vector<CategoryCount> values;
    ASSERT_TRUE(snap->ListCategory(c, &values).ok());
    const auto& want_values = expected[c].by_name;
    ASSERT_EQ(values.size(), want_values.size()) << "category " << int(c);
    for (const CategoryCount& v : values) {
      auto w = want_values.find(std::string(v.name));
      ASSERT_NE(w, want_values.end()) << v.name;
      ASSERT_EQ(v.tracks, w->second.size()) << v.name;
      std::vector<MediaFileView> tracks;
      ASSERT_TRUE(snap->ListTracks(c, v.name, &tracks).ok());
      std::set<int64_t> got;
      for (const MediaFileView& t : tracks) got.insert(t.id());
      ASSERT_EQ(got, w->second) << v.name;
    }
  }
  std::vector<CategoryCount> years;
  ASSERT_TRUE(snap->ListCategory(Category::kYear, &years).ok());
  ASSERT_EQ(years.size(), expected[Category::kYear].by_year.size());
  for (const CategoryCount& y : years) {
    ASSERT_EQ(y.tracks, expected[Category::kYear].by_year[y.year].size()) << y.year;
    std::vector<MediaFileView> tracks;
    ASSERT_TRUE(snap->ListTracksOfYear(y.year, &tracks).ok());
    ASSERT_EQ(tracks.size(), y.tracks);
  }
}

TEST_P(ModelTest, RandomOperationsMatchModelAcrossCheckpointsAndReopens) {
  std::mt19937_64 rng(GetParam());
  TempDir dir;
  Options options;
  options.memory_budget = 1 << 20;  // small: many checkpoints and run merges
  options.segment_max_bytes = 1 << 20;  // small: many segments
  std::map<int64_t, OwnedRecord> model;
  auto store = OpenOrDie(dir.path(), options);
  int next_name = 0;
  uint64_t most_runs = 0;
  for (int step = 0; step < 80; ++step) {
    WriteBatch batch;
    std::map<int64_t, OwnedRecord> staged = model;
    std::vector<int64_t> staged_new;
    std::vector<OwnedRecord> puts;
    puts.reserve(400);
    const int ops = 1 + static_cast<int>(rng() % 600);
    for (int i = 0; i < ops; ++i) {
      const int what = static_cast<int>(rng() % 10);
      if (what < 6 || staged.empty()) {
        puts.push_back(OwnedRecord::Sample(next_name++));
        batch.Put(puts.back().fields());
      } else {
        auto pick = std::next(staged.begin(), static_cast<long>(rng() % staged.size()));
        if (what < 8) {
          OwnedRecord changed = OwnedRecord::Sample(next_name++);  // new path and dir
          changed.id = pick->first;
          if (rng() % 2) {  // same path, other columns
            changed.path = pick->second.path;
            // Now and then a parent_path that does not lead the path (as
            // `UPDATE ... SET path` alone leaves it).
            if (rng() % 5 != 0) changed.parent_path = pick->second.parent_path;
          }
          batch.Update(pick->first, changed.fields());
          pick->second = changed;
        } else {
          batch.Remove(pick->first);
          staged.erase(pick);
        }
      }
    }
    std::vector<int64_t> ids;
    Status s = store->Write(batch, &ids);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(ids.size(), puts.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      puts[i].id = ids[i];
      staged[ids[i]] = puts[i];
    }
    model = std::move(staged);
    most_runs = std::max(most_runs, store->Info().index_runs);
    if (step % 9 == 0) CheckAgainstModel(*store, model);
    if (step % 13 == 12) {
      store.reset();
      store = OpenOrDie(dir.path(), options);
      CheckAgainstModel(*store, model);
    }
    if (step == 40) {
      ASSERT_TRUE(store->CompactIndexes().ok());
    }
  }
  CheckAgainstModel(*store, model);
  store.reset();
  store = OpenOrDie(dir.path(), options);
  CheckAgainstModel(*store, model);
  EXPECT_GT(most_runs, 3u);  // checkpoints wrote run files beyond one per index
  ASSERT_TRUE(store->CompactIndexes().ok());
  CheckAgainstModel(*store, model);
  StoreInfo info = store->Info();
  // One run per index: id, path, dir and the directory tree always; the
  // category index has none if no audio record with a category value was
  // ever stored, the playlist index none without playlists.
  EXPECT_GE(info.index_runs, 4u);
  EXPECT_LE(info.index_runs, 5u);
  EXPECT_GT(info.segment_count, 1u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ModelTest, ::testing::Values(1u, 2u, 3u, 4u));

}  // namespace
}  // namespace zcmedia
