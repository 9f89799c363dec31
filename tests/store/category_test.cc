// Music categories against SQLite: the same randomised rows (NULLs, empty
// strings, mixed case, non-ASCII, non-audio records) in the store and in an
// ordinary SQLite table, and the legacy server's queries run on the table
// are the reference for every listing and track list, through updates,
// removes, reopen and index compaction.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <random>
#include <set>

#include "category.h"
#include "test_util.h"
#include "zcmedia/store.h"

namespace zcmedia {
namespace {

using test::OwnedRecord;
using test::TempDir;

// The reference: an ordinary table with the columns the queries use.
class Reference {
 public:
  Reference() {
    EXPECT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, filename TEXT, mime_type TEXT, artist TEXT, album TEXT, "
         "genre TEXT, year INTEGER, track_number INTEGER, album_artist TEXT)");
  }
  ~Reference() { sqlite3_close(db_); }

  void Exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "") << "\n" << sql;
  }
  void Upsert(const OwnedRecord& r) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO t VALUES(?,?,?,?,?,?,?,?,?)", -1, &st, nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(st, 1, r.id);
    BindText(st, 2, r.filename);
    BindText(st, 3, r.mime_type);
    BindText(st, 4, r.artist);
    BindText(st, 5, r.album);
    BindText(st, 6, r.genre);
    BindInt(st, 7, r.year);
    BindInt(st, 8, r.track_number);
    BindText(st, 9, r.album_artist);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
  }
  void Remove(int64_t id) { Exec("DELETE FROM t WHERE id = " + std::to_string(id)); }

  // Rows of (text-or-int value, count) or of ids, from a query with up to
  // two text parameters.
  std::vector<std::pair<std::string, int64_t>> Groups(const std::string& sql, std::vector<std::string> params = {}) {
    std::vector<std::pair<std::string, int64_t>> out;
    sqlite3_stmt* st = Prepare(sql, params);
    while (sqlite3_step(st) == SQLITE_ROW)
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
    return out;
  }
  std::vector<int64_t> Ids(const std::string& sql, std::vector<std::string> params = {}) {
    std::vector<int64_t> out;
    sqlite3_stmt* st = Prepare(sql, params);
    while (sqlite3_step(st) == SQLITE_ROW) out.push_back(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    return out;
  }

 private:
  static void BindText(sqlite3_stmt* st, int i, const std::optional<std::string>& v) {
    if (v) sqlite3_bind_text(st, i, v->data(), static_cast<int>(v->size()), SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
  }
  static void BindInt(sqlite3_stmt* st, int i, const std::optional<int64_t>& v) {
    if (v) sqlite3_bind_int64(st, i, *v);
    else sqlite3_bind_null(st, i);
  }
  sqlite3_stmt* Prepare(const std::string& sql, const std::vector<std::string>& params) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db_) << "\n" << sql;
    for (size_t i = 0; i < params.size(); ++i)
      sqlite3_bind_text(st, static_cast<int>(i + 1), params[i].data(), static_cast<int>(params[i].size()),
                        SQLITE_TRANSIENT);
    return st;
  }
  sqlite3* db_ = nullptr;
};

