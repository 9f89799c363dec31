// Playlist files: parsing each format and its odd corners, refusals of
// files that are not playlists, importing into a real store (the policy in
// playlist_files.h), and writing playlists back out.
#include "playlist_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include "store/test_util.h"
#include "zcmedia/store.h"

namespace zcmedia::scan {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using test::TempDir;

void WriteFile(const std::string& path, std::string_view bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good()) << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

ParsedPlaylist Parse(const std::string& path, PlaylistFormat format) {
  ParsedPlaylist p;
  Status s = ParsePlaylistFile(path, format, &p);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return p;
}

// ---- Parsing ----------------------------------------------------------------------

TEST(PlaylistParseTest, M3uAbsoluteRelativeCommentsBlankLinesAndCrlf) {
  TempDir dir;
  const std::string list = dir.path() + "/lists/Road trip.m3u";
  WriteFile(list,
            "#EXTM3U\r\n"
            "#EXTINF:215,Artist - Song\r\n"
            "/music/A/01.mp3\r\n"
            "\r\n"
            "   \r\n"
            "sub/02.mp3\r\n"
            "../music/03.flac\r\n"
            "  ./x/../04.ogg  \r\n"
            "#a comment\r\n"
            "/music//B/./05.mp3\r\n"
            "/music/C/../06.mp3\r\n"
            "http://radio.example/stream\r\n"
            "HTTPS://radio.example/other\r\n"
            "rtsp://cam/1");
  ParsedPlaylist p = Parse(list, PlaylistFormat::kM3u);
  EXPECT_EQ(p.name, "Road trip");
  const std::string d = dir.path();
  EXPECT_THAT(p.paths, ElementsAre("/music/A/01.mp3", d + "/lists/sub/02.mp3", d + "/music/03.flac",
                                   d + "/lists/04.ogg", "/music/B/05.mp3", "/music/06.mp3"));
  EXPECT_THAT(p.skipped,
              ElementsAre("http://radio.example/stream", "HTTPS://radio.example/other", "rtsp://cam/1"));
}

TEST(PlaylistParseTest, LoneCrLineEndingsAndNoFinalNewline) {
  TempDir dir;
  const std::string list = dir.path() + "/old.m3u";
  WriteFile(list, "#EXTM3U\r/a/1.mp3\r/a/2.mp3");
  EXPECT_THAT(Parse(list, PlaylistFormat::kM3u).paths, ElementsAre("/a/1.mp3", "/a/2.mp3"));
}

TEST(PlaylistParseTest, FileUrlsArePercentDecodedAndOtherHostsSkipped) {
  TempDir dir;
  const std::string list = dir.path() + "/urls.m3u8";
  WriteFile(list,
            "file:///music/A%20B/%C3%A9t%C3%A9.mp3\n"
            "FILE://localhost/music/x.mp3\n"
            "file:/music/y.mp3\n"
            "file:///music/100%25/bad%zz%4.mp3\n"
            "file://nas/share/z.mp3\n"
            "file:///C:/Music/w.mp3\n"
            "file:///music/nul%00.mp3\n"
            "file:relative.mp3\n");
  ParsedPlaylist p = Parse(list, PlaylistFormat::kM3u8);
  EXPECT_THAT(p.paths, ElementsAre("/music/A B/\xC3\xA9t\xC3\xA9.mp3", "/music/x.mp3", "/music/y.mp3",
                                   "/music/100%/bad%zz%4.mp3"));
  EXPECT_THAT(p.skipped, ElementsAre("file://nas/share/z.mp3", "file:///C:/Music/w.mp3", "file:///music/nul%00.mp3",
                                     "file:relative.mp3"));
}

TEST(PlaylistParseTest, WindowsMadeListsRelativeBackslashesAbsoluteSkipped) {
  TempDir dir;
  const std::string list = dir.path() + "/win.m3u";
  WriteFile(list,
            "Album\\01 - Intro.mp3\r\n"
            "..\\Other\\02.mp3\r\n"
            "C:\\Music\\03.mp3\r\n"
            "d:/Music/04.mp3\r\n"
            "\\\\server\\share\\05.mp3\r\n"
            "\\Music\\06.mp3\r\n"
            "/c:/a Linux folder.mp3\r\n");
  ParsedPlaylist p = Parse(list, PlaylistFormat::kM3u);
  const std::string parent = std::filesystem::path(dir.path()).parent_path().string();
  EXPECT_THAT(p.paths, ElementsAre(dir.path() + "/Album/01 - Intro.mp3", parent + "/Other/02.mp3",
                                   "/c:/a Linux folder.mp3"));
  EXPECT_THAT(p.skipped, ElementsAre("C:\\Music\\03.mp3", "d:/Music/04.mp3", "\\\\server\\share\\05.mp3",
                                     "\\Music\\06.mp3"));
}

TEST(PlaylistParseTest, M3u8ByteOrderMarkIsDropped) {
  TempDir dir;
  const std::string list = dir.path() + "/bom.m3u8";
  WriteFile(list, "\xEF\xBB\xBF/music/\xE6\x97\xA5\xE6\x9C\xAC.mp3\n");
  EXPECT_THAT(Parse(list, PlaylistFormat::kM3u8).paths, ElementsAre("/music/\xE6\x97\xA5\xE6\x9C\xAC.mp3"));
  // A BOM before a path, not before a '#': the first entry must not keep it.
  WriteFile(list, "\xEF\xBB\xBF#EXTM3U\n/a.mp3\n");
  EXPECT_THAT(Parse(list, PlaylistFormat::kM3u8).paths, ElementsAre("/a.mp3"));
}

TEST(PlaylistParseTest, M3uInLatin1IsConvertedAndUtf8KeptAsItIs) {
  TempDir dir;
  const std::string list = dir.path() + "/latin.m3u";
  // "café.mp3" in Latin-1, and Windows-1252's en dash (0x96).
  WriteFile(list, "/music/caf\xE9.mp3\n/music/A \x96 B.mp3\n");
  EXPECT_THAT(Parse(list, PlaylistFormat::kM3u).paths,
              ElementsAre("/music/caf\xC3\xA9.mp3", "/music/A \xE2\x80\x93 B.mp3"));
  WriteFile(list, "/music/caf\xC3\xA9.mp3\n");  // valid UTF-8 in a .m3u
  EXPECT_THAT(Parse(list, PlaylistFormat::kM3u).paths, ElementsAre("/music/caf\xC3\xA9.mp3"));
  // .m3u8 is UTF-8 whatever it holds: bytes that are not stay as they are.
  const std::string list8 = dir.path() + "/bytes.m3u8";
  WriteFile(list8, "/music/caf\xE9.mp3\n");
  EXPECT_THAT(Parse(list8, PlaylistFormat::kM3u8).paths, ElementsAre("/music/caf\xE9.mp3"));
}

TEST(PlaylistParseTest, PlsInFileNumberOrderWithOtherKeysAndSections) {
  TempDir dir;
  const std::string list = dir.path() + "/Radio mix.pls";
  WriteFile(list,
            "; made by hand\r\n"
            "[other]\r\n"
            "File1=/not/this.mp3\r\n"
            "[Playlist]\r\n"
            "NumberOfEntries=7\r\n"
            "File10=/music/10.mp3\r\n"
            "Title10=Ten\r\n"
            "file2 = rel/2.mp3\r\n"
            "Length2=100\r\n"
            "File1=/music/1.mp3\r\n"
            "File3=\r\n"
            "File4=http://stream.example/x\r\n"
            "File0=/zero.mp3\r\n"
            "File-5=/neg.mp3\r\n"
            "Filex=/x.mp3\r\n"
            "File5=/music/5-first.mp3\r\n"
            "File5=/music/5.mp3\r\n"
            "Version=2\r\n");
  ParsedPlaylist p = Parse(list, PlaylistFormat::kPls);
  EXPECT_EQ(p.name, "Radio mix");
  EXPECT_THAT(p.paths, ElementsAre("/music/1.mp3", dir.path() + "/rel/2.mp3", "/music/5.mp3", "/music/10.mp3"));
  EXPECT_THAT(p.skipped, ElementsAre("", "http://stream.example/x"));
}

TEST(PlaylistParseTest, NameIsTheStemOfTheFileName) {
  TempDir dir;
  for (auto [file, name] : {std::pair{"a.b.m3u", "a.b"}, {"noext", "noext"}, {".m3u", ".m3u"}}) {
    const std::string list = dir.path() + "/" + file;
    WriteFile(list, "/x.mp3\n");
    EXPECT_EQ(Parse(list, PlaylistFormat::kM3u).name, name);
  }
}

TEST(PlaylistParseTest, RelativePlaylistPathResolvesAgainstTheCurrentFolder) {
  ParsedPlaylist p;
  ASSERT_TRUE(ParsePlaylistText("a.mp3\n", "lists/x.m3u", PlaylistFormat::kM3u, &p).ok());
  const std::string cwd = std::filesystem::current_path().string();
  EXPECT_THAT(p.paths, ElementsAre((cwd == "/" ? "" : cwd) + "/lists/a.mp3"));
}

// ---- Refusals ---------------------------------------------------------------------

TEST(PlaylistParseTest, MissingFileOrFolderIsAnIOErrorNamingIt) {
  TempDir dir;
  ParsedPlaylist p;
  const std::string missing = dir.path() + "/gone.m3u";
  Status s = ParsePlaylistFile(missing, PlaylistFormat::kM3u, &p);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(missing));
  s = ParsePlaylistFile(dir.path(), PlaylistFormat::kM3u, &p);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(dir.path()));
}

