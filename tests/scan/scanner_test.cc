// The scanner (shell/scan/scanner.h) on real folder trees: first scans,
// incremental rescans after every kind of change, what is never removed,
// symlinks, problems. Audio with real tags: scanner_audio_test.cc.
#include "scanner.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "test_media.h"

namespace zcmedia::scan {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

void Write(const std::string& path, std::string_view contents) {
  fs::create_directories(fs::path(path).parent_path());
  testing::WriteFile(path, contents);
}

// Sets a file's mtime to `seconds` (Unix time).
void SetMtime(const std::string& path, int64_t seconds) {
  struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

class ScannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    media_ = tmp_.path() + "/media";
    fs::create_directories(media_);
    Options options;
    ASSERT_TRUE(Store::Open(tmp_.path() + "/store", options, &store_).ok());
  }

  ScanReport ScanRoots(std::vector<std::string> roots, bool allow_empty = false) {
    ScanOptions options;
    options.roots = std::move(roots);
    options.allow_empty_roots = allow_empty;
    options.reader_threads = 2;
    options.report_problem = [this](const ScanProblem& p) { problems_.push_back(p); };
    ScanReport report;
    Status s = Scan(store_.get(), options, &report);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return report;
  }
  ScanReport ScanMedia() { return ScanRoots({media_}); }

  // path -> record, of every live record.
  std::map<std::string, MediaFileFields> Library() {
    snapshot_ = store_->GetSnapshot();
    std::map<std::string, MediaFileFields> out;
    auto it = snapshot_->NewIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      MediaFileView v = it->record();
      out.emplace(std::string(v.path()), v.Fields());
    }
    EXPECT_TRUE(it->status().ok());
    return out;
  }
  std::vector<std::string> Paths() {
    std::vector<std::string> paths;
    for (const auto& [path, f] : Library()) paths.push_back(path);
    return paths;
  }
  std::vector<ScanProblem::Kind> ProblemKinds() const {
    std::vector<ScanProblem::Kind> kinds;
    for (const ScanProblem& p : problems_) kinds.push_back(p.kind);
    return kinds;
  }

  TempDir tmp_;
  std::string media_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<ScanProblem> problems_;
};

TEST_F(ScannerTest, FirstScanStoresMediaFilesByExtension) {
  Write(media_ + "/Films/film.mkv", "0123456789");
  Write(media_ + "/Films/notes.txt", "not media");
  Write(media_ + "/Photos/2024/beach.JPG", "jpeg");
  Write(media_ + "/Photos/2024/deep/er/clip.mp4", "mp4");
  Write(media_ + "/.hidden/secret.mkv", "hidden");
  Write(media_ + "/Films/.film.mkv", "dot file");
  SetMtime(media_ + "/Films/film.mkv", 1700000000);

  ScanReport report = ScanMedia();
  EXPECT_EQ(report.added, 3u);
  EXPECT_EQ(report.media_files, 3u);
  EXPECT_EQ(report.removed, 0u);
  EXPECT_EQ(report.problems, 0u);
  EXPECT_EQ(report.tags_read, 0u);  // no audio: nothing opened
  EXPECT_GE(report.batches, 1u);

  auto lib = Library();
  ASSERT_EQ(lib.size(), 3u);
  const MediaFileFields& film = lib.at(media_ + "/Films/film.mkv");
  EXPECT_EQ(film.parent_path, media_ + "/Films");
  EXPECT_EQ(film.canonical_path, media_ + "/Films/film.mkv");
  EXPECT_EQ(film.canonical_parent_path, media_ + "/Films");
  EXPECT_EQ(film.filename, "film.mkv");
  EXPECT_EQ(film.size, 10);
  EXPECT_EQ(film.modified, 1700000000);
  EXPECT_EQ(film.mime_type, "video/x-matroska");
  EXPECT_EQ(film.duration, std::nullopt);
  EXPECT_EQ(film.title, std::nullopt);
  EXPECT_GT(film.created_at, 1700000000);
  EXPECT_EQ(film.created_at, film.updated_at);
  EXPECT_EQ(lib.at(media_ + "/Photos/2024/beach.JPG").mime_type, "image/jpeg");
  EXPECT_EQ(lib.at(media_ + "/Photos/2024/deep/er/clip.mp4").parent_path, media_ + "/Photos/2024/deep/er");
}