// Random rows drawn from small pools, so values repeat and collide in case.
class RowMaker {
 public:
  explicit RowMaker(uint64_t seed) : rng_(seed) {}
  OwnedRecord Make(int n) {
    static const char* const kMimes[] = {"audio/mpeg", "audio/flac", "AUDIO/Ogg", "audio/", "video/mp4",
                                         "image/jpeg", "audiox/fake", "Audio/mp4"};
    static const char* const kNames[] = {"Beatles", "beatles", "BEATLES", "The Beatles", "Björk", "björk",
                                         "ABBA", "abba ", "Ünïcode", "zz top", "ZZ Top", "a", "B", "_x", "%y",
                                         "Café", "CAFÉ", "", "Mötley",
                                         // Prefixes shared past 8 and 16 bytes, case apart beyond them.
                                         "The Rolling Stones", "THE ROLLING STONES", "The Rolling Stones Live",
                                         "Various Artists Vol. 1", "various artists vol. 2", "Various Artists_",
                                         "Various ArtistsZ"};
    OwnedRecord r;
    r.filename = "f" + std::to_string(Pick(5)) + (Pick(2) ? "B" : "a") + std::to_string(n) + ".x";
    r.parent_path = "/lib/" + std::to_string(n % 13);
    r.path = *r.parent_path + "/" + *r.filename;
    r.canonical_path = r.path;
    r.canonical_parent_path = r.parent_path;
    r.mime_type = Pick(12) == 0 ? std::optional<std::string>() : kMimes[Pick(std::size(kMimes))];
    auto text = [&]() -> std::optional<std::string> {
      if (Pick(6) == 0) return std::nullopt;
      return std::string(kNames[Pick(std::size(kNames))]);
    };
    r.artist = text();
    r.album = text();
    r.genre = text();
    r.album_artist = Pick(3) == 0 ? r.artist : text();  // often the artist itself (one shared entry)
    if (Pick(5)) r.year = static_cast<int64_t>(1950 + Pick(80)) - (Pick(40) == 0 ? 4000 : 0);
    if (Pick(4)) r.track_number = static_cast<int64_t>(Pick(15));
    r.size = n;
    return r;
  }
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

 private:
  std::mt19937_64 rng_;
};

const char* Column(Category c) {
  switch (c) {
    case Category::kArtist: return "artist";
    case Category::kAlbum: return "album";
    case Category::kGenre: return "genre";
    case Category::kYear: return "year";
    case Category::kAlbumArtist: return "album_artist";
  }
  return "?";
}

const char* TrackOrder(Category c) {
  switch (c) {
    case Category::kArtist:
    case Category::kAlbumArtist: return "album COLLATE NOCASE, album, track_number, filename, id";
    case Category::kAlbum: return "track_number, filename, id";
    case Category::kGenre:
    case Category::kYear:
      return "artist COLLATE NOCASE, artist, album COLLATE NOCASE, album, track_number, filename, id";
  }
  return "";
}

constexpr const char* kAudio = "mime_type LIKE 'audio/%'";

void ExpectSameAsReference(Store& store, Reference& ref) {
  auto snap = store.GetSnapshot();
  for (Category c : {Category::kArtist, Category::kAlbum, Category::kGenre, Category::kAlbumArtist}) {
    SCOPED_TRACE(Column(c));
    const std::string col = Column(c);
    const auto want = ref.Groups("SELECT " + col + ", COUNT(*) FROM t WHERE " + kAudio + " AND " + col +
                                 " IS NOT NULL AND " + col + " != '' GROUP BY " + col + " ORDER BY " + col +
                                 " COLLATE NOCASE, " + col);
    std::vector<CategoryCount> got;
    ASSERT_TRUE(snap->ListCategory(c, &got).ok());
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].name, want[i].first) << "position " << i;
      EXPECT_EQ(got[i].tracks, static_cast<uint64_t>(want[i].second)) << want[i].first;
      std::vector<MediaFileView> tracks;
      ASSERT_TRUE(snap->ListTracks(c, want[i].first, &tracks).ok());
      std::vector<int64_t> ids;
      for (const MediaFileView& t : tracks) ids.push_back(t.id());
      EXPECT_EQ(ids, ref.Ids("SELECT id FROM t WHERE " + std::string(kAudio) + " AND " + col + " = ? ORDER BY " +
                                 TrackOrder(c),
                             {want[i].first}))
          << "tracks of '" << want[i].first << "'";
    }
  }
  // Years, newest first.
  const auto want_years = ref.Groups(std::string("SELECT year, COUNT(*) FROM t WHERE ") + kAudio +
                                     " AND year IS NOT NULL GROUP BY year ORDER BY year DESC");
  std::vector<CategoryCount> years;
  ASSERT_TRUE(snap->ListCategory(Category::kYear, &years).ok());
  ASSERT_EQ(years.size(), want_years.size());
  for (size_t i = 0; i < years.size(); ++i) {
    EXPECT_EQ(std::to_string(years[i].year), want_years[i].first);
    EXPECT_EQ(years[i].tracks, static_cast<uint64_t>(want_years[i].second));
    std::vector<MediaFileView> tracks;
    ASSERT_TRUE(snap->ListTracksOfYear(years[i].year, &tracks).ok());
    std::vector<int64_t> ids;
    for (const MediaFileView& t : tracks) ids.push_back(t.id());
    EXPECT_EQ(ids, ref.Ids(std::string("SELECT id FROM t WHERE ") + kAudio + " AND year = " +
                           std::to_string(years[i].year) + " ORDER BY " + TrackOrder(Category::kYear)));
  }
  // Albums of each artist, and an album's tracks by one artist.
  const auto artists = ref.Groups(std::string("SELECT artist, COUNT(*) FROM t WHERE ") + kAudio +
                                  " AND artist IS NOT NULL AND artist != '' GROUP BY artist");
  for (const auto& [artist, count] : artists) {
    const auto want = ref.Groups(std::string("SELECT album, COUNT(*) FROM t WHERE ") + kAudio +
                                     " AND artist = ? AND album IS NOT NULL AND album != '' GROUP BY album "
                                     "ORDER BY album COLLATE NOCASE, album",
                                 {artist});
    std::vector<CategoryCount> albums;
    ASSERT_TRUE(snap->ListAlbumsOfArtist(artist, &albums).ok());
    ASSERT_EQ(albums.size(), want.size()) << artist;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(albums[i].name, want[i].first);
      EXPECT_EQ(albums[i].tracks, static_cast<uint64_t>(want[i].second));
      std::vector<MediaFileView> tracks;
      ASSERT_TRUE(snap->ListAlbumTracks(want[i].first, artist, &tracks).ok());
      std::vector<int64_t> ids;
      for (const MediaFileView& t : tracks) ids.push_back(t.id());
      EXPECT_EQ(ids, ref.Ids(std::string("SELECT id FROM t WHERE ") + kAudio +
                                 " AND album = ? AND artist = ? ORDER BY track_number, filename, id",
                             {want[i].first, artist}));
    }
  }
}

class CategoryTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(CategoryTest, ListingsAndTrackListsMatchSqliteThroughUpdatesRemovesReopenAndCompaction) {
  TempDir dir;
  Options options;
  options.use_environment = false;
  options.memory_budget = size_t{1} << 20;  // checkpoints: category runs in files and in memory
  Reference ref;
  RowMaker maker(GetParam());
  std::map<int64_t, OwnedRecord> live;
  int n = 0;
  {
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(dir.path(), options, &store).ok());
    for (int round = 0; round < 6; ++round) {
      WriteBatch batch;
      std::vector<OwnedRecord> puts;
      for (int i = 0; i < 1500; ++i) puts.push_back(maker.Make(n++));
      for (const auto& r : puts) batch.Put(r.fields());
      // Updates move records between values (and in and out of audio);
      // removes take them away.
      std::vector<std::pair<int64_t, OwnedRecord>> updates;
      std::vector<int64_t> removes;
      for (auto it = live.begin(); it != live.end(); ++it) {
        const size_t pick = maker.Pick(10);
        if (pick == 0) {
          OwnedRecord changed = maker.Make(n++);
          changed.id = it->first;
          updates.emplace_back(it->first, changed);
          batch.Update(it->first, changed.fields());
        } else if (pick == 1) {
          removes.push_back(it->first);
          batch.Remove(it->first);
        }
      }
      std::vector<int64_t> ids;
      Status s = store->Write(batch, &ids);
      ASSERT_TRUE(s.ok()) << s.ToString();
      for (size_t i = 0; i < ids.size(); ++i) {
        puts[i].id = ids[i];
        live[ids[i]] = puts[i];
        ref.Upsert(puts[i]);
      }
      for (auto& [id, r] : updates) {
        live[id] = r;
        ref.Upsert(r);
      }
      for (int64_t id : removes) {
        live.erase(id);
        ref.Remove(id);
      }
      if (round % 2 == 1) ExpectSameAsReference(*store, ref);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.path(), options, &store).ok());
  ExpectSameAsReference(*store, ref);
  ASSERT_TRUE(store->CompactIndexes().ok());
  ExpectSameAsReference(*store, ref);
}

INSTANTIATE_TEST_SUITE_P(Seeds, CategoryTest, ::testing::Values(1, 2, 3));