TEST(PlaylistParseTest, FifoIsRefusedWithoutBlocking) {
  TempDir dir;
  const std::string fifo = dir.path() + "/pipe.m3u";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  ParsedPlaylist p;
  Status s = ParsePlaylistFile(fifo, PlaylistFormat::kM3u, &p);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(fifo));
}

TEST(PlaylistParseTest, BinaryFileIsRefusedNamingIt) {
  TempDir dir;
  const std::string list = dir.path() + "/cover.m3u";
  WriteFile(list, std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  ParsedPlaylist p;
  Status s = ParsePlaylistFile(list, PlaylistFormat::kM3u, &p);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(list));
  EXPECT_THAT(s.message(), HasSubstr("not a text file"));
  // UTF-16 (Windows Notepad's "Unicode") has NULs too.
  WriteFile(list, std::string("\xFF\xFE/\0a\0", 6));
  EXPECT_TRUE(ParsePlaylistFile(list, PlaylistFormat::kM3u, &p).IsInvalidArgument());
}

TEST(PlaylistParseTest, HugeFileIsRefusedWithoutReadingIt) {
  TempDir dir;
  const std::string list = dir.path() + "/huge.m3u8";
  const int fd = ::open(list.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(kMaxPlaylistFileBytes + 1)), 0);  // sparse
  ::close(fd);
  ParsedPlaylist p;
  Status s = ParsePlaylistFile(list, PlaylistFormat::kM3u8, &p);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(list));
  EXPECT_THAT(s.message(), HasSubstr("over the limit"));
  // Exactly at the limit is read (and this one is all NULs).
  ASSERT_EQ(::truncate(list.c_str(), static_cast<off_t>(kMaxPlaylistFileBytes)), 0);
  EXPECT_THAT(ParsePlaylistFile(list, PlaylistFormat::kM3u8, &p).message(), HasSubstr("not a text file"));
}