TEST_F(ScannerTest, RescanOfAnUnchangedTreeWritesNothing) {
  for (int d = 0; d < 5; ++d) {
    for (int f = 0; f < 20; ++f) {
      Write(media_ + "/d" + std::to_string(d) + "/f" + std::to_string(f) + ".mkv", "x");
    }
  }
  EXPECT_EQ(ScanMedia().added, 100u);
  uint64_t sequence = store_->GetSnapshot()->sequence();
  ScanReport again = ScanMedia();
  EXPECT_EQ(again.unchanged, 100u);
  EXPECT_EQ(again.added + again.updated + again.removed, 0u);
  EXPECT_EQ(again.batches, 0u);
  EXPECT_EQ(store_->GetSnapshot()->sequence(), sequence);
}

TEST_F(ScannerTest, ChangedSizeOrMtimeUpdatesKeepingIdAndCreatedAt) {
  Write(media_ + "/a.mkv", "one");
  Write(media_ + "/b.mkv", "two");
  SetMtime(media_ + "/a.mkv", 1600000000);
  SetMtime(media_ + "/b.mkv", 1600000000);
  ScanMedia();
  auto before = Library();

  Write(media_ + "/a.mkv", "longer now");  // size
  SetMtime(media_ + "/a.mkv", 1600000000);
  SetMtime(media_ + "/b.mkv", 1600000500);  // mtime only
  ScanReport report = ScanMedia();
  EXPECT_EQ(report.updated, 2u);
  EXPECT_EQ(report.added, 0u);
  EXPECT_EQ(report.removed, 0u);

  auto after = Library();
  EXPECT_EQ(after.at(media_ + "/a.mkv").id, before.at(media_ + "/a.mkv").id);
  EXPECT_EQ(after.at(media_ + "/a.mkv").size, 10);
  EXPECT_EQ(after.at(media_ + "/a.mkv").created_at, before.at(media_ + "/a.mkv").created_at);
  EXPECT_EQ(after.at(media_ + "/b.mkv").id, before.at(media_ + "/b.mkv").id);
  EXPECT_EQ(after.at(media_ + "/b.mkv").modified, 1600000500);
}

TEST_F(ScannerTest, RenameAndDeleteRemoveTheOldRecordsAndNeverReuseIds) {
  Write(media_ + "/x/one.mkv", "1");
  Write(media_ + "/x/two.mkv", "2");
  Write(media_ + "/y/z/three.mkv", "3");
  Write(media_ + "/y/z/w/four.mkv", "4");
  ScanMedia();
  int64_t highest = 0;
  for (const auto& [path, f] : Library()) highest = std::max(highest, f.id);

  fs::rename(media_ + "/x/one.mkv", media_ + "/x/uno.mkv");
  fs::remove(media_ + "/x/two.mkv");
  fs::remove_all(media_ + "/y");  // a whole subtree, two levels of files
  ScanReport report = ScanMedia();
  EXPECT_EQ(report.added, 1u);
  EXPECT_EQ(report.removed, 4u);
  auto lib = Library();
  ASSERT_EQ(lib.size(), 1u);
  EXPECT_GT(lib.at(media_ + "/x/uno.mkv").id, highest);
}

TEST_F(ScannerTest, AFolderThatReappearsEmptyIsNotARootAndIsPruned) {
  Write(media_ + "/sub/a.mkv", "a");
  ScanMedia();
  fs::remove(media_ + "/sub/a.mkv");  // sub stays, empty
  ScanReport report = ScanMedia();
  EXPECT_EQ(report.removed, 1u);
  EXPECT_THAT(Paths(), IsEmpty());
}