TEST(CategoryKeyTest, EachCodeOccupiesItsOwnKeyRange) {
  for (Category c : {Category::kArtist, Category::kAlbum, Category::kGenre, Category::kAlbumArtist}) {
    const uint64_t key = CategoryKey(c, "Some Name");
    EXPECT_GE(key, KeyRangeOf(static_cast<uint8_t>(c)).first);
    EXPECT_LE(key, KeyRangeOf(static_cast<uint8_t>(c)).last);
  }
  EXPECT_LT(KeyRangeOf(1).last, KeyRangeOf(2).first);
  EXPECT_LT(KeyRangeOf(5).last, KeyRangeOf(kArtistAndAlbumArtistCode).first);
  const uint64_t shared = CategoryKey(kArtistAndAlbumArtistCode, "Some Name");
  EXPECT_GE(shared, KeyRangeOf(kArtistAndAlbumArtistCode).first);
  // The same value hashes alike under every code: only the top bits differ.
  EXPECT_EQ(shared << 3, CategoryKey(Category::kArtist, "Some Name") << 3);
  const uint8_t year_code = static_cast<uint8_t>(Category::kYear);
  for (int64_t year : {int64_t{-500}, int64_t{0}, int64_t{1999}, int64_t{2024}, INT64_MIN, INT64_MAX}) {
    EXPECT_GE(YearKey(year), KeyRangeOf(year_code).first) << year;
    EXPECT_LE(YearKey(year), KeyRangeOf(year_code).last) << year;
  }
  EXPECT_NE(YearKey(1999), YearKey(2000));
}

// CompareNocase against the byte-by-byte definition on random strings over
// a small alphabet (case pairs, a non-letter between the cases, a UTF-8
// lead byte), lengths across the 8-byte word boundary.
TEST(CategoryKeyTest, NocaseMatchesTheByteDefinition) {
  auto reference = [](std::string_view a, std::string_view b) {
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
      int x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
      if (x >= 'A' && x <= 'Z') x += 32;
      if (y >= 'A' && y <= 'Z') y += 32;
      if (x != y) return x < y ? -1 : 1;
    }
    return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
  };
  const std::string alphabet = "aAbB_zZ\xc3";
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20000; ++trial) {
    std::string a(rng() % 20, ' ');
    for (char& c : a) c = alphabet[rng() % alphabet.size()];
    std::string b = a;  // mostly a shared prefix, as sorted names have
    b.resize(rng() % 20, 'a');
    for (int edits = rng() % 3; edits > 0 && !b.empty(); --edits) b[rng() % b.size()] = alphabet[rng() % alphabet.size()];
    const int want = reference(a, b), got = CompareNocase(a, b);
    ASSERT_EQ((got > 0) - (got < 0), want) << "'" << a << "' vs '" << b << "'";
  }
}

TEST(CategoryKeyTest, NocaseFoldsOnlyAsciiLetters) {
  EXPECT_EQ(CompareNocase("Beatles", "bEATLES"), 0);
  EXPECT_NE(CompareNocase("Björk", "BJÖRK"), 0);
  EXPECT_LT(CompareNocase("abc", "ABD"), 0);
  EXPECT_LT(CompareNocase("ab", "AB "), 0);
  EXPECT_GT(CompareNocase("Z", "_"), 0);  // bytes: 'Z' (0x5a) < '_' (0x5f); folded 'z' (0x7a) is after
  // Past a common prefix of whole words too (the word-at-a-time skip).
  EXPECT_EQ(CompareNocase("The Rolling Stones", "THE ROLLING STONES"), 0);
  EXPECT_LT(CompareNocase("Various Artists A", "various artists b"), 0);
  EXPECT_LT(CompareNocase("Various Artists_", "Various ArtistsZ"), 0);  // folded z (0x7a) is after _
  EXPECT_LT(CompareNocase("Various Artists", "Various Artists "), 0);
  EXPECT_TRUE(IsAudioMimeType(std::string_view("AUDIO/mpeg")));
  EXPECT_TRUE(IsAudioMimeType(std::string_view("audio/")));
  EXPECT_FALSE(IsAudioMimeType(std::string_view("audiox/a")));
  EXPECT_FALSE(IsAudioMimeType(std::nullopt));
}

}  // namespace
}  // namespace zcmedia