TEST(PlaylistParseTest, PlsWithoutPlaylistSectionIsRefusedNamingIt) {
  TempDir dir;
  const std::string list = dir.path() + "/bare.pls";
  WriteFile(list, "File1=/music/1.mp3\nNumberOfEntries=1\n");
  ParsedPlaylist p;
  Status s = ParsePlaylistFile(list, PlaylistFormat::kPls, &p);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(list));
  EXPECT_THAT(s.message(), HasSubstr("[playlist]"));
  WriteFile(list, "");
  EXPECT_TRUE(ParsePlaylistFile(list, PlaylistFormat::kPls, &p).IsInvalidArgument());
  // An empty .m3u is an empty playlist.
  const std::string m3u = dir.path() + "/empty.m3u";
  WriteFile(m3u, "");
  ASSERT_TRUE(ParsePlaylistFile(m3u, PlaylistFormat::kM3u, &p).ok());
  EXPECT_TRUE(p.paths.empty());
}

TEST(PlaylistParseTest, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  const std::string alphabet = "/\\.:%#[]=\r\n \tfileFILEhtp0123456789aZ\xC3\xA9\xE9\xEF\xBB\xBF\x80\xFF";
  for (int round = 0; round < 2000; ++round) {
    std::string text(rng() % 200, ' ');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    if (round % 3 == 0) text = "[playlist]\n" + text;
    for (PlaylistFormat f : {PlaylistFormat::kM3u, PlaylistFormat::kM3u8, PlaylistFormat::kPls}) {
      ParsedPlaylist p;
      Status s = ParsePlaylistText(text, "/lists/r.m3u", f, &p);
      if (!s.ok()) continue;
      for (const std::string& path : p.paths) {
        ASSERT_FALSE(path.empty());
        EXPECT_EQ(path.front(), '/') << path;
        EXPECT_TRUE(path == "/" || path.back() != '/') << path;
        EXPECT_EQ(path.find("//"), std::string::npos) << path;
        EXPECT_EQ(path.find("/./"), std::string::npos) << path;
        EXPECT_EQ(path.find("/../"), std::string::npos) << path;
      }
    }
  }
}