TEST_F(ScannerTest, MissingRootKeepsItsRecordsAndSaysSo) {
  Write(media_ + "/disk/a.mkv", "a");
  Write(media_ + "/disk/b.mkv", "b");
  ScanRoots({media_ + "/disk"});
  fs::rename(media_ + "/disk", media_ + "/elsewhere");  // "unmounted"

  ScanReport report = ScanRoots({media_ + "/disk"});
  EXPECT_EQ(report.removed, 0u);
  EXPECT_EQ(report.unavailable_roots, 1u);
  EXPECT_THAT(ProblemKinds(), ElementsAre(ScanProblem::Kind::kUnavailableRoot));
  EXPECT_THAT(problems_[0].message, ::testing::HasSubstr("2 files in the library are kept"));
  EXPECT_EQ(Library().size(), 2u);
}

TEST_F(ScannerTest, EmptyRootIsAnUnmountedDiskUnlessAllowed) {
  std::string mount = media_ + "/mnt";
  Write(mount + "/music/a.mkv", "a");
  ScanRoots({mount});
  fs::remove_all(mount);
  fs::create_directories(mount);  // the bare mount point

  ScanReport kept = ScanRoots({mount});
  EXPECT_EQ(kept.removed, 0u);
  EXPECT_EQ(kept.unavailable_roots, 1u);
  EXPECT_EQ(Library().size(), 1u);

  ScanReport pruned = ScanRoots({mount}, /*allow_empty=*/true);
  EXPECT_EQ(pruned.removed, 1u);
  EXPECT_THAT(Paths(), IsEmpty());
}

TEST_F(ScannerTest, RootThatIsAFileIsReported) {
  Write(media_ + "/a.mkv", "a");
  ScanReport report = ScanRoots({media_ + "/a.mkv"});
  EXPECT_EQ(report.unavailable_roots, 1u);
  EXPECT_THAT(problems_.at(0).message, ::testing::HasSubstr("is not a folder"));
  EXPECT_THAT(Paths(), IsEmpty());
}

TEST_F(ScannerTest, UnreadableFolderKeepsItsRecords) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads folders whatever their permissions";
  Write(media_ + "/locked/a.mkv", "a");
  ScanMedia();
  fs::permissions(media_ + "/locked", fs::perms::none);
  ScanReport report = ScanMedia();
  fs::permissions(media_ + "/locked", fs::perms::owner_all);
  EXPECT_EQ(report.removed, 0u);
  EXPECT_THAT(ProblemKinds(), ElementsAre(ScanProblem::Kind::kUnreadableFolder));
  EXPECT_EQ(Library().size(), 1u);
}

TEST_F(ScannerTest, SymlinksAreFollowedAndLoopsReported) {
  Write(tmp_.path() + "/outside/linked.mkv", "l");
  Write(media_ + "/real/a.mkv", "a");
  fs::create_directory_symlink(tmp_.path() + "/outside", media_ + "/link");
  fs::create_symlink(media_ + "/real/a.mkv", media_ + "/real/alias.mkv");
  fs::create_directory_symlink(media_, media_ + "/real/loop");  // back to the root
  fs::create_symlink(media_ + "/nowhere.mkv", media_ + "/dangling.mkv");

  ScanReport report = ScanMedia();
  EXPECT_THAT(Paths(), ElementsAre(media_ + "/link/linked.mkv", media_ + "/real/a.mkv",
                                   media_ + "/real/alias.mkv"));
  EXPECT_EQ(report.added, 3u);
  std::vector<ScanProblem::Kind> kinds = ProblemKinds();
  std::sort(kinds.begin(), kinds.end());
  EXPECT_THAT(kinds, ElementsAre(ScanProblem::Kind::kUnreadableFile, ScanProblem::Kind::kSymlinkLoop));
}

TEST_F(ScannerTest, NestedAndRepeatedRootsAreScannedOnce) {
  Write(media_ + "/a/b/c.mkv", "c");
  ScanReport report = ScanRoots({media_ + "/a/b", media_, media_ + "/", media_ + "/a/../a"});
  EXPECT_EQ(report.added, 1u);
  EXPECT_EQ(report.problems, 0u);
  EXPECT_THAT(Paths(), ElementsAre(media_ + "/a/b/c.mkv"));
}

