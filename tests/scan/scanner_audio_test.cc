// The scanner on real tagged audio made by ffmpeg: the tags and durations
// reach the records in every format, a retagged file is updated in place, a
// playlist file found while scanning becomes a playlist, and many readers
// give the same library as one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "scanner.h"
#include "test_media.h"

namespace zcmedia::scan {
namespace {

namespace fs = std::filesystem;
using testing::MakeAudioFile;
using testing::TempDir;
using testing::TestTrack;

// Made once: ffmpeg costs ~0.1 s per file.
class ScannerAudioTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    templates_ = new TempDir();
    TestTrack t{"Jóga", "Björk", "Homogenic", "Electronic", "Björk", 3, 1997, 1.5};
    for (const char* ext : {"mp3", "flac", "ogg", "m4a", "opus"}) {
      ASSERT_TRUE(MakeAudioFile(templates_->Join(std::string("t.") + ext), t));
    }
    TestTrack retagged{"Bachelorette", "Björk", "Homogenic", "Electronic", "", 7, 1997, 2.0};
    ASSERT_TRUE(MakeAudioFile(templates_->Join("retagged.mp3"), retagged));
  }
  static void TearDownTestSuite() {
    delete templates_;
    templates_ = nullptr;
  }

  void SetUp() override {
    media_ = tmp_.Join("media");
    fs::create_directories(media_);
    ASSERT_TRUE(Store::Open(tmp_.Join("store"), Options(), &store_).ok());
  }

  void Copy(const std::string& template_name, const std::string& relative) {
    fs::path to = fs::path(media_) / relative;
    fs::create_directories(to.parent_path());
    fs::copy_file(templates_->Join(template_name), to, fs::copy_options::overwrite_existing);
  }

  ScanReport ScanMedia(int threads = 2) {
    ScanOptions options;
    options.roots = {media_};
    options.reader_threads = threads;
    options.report_problem = [this](const ScanProblem& p) { problems_.push_back(p); };
    ScanReport report;
    Status s = Scan(store_.get(), options, &report);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return report;
  }

  MediaFileFields Record(const std::string& relative) {
    snapshot_ = store_->GetSnapshot();
    MediaFileView v;
    EXPECT_TRUE(snapshot_->FindByPath(media_ + "/" + relative, &v).ok()) << relative;
    return v.valid() ? v.Fields() : MediaFileFields{};
  }

  static TempDir* templates_;
  TempDir tmp_;
  std::string media_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<ScanProblem> problems_;
};
TempDir* ScannerAudioTest::templates_ = nullptr;

TEST_F(ScannerAudioTest, TagsAndDurationsOfEveryFormatReachTheRecords) {
  for (const char* ext : {"mp3", "flac", "ogg", "m4a", "opus"}) {
    Copy(std::string("t.") + ext, std::string("Björk/Homogenic/03 Jóga.") + ext);
  }
  ScanReport report = ScanMedia();
  EXPECT_EQ(report.added, 5u);
  EXPECT_EQ(report.tags_read, 5u);
  EXPECT_EQ(report.problems, 0u);
  const std::map<std::string, std::string> mime = {
      {"mp3", "audio/mpeg"}, {"flac", "audio/flac"}, {"ogg", "audio/ogg"}, {"m4a", "audio/mp4"}, {"opus", "audio/opus"}};
  for (const auto& [ext, type] : mime) {
    SCOPED_TRACE(ext);
    MediaFileFields f = Record("Björk/Homogenic/03 Jóga." + ext);
    EXPECT_EQ(f.mime_type, type);
    EXPECT_EQ(f.title, "Jóga");
    EXPECT_EQ(f.artist, "Björk");
    EXPECT_EQ(f.album, "Homogenic");
    EXPECT_EQ(f.genre, "Electronic");
    EXPECT_EQ(f.album_artist, "Björk");
    EXPECT_EQ(f.track_number, 3);
    EXPECT_EQ(f.year, 1997);
    EXPECT_EQ(f.parent_path, media_ + "/Björk/Homogenic");
    EXPECT_EQ(f.filename, "03 Jóga." + ext);
    ASSERT_TRUE(f.duration.has_value());
    int64_t extra = ext == "mp3" ? testing::kMp3ExtraMs : ext == "m4a" ? testing::kM4aExtraMs : 0;
    EXPECT_GE(*f.duration, 1500);
    EXPECT_LE(*f.duration, 1500 + extra);
  }
}

TEST_F(ScannerAudioTest, RetaggedFileIsUpdatedInPlace) {
  Copy("t.mp3", "a/song.mp3");
  ScanMedia();
  MediaFileFields before = Record("a/song.mp3");
  ASSERT_EQ(before.title, "Jóga");

  Copy("retagged.mp3", "a/song.mp3");  // new tags, new size
  ScanReport report = ScanMedia();
  EXPECT_EQ(report.updated, 1u);
  EXPECT_EQ(report.tags_read, 1u);
  MediaFileFields after = Record("a/song.mp3");
  EXPECT_EQ(after.id, before.id);
  EXPECT_EQ(after.title, "Bachelorette");
  EXPECT_EQ(after.track_number, 7);
  EXPECT_EQ(after.album_artist, std::nullopt);  // the new file has none
  EXPECT_GE(*after.duration, 2000);
}