// ---- Import -----------------------------------------------------------------------

class PlaylistImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = Store::Open(dir_.path() + "/store", test::BudgetOptions(), &store_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    WriteBatch b;
    for (const char* name : {"a", "b", "c", "d"}) {
      paths_.push_back(std::string("/music/") + name + ".mp3");
    }
    for (const std::string& path : paths_) {
      MediaFileFields f;
      f.path = path;
      FillDerivedColumns(f);
      f.mime_type = "audio/mpeg";
      f.size = 1000;
      b.Put(f);
    }
    std::vector<int64_t> ids;
    ASSERT_TRUE(store_->Write(b, &ids).ok());
    ids_ = ids;
  }

  // (media_file_id, position) of playlist `id` in position order.
  std::vector<std::pair<int64_t, int64_t>> Entries(int64_t id) {
    std::vector<PlaylistEntryView> entries;
    EXPECT_TRUE(store_->GetSnapshot()->ListPlaylistEntries(id, &entries).ok());
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const PlaylistEntryView& e : entries) out.emplace_back(e.media_file_id(), e.position());
    return out;
  }
  uint64_t Sequence() { return store_->GetSnapshot()->sequence(); }
  ParsedPlaylist Playlist(std::vector<std::string> paths) {
    ParsedPlaylist p;
    p.name = "Mix";
    p.paths = std::move(paths);
    return p;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::vector<std::string> paths_;  // /music/a.mp3 .. d.mp3
  std::vector<int64_t> ids_;        // their ids
  const std::string source_ = "/music/Mix.m3u";
  const int64_t now_ = static_cast<int64_t>(std::time(nullptr));
};