TEST_F(ScannerTest, BrokenAudioIsStoredWithoutTagsAndReported) {
  Write(media_ + "/empty.mp3", "");
  testing::WriteGarbage(media_ + "/garbage.flac", 4096, 7);
  ScanReport report = ScanMedia();
  EXPECT_EQ(report.added, 2u);
  EXPECT_EQ(report.tags_read, 2u);
  EXPECT_THAT(ProblemKinds(),
              ElementsAre(ScanProblem::Kind::kUnreadableTags, ScanProblem::Kind::kUnreadableTags));
  auto lib = Library();
  EXPECT_EQ(lib.at(media_ + "/empty.mp3").mime_type, "audio/mpeg");
  EXPECT_EQ(lib.at(media_ + "/empty.mp3").duration, std::nullopt);
  EXPECT_EQ(lib.at(media_ + "/garbage.flac").title, std::nullopt);
}

TEST_F(ScannerTest, ScanFoldersOnItsOwnLooksOnlyAtThatFolder) {
  Write(media_ + "/watched/a.mkv", "a");
  Write(media_ + "/watched/gone/x.mkv", "x");
  Write(media_ + "/sibling/s.mkv", "s");
  ScanMedia();

  Write(media_ + "/watched/b.mkv", "b");            // new file
  Write(media_ + "/watched/new/deep/n.mkv", "n");   // new subtree: scanned whole
  fs::remove_all(media_ + "/watched/gone");         // vanished subfolder
  Write(media_ + "/sibling/t.mkv", "t");            // not named: not seen
  ScanOptions options;
  ScanReport report;
  ASSERT_TRUE(ScanFolders(store_.get(), {{media_ + "/watched", false}}, options, &report).ok());
  EXPECT_EQ(report.added, 2u);
  EXPECT_EQ(report.removed, 1u);
  EXPECT_THAT(Paths(), ElementsAre(media_ + "/sibling/s.mkv", media_ + "/watched/a.mkv",
                                   media_ + "/watched/b.mkv", media_ + "/watched/new/deep/n.mkv"));
}

TEST_F(ScannerTest, ARescanReadsNoPlaylistFileThatIsUnchanged) {
  Write(media_ + "/v/a.mkv", "a");
  Write(media_ + "/v/list.m3u8", "a.mkv\n");
  SetMtime(media_ + "/v/list.m3u8", 1600000000);
  EXPECT_EQ(ScanMedia().playlists_imported, 1u);
  // Same mtime, content that would fail to parse (a NUL byte) if it were read.
  Write(media_ + "/v/list.m3u8", std::string("a.mkv\n\0", 7));
  SetMtime(media_ + "/v/list.m3u8", 1600000000);
  ScanReport again = ScanMedia();
  EXPECT_EQ(again.playlists_imported, 0u);
  EXPECT_EQ(again.problems, 0u);
  // A user's playlist of another file's name is reported without reading it.
  Write(media_ + "/w/list.m3u8", std::string("\0", 1));
  ScanReport taken = ScanMedia();
  EXPECT_THAT(ProblemKinds(), ElementsAre(ScanProblem::Kind::kPlaylist));
  EXPECT_THAT(problems_.back().message, ::testing::HasSubstr("not imported from this file"));
  EXPECT_EQ(taken.playlists_imported, 0u);
}

TEST_F(ScannerTest, RecordsOfUnknownExtensionsInTheLibraryAreKeptWhileTheFileExists) {
  // A migrated library may hold types this scanner does not recognise.
  Write(media_ + "/odd.xyz", "odd");
  Write(media_ + "/keeps-the-root-non-empty.txt", "");
  WriteBatch batch;
  std::string path = media_ + "/odd.xyz";
  MediaFileFields f;
  f.path = path;
  FillDerivedColumns(f);
  f.mime_type = "application/x-odd";
  f.size = 3;
  f.modified = 1;
  batch.Put(f);
  ASSERT_TRUE(store_->Write(batch).ok());

  ScanReport report = ScanMedia();
  EXPECT_EQ(report.updated, 1u);  // mtime differs: refreshed, type kept
  EXPECT_EQ(Library().at(path).mime_type, "application/x-odd");
  fs::remove(path);
  EXPECT_EQ(ScanMedia().removed, 1u);
}

}  // namespace
}  // namespace zcmedia::scan