TEST_F(ScannerAudioTest, PlaylistFilesBecomePlaylistsAfterTheirTracks) {
  Copy("t.mp3", "Mix/one.mp3");
  Copy("t.flac", "Other/two.flac");  // in a folder scanned after Mix
  testing::WriteFile(media_ + "/Mix/Road trip.m3u8", "#EXTM3U\none.mp3\n../Other/two.flac\nhttp://radio/x\n");
  ScanReport report = ScanMedia();
  EXPECT_EQ(report.playlists_imported, 1u);
  EXPECT_EQ(report.problems, 0u);
  auto snap = store_->GetSnapshot();
  PlaylistView playlist;
  ASSERT_TRUE(snap->FindPlaylistByName("Road trip", &playlist).ok());
  std::vector<PlaylistEntryView> entries;
  ASSERT_TRUE(snap->ListPlaylistEntries(playlist.id(), &entries).ok());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].media_file_id(), Record("Mix/one.mp3").id);
  EXPECT_EQ(entries[1].media_file_id(), Record("Other/two.flac").id);

  // Deleting a track removes its entry with it (the store's cascade).
  fs::remove(media_ + "/Other/two.flac");
  ScanMedia();
  snap = store_->GetSnapshot();
  ASSERT_TRUE(snap->ListPlaylistEntries(playlist.id(), &entries).ok());
  EXPECT_EQ(entries.size(), 1u);
}

TEST_F(ScannerAudioTest, BrokenFilesAreStoredAndReportedWithoutFailingTheScan) {
  Copy("t.mp3", "ok/good.mp3");
  testing::WriteTruncatedCopy(templates_->Join("t.m4a"), media_ + "/ok/cut.m4a", 200);  // before its moov atom
  testing::WriteFile(media_ + "/ok/empty.flac", "");
  testing::WriteGarbage(media_ + "/ok/noise.ogg", 3000, 11);
  Copy("t.flac", "ok/flac-named.mp3");  // the wrong extension: read as what it is
  ScanReport report = ScanMedia();
  EXPECT_EQ(report.added, 5u);
  std::vector<std::string> reported;
  for (const ScanProblem& p : problems_) {
    EXPECT_EQ(p.kind, ScanProblem::Kind::kUnreadableTags);
    reported.push_back(fs::path(p.path).filename());
  }
  std::sort(reported.begin(), reported.end());
  EXPECT_THAT(reported, ::testing::ElementsAre("cut.m4a", "empty.flac", "noise.ogg"));
  EXPECT_EQ(Record("ok/good.mp3").title, "Jóga");
  MediaFileFields misnamed = Record("ok/flac-named.mp3");
  EXPECT_EQ(misnamed.mime_type, "audio/mpeg");  // the legacy server's type: by extension
  EXPECT_EQ(misnamed.title, "Jóga");
  EXPECT_EQ(misnamed.duration, 1500);
  MediaFileFields cut = Record("ok/cut.m4a");
  EXPECT_EQ(cut.title, std::nullopt);
  EXPECT_EQ(cut.duration, std::nullopt);
  EXPECT_EQ(cut.size, 200);
}

TEST_F(ScannerAudioTest, ManyReadersGiveTheSameLibraryAsOne) {
  const char* exts[] = {"mp3", "flac", "ogg", "m4a", "opus"};
  for (int i = 0; i < 60; ++i) {
    std::string ext = exts[i % 5];
    Copy("t." + ext, "d" + std::to_string(i % 7) + "/f" + std::to_string(i) + "." + ext);
  }
  ScanReport one = ScanMedia(/*threads=*/1);
  std::map<std::string, MediaFileFields> serial;
  auto collect = [&](std::map<std::string, MediaFileFields>* out) {
    snapshot_ = store_->GetSnapshot();
    auto it = snapshot_->NewIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next()) out->emplace(std::string(it->record().path()), it->record().Fields());
  };
  collect(&serial);

  // A second store, scanned with eight readers.
  std::unique_ptr<Store> first = std::move(store_);
  ASSERT_TRUE(Store::Open(tmp_.Join("store8"), Options(), &store_).ok());
  ScanReport eight = ScanMedia(/*threads=*/8);
  std::map<std::string, MediaFileFields> parallel;
  collect(&parallel);
  EXPECT_EQ(one.added, 60u);
  EXPECT_EQ(eight.added, 60u);
  ASSERT_EQ(serial.size(), parallel.size());
  for (const auto& [path, f] : serial) {
    MediaFileFields p = parallel.at(path);
    p.id = f.id;  // ids follow commit order, which the readers may change
    p.created_at = f.created_at;
    p.updated_at = f.updated_at;
    EXPECT_TRUE(SameColumns(f, p)) << path;
  }
}

}  // namespace
}  // namespace zcmedia::scan