TEST_F(PlaylistImportTest, CreatesInFileOrderCountingMissingAndDuplicates) {
  ImportResult r;
  Status s = ImportPlaylist(store_.get(),
                            Playlist({paths_[1], paths_[0], "/music/gone.mp3", paths_[1], paths_[2], "/other.mp3"}),
                            source_, now_ - 100, &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(r.created);
  EXPECT_FALSE(r.replaced || r.unchanged || r.name_taken || r.nothing_to_import);
  EXPECT_EQ(r.entries, 3u);
  EXPECT_EQ(r.duplicates, 1u);
  EXPECT_EQ(r.missing, 2u);
  EXPECT_THAT(r.missing_paths, ElementsAre("/music/gone.mp3", "/other.mp3"));
  auto snap = store_->GetSnapshot();
  PlaylistView pl;
  ASSERT_TRUE(snap->FindPlaylistByName("Mix", &pl).ok());
  EXPECT_EQ(pl.id(), r.playlist_id);
  EXPECT_EQ(pl.description(), OptText("Imported from /music/Mix.m3u"));
  EXPECT_GE(pl.created_at(), now_);
  EXPECT_EQ(pl.created_at(), pl.updated_at());
  EXPECT_THAT(Entries(r.playlist_id),
              ElementsAre(std::pair{ids_[1], int64_t{0}}, std::pair{ids_[0], int64_t{1}}, std::pair{ids_[2], int64_t{2}}));
}

TEST_F(PlaylistImportTest, MissingPathsListIsCapped) {
  std::vector<std::string> paths{paths_[0]};
  for (int i = 0; i < 50; ++i) paths.push_back("/gone/" + std::to_string(i) + ".mp3");
  ImportResult r;
  ASSERT_TRUE(ImportPlaylist(store_.get(), Playlist(paths), source_, now_ - 100, &r).ok());
  EXPECT_EQ(r.missing, 50u);
  EXPECT_EQ(r.missing_paths.size(), kMaxListedMissing);
  EXPECT_EQ(r.missing_paths.front(), "/gone/0.mp3");
}

TEST_F(PlaylistImportTest, ReimportOfAnUnchangedFileWritesNothing) {
  ImportResult r;
  ASSERT_TRUE(ImportPlaylist(store_.get(), Playlist({paths_[0], paths_[1]}), source_, now_ - 100, &r).ok());
  ASSERT_TRUE(r.created);
  const uint64_t seq = Sequence();
  ImportResult again;
  // Even with a different list: the mtime says the file has not changed.
  ASSERT_TRUE(ImportPlaylist(store_.get(), Playlist({paths_[2]}), source_, now_ - 100, &again).ok());
  EXPECT_TRUE(again.unchanged);
  EXPECT_FALSE(again.created || again.replaced || again.name_taken);
  EXPECT_EQ(again.playlist_id, r.playlist_id);
  EXPECT_EQ(again.entries, 2u);
  EXPECT_EQ(Sequence(), seq);
  EXPECT_THAT(Entries(r.playlist_id), ElementsAre(std::pair{ids_[0], int64_t{0}}, std::pair{ids_[1], int64_t{1}}));
}

TEST_F(PlaylistImportTest, ChangedFileReplacesEntriesKeepingIdAndCreation) {
  ImportResult r;
  ASSERT_TRUE(ImportPlaylist(store_.get(), Playlist({paths_[0], paths_[1], paths_[2]}), source_, now_ - 100, &r).ok());
  PlaylistView before;
  ASSERT_TRUE(store_->GetSnapshot()->GetPlaylist(r.playlist_id, &before).ok());
  const int64_t created = before.created_at();
  const uint64_t seq = Sequence();
  // Changed at (or after) the import's second: the same positions and media
  // files in a new order, which the batch's removals must free first.
  ImportResult again;
  Status s = ImportPlaylist(store_.get(), Playlist({paths_[2], paths_[3], paths_[0]}), source_,
                            before.updated_at(), &again);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(again.replaced);
  EXPECT_FALSE(again.created || again.unchanged);
  EXPECT_EQ(again.playlist_id, r.playlist_id);
  EXPECT_EQ(again.entries, 3u);
  EXPECT_EQ(Sequence(), seq + 1);  // one write
  EXPECT_THAT(Entries(r.playlist_id), ElementsAre(std::pair{ids_[2], int64_t{0}}, std::pair{ids_[3], int64_t{1}},
                                                  std::pair{ids_[0], int64_t{2}}));
  auto snap = store_->GetSnapshot();
  PlaylistView after;
  ASSERT_TRUE(snap->GetPlaylist(r.playlist_id, &after).ok());
  EXPECT_EQ(after.created_at(), created);
  EXPECT_GE(after.updated_at(), before.updated_at());
  EXPECT_EQ(snap->playlist_count(), 1u);
  EXPECT_EQ(snap->playlist_entry_count(), 3u);

  // A file emptied of local files (all missing now) empties the playlist.
  ImportResult emptied;
  ASSERT_TRUE(ImportPlaylist(store_.get(), Playlist({"/gone.mp3"}), source_, now_ + 1000, &emptied).ok());
  EXPECT_TRUE(emptied.replaced);
  EXPECT_EQ(emptied.entries, 0u);
  EXPECT_TRUE(Entries(r.playlist_id).empty());
}

TEST_F(PlaylistImportTest, UserPlaylistOfTheSameNameIsLeftAlone) {
  WriteBatch b;
  b.PutPlaylist({0, "Mix", OptText("my favourites"), 5, 5});
  std::vector<int64_t> ids;
  ASSERT_TRUE(store_->Write(b, &ids).ok());
  b.PutPlaylistEntry({0, ids[0], ids_[3], 0, 5});
  ASSERT_TRUE(store_->Write(b).ok());
  const uint64_t seq = Sequence();
  ImportResult r;
  ASSERT_TRUE(ImportPlaylist(store_.get(), Playlist({paths_[0]}), source_, now_ + 1000, &r).ok());
  EXPECT_TRUE(r.name_taken);
  EXPECT_FALSE(r.created || r.replaced || r.unchanged);
  EXPECT_EQ(r.playlist_id, ids[0]);
  EXPECT_EQ(Sequence(), seq);
  EXPECT_THAT(Entries(ids[0]), ElementsAre(std::pair{ids_[3], int64_t{0}}));

  // Another file with the same stem: also not ours to replace.
  ImportResult other;
  ASSERT_TRUE(ImportPlaylist(store_.get(), Playlist({paths_[0]}), "/elsewhere/Mix.m3u", now_ + 1000, &other).ok());
  EXPECT_TRUE(other.name_taken);
  EXPECT_EQ(Sequence(), seq);
}

TEST_F(PlaylistImportTest, NothingInTheStoreCreatesNoPlaylist) {
  const uint64_t seq = Sequence();
  ImportResult r;
  ASSERT_TRUE(ImportPlaylist(store_.get(), Playlist({"/radio/x.mp3"}), source_, now_, &r).ok());
  EXPECT_TRUE(r.nothing_to_import);
  EXPECT_FALSE(r.created);
  EXPECT_EQ(r.missing, 1u);
  EXPECT_EQ(Sequence(), seq);
  EXPECT_EQ(store_->GetSnapshot()->playlist_count(), 0u);
}

TEST_F(PlaylistImportTest, ParsedFileImportsAndSurvivesReopen) {
  const std::string list = dir_.path() + "/lists/Party.m3u";
  WriteFile(list, "#EXTM3U\n/music/d.mp3\nfile:///music/./x/../b.mp3\nhttp://x/y\n");
  ParsedPlaylist p = Parse(list, PlaylistFormat::kM3u);
  ImportResult r;
  ASSERT_TRUE(ImportPlaylist(store_.get(), p, list, now_ - 10, &r).ok());
  ASSERT_TRUE(r.created);
  store_.reset();
  ASSERT_TRUE(Store::Open(dir_.path() + "/store", test::BudgetOptions(), &store_).ok());
  PlaylistView pl;
  ASSERT_TRUE(store_->GetSnapshot()->FindPlaylistByName("Party", &pl).ok());
  EXPECT_THAT(Entries(pl.id()), ElementsAre(std::pair{ids_[3], int64_t{0}}, std::pair{ids_[1], int64_t{1}}));
}

// ---- Export -----------------------------------------------------------------------

class PlaylistExportTest : public ::testing::Test {
 protected:
  struct Track {
    std::string path;
    std::optional<std::string> artist, title;
    std::optional<int64_t> duration_ms;
  };

  void SetUp() override {
    ASSERT_TRUE(Store::Open(dir_.path() + "/store", test::BudgetOptions(), &store_).ok());
  }

  // A playlist named `name` holding `tracks` in that order.
  int64_t MakePlaylist(const std::string& name, const std::vector<Track>& tracks) {
    WriteBatch b;
    for (const Track& t : tracks) {
      MediaFileFields f;
      f.path = t.path;
      FillDerivedColumns(f);
      f.mime_type = "audio/flac";
      if (t.artist) f.artist = *t.artist;
      if (t.title) f.title = *t.title;
      f.duration = t.duration_ms;
      b.Put(f);
    }
    std::vector<int64_t> ids;
    EXPECT_TRUE(store_->Write(b, &ids).ok());
    b.PutPlaylist({0, name, std::nullopt, 1, 1});
    std::vector<int64_t> pl;
    EXPECT_TRUE(store_->Write(b, &pl).ok());
    // Positions with gaps, written out of order: the export follows position.
    for (size_t i = ids.size(); i-- > 0;) b.PutPlaylistEntry({0, pl[0], ids[i], static_cast<int64_t>(i * 10), 1});
    EXPECT_TRUE(store_->Write(b).ok());
    return pl[0];
  }

  std::string Written(int64_t id, PlaylistFormat format) {
    std::ostringstream out;
    Status s = WritePlaylistFile(*store_->GetSnapshot(), id, format, out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out.str();
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  const std::vector<Track> tracks_{
      {"/music/A/01 - One.flac", "Artist", "One", 125400},
      {"/music/A/02 - Two.flac", std::nullopt, "Two", 999},
      {"/music/B/03.flac", "Someone", std::nullopt, std::nullopt},
  };
};

TEST_F(PlaylistExportTest, M3u8InPositionOrder) {
  const int64_t id = MakePlaylist("Best", tracks_);
  EXPECT_EQ(Written(id, PlaylistFormat::kM3u8),
            "#EXTM3U\n"
            "#EXTINF:125,Artist - One\n"
            "/music/A/01 - One.flac\n"
            "#EXTINF:1,Two\n"
            "/music/A/02 - Two.flac\n"
            "#EXTINF:-1,03.flac\n"
            "/music/B/03.flac\n");
}

TEST_F(PlaylistExportTest, Pls) {
  const int64_t id = MakePlaylist("Best", tracks_);
  EXPECT_EQ(Written(id, PlaylistFormat::kPls),
            "[playlist]\n"
            "File1=/music/A/01 - One.flac\nTitle1=Artist - One\nLength1=125\n"
            "File2=/music/A/02 - Two.flac\nTitle2=Two\nLength2=1\n"
            "File3=/music/B/03.flac\nTitle3=03.flac\nLength3=-1\n"
            "NumberOfEntries=3\n"
            "Version=2\n");
}

TEST_F(PlaylistExportTest, EmptyAndUnknownPlaylists) {
  const int64_t id = MakePlaylist("Empty", {});
  EXPECT_EQ(Written(id, PlaylistFormat::kM3u8), "#EXTM3U\n");
  EXPECT_EQ(Written(id, PlaylistFormat::kPls), "[playlist]\nNumberOfEntries=0\nVersion=2\n");
  std::ostringstream out;
  EXPECT_TRUE(WritePlaylistFile(*store_->GetSnapshot(), id + 100, PlaylistFormat::kM3u8, out).IsNotFound());
}

TEST_F(PlaylistExportTest, RoundTripThroughAFileGivesTheSamePathsInOrder) {
  // Paths a line cannot carry as they are go out as file:/// URLs.
  const std::vector<Track> odd{
      {"/music/caf\xC3\xA9/\xE6\x97\xA5.mp3", "A\nB", "T\r\nU", 1000},
      {"/music/new\nline.mp3", {}, {}, {}},
      {"/music/ trailing space .mp3", {}, {}, {}},
      {"/music/100% #1 [x]=y;z.mp3", {}, {}, {}},
      {"/music/b.mp3", {}, {}, {}},
      {"/music/a.mp3", {}, {}, {}},
  };
  MakePlaylist("Odd / name", odd);
  for (PlaylistFormat f : {PlaylistFormat::kM3u8, PlaylistFormat::kM3u, PlaylistFormat::kPls}) {
    const std::string file = dir_.path() + "/out/list" + (f == PlaylistFormat::kPls ? ".pls" : ".m3u8");
    std::filesystem::create_directories(dir_.path() + "/out");
    Status s = ExportPlaylist(*store_->GetSnapshot(), "Odd / name", f, file);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ParsedPlaylist back = Parse(file, f);
    std::vector<std::string> expected;
    for (const Track& t : odd) expected.push_back(t.path);
    EXPECT_EQ(back.paths, expected);
    EXPECT_TRUE(back.skipped.empty());
  }
  // Nothing but the output is left in the folder (no temporary files).
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_.path() + "/out"),
                          std::filesystem::directory_iterator()), 2);
}

TEST_F(PlaylistExportTest, ExportReplacesAFileAndWritesToStandardOutput) {
  MakePlaylist("Best", tracks_);
  const std::string file = dir_.path() + "/best.m3u8";
  WriteFile(file, "old contents that are longer than the new ones, much longer, really quite long\n");
  ASSERT_TRUE(ExportPlaylist(*store_->GetSnapshot(), "Best", PlaylistFormat::kM3u8, file).ok());
  const std::string written = ReadFile(file);
  EXPECT_TRUE(written.starts_with("#EXTM3U\n#EXTINF:125,Artist - One\n")) << written;
  struct stat st;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_NE(st.st_mode & 0444, 0u);  // readable, not a 0600 temporary file

  testing::internal::CaptureStdout();
  Status s = ExportPlaylist(*store_->GetSnapshot(), "Best", PlaylistFormat::kM3u8, "-");
  EXPECT_EQ(testing::internal::GetCapturedStdout(), written);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(PlaylistExportTest, ExportErrorsNameThePlaylistOrTheOutput) {
  MakePlaylist("Best", tracks_);
  Status s = ExportPlaylist(*store_->GetSnapshot(), "best", PlaylistFormat::kM3u8, dir_.path() + "/x.m3u8");
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("'best'"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/x.m3u8"));

  const std::string bad = dir_.path() + "/no/such/folder/x.m3u8";
  s = ExportPlaylist(*store_->GetSnapshot(), "Best", PlaylistFormat::kM3u8, bad);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(bad));

  s = ExportPlaylist(*store_->GetSnapshot(), "Best", PlaylistFormat::kM3u8, dir_.path() + "/");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();

  if (::geteuid() != 0) {  // root writes into read-only folders
    const std::string ro = dir_.path() + "/ro";
    std::filesystem::create_directories(ro);
    ::chmod(ro.c_str(), 0555);
    s = ExportPlaylist(*store_->GetSnapshot(), "Best", PlaylistFormat::kPls, ro + "/x.pls");
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    ::chmod(ro.c_str(), 0755);
  }
}

TEST_F(PlaylistExportTest, ExportedM3u8ImportsBackAsTheSamePlaylist) {
  const int64_t id = MakePlaylist("Best", tracks_);
  const std::string file = dir_.path() + "/Best copy.m3u8";
  ASSERT_TRUE(ExportPlaylist(*store_->GetSnapshot(), "Best", PlaylistFormat::kM3u8, file).ok());
  ParsedPlaylist p = Parse(file, PlaylistFormat::kM3u8);
  ImportResult r;
  ASSERT_TRUE(ImportPlaylist(store_.get(), p, file, 0, &r).ok());
  ASSERT_TRUE(r.created);
  std::vector<PlaylistEntryView> original, copy;
  auto snap = store_->GetSnapshot();
  ASSERT_TRUE(snap->ListPlaylistEntries(id, &original).ok());
  ASSERT_TRUE(snap->ListPlaylistEntries(r.playlist_id, &copy).ok());
  ASSERT_EQ(original.size(), copy.size());
  for (size_t i = 0; i < copy.size(); ++i) {
    EXPECT_EQ(copy[i].media_file_id(), original[i].media_file_id());
    EXPECT_EQ(copy[i].position(), static_cast<int64_t>(i));
  }
}

}  // namespace
}  // namespace zcmedia::scan
