#include "tag_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "test_media.h"

namespace zcmedia::scan {
namespace {

// `testing` inside zcmedia::scan is zcmedia::scan::testing: gtest's is ::testing.
using testing::kM4aExtraMs;
using testing::kMp3ExtraMs;
using testing::MakeAudioFile;
using testing::TempDir;
using testing::TestTrack;
using testing::WriteFile;
using testing::WriteGarbage;
using testing::WriteTruncatedCopy;

// UTF-8 spelled out byte by byte, so that the comparison does not depend on
// the source file's encoding.
const std::string kBjork = "Bj\xC3\xB6rk";                 // Björk
const std::string kTokyo = "\xE6\x9D\xB1\xE4\xBA\xAC";     // 東京
const std::string kEmDash = "\xE2\x80\x94";                // —

TestTrack FullTrack() {
  TestTrack t;
  t.title = "J\xC3\xB3ga " + kTokyo;  // Jóga 東京
  t.artist = kBjork;
  t.album = "Homogenic " + kEmDash + " Live";
  t.genre = "Electronic";
  t.album_artist = kBjork + " & " + kTokyo;
  t.track = 7;
  t.year = 1997;
  t.seconds = 2.0;
  return t;
}

struct Format {
  const char* ext;
  int64_t extra_ms;  // what TagLib adds to the length: encoder delay and padding
};
constexpr Format kFormats[] = {{"mp3", kMp3ExtraMs}, {"flac", 0}, {"ogg", 0},
                               {"m4a", kM4aExtraMs}, {"opus", 0}, {"wav", 0}};

// Every format is made once for the suite (full tags and no tags, 12 ffmpeg
// runs, ~1 s); tests copy or cut these.
class TagReaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    media_ = new TempDir;
    // Two at a time: ffmpeg is mostly process start-up.
    std::vector<std::thread> threads;
    for (int half = 0; half < 2; ++half) {
      threads.emplace_back([half] {
        for (size_t i = half; i < std::size(kFormats); i += 2) {
          MakeAudioFile(Full(kFormats[i].ext), FullTrack());
          TestTrack bare;
          bare.seconds = 1.0;
          MakeAudioFile(Bare(kFormats[i].ext), bare);
        }
      });
    }
    for (std::thread& t : threads) t.join();
  }
  static void TearDownTestSuite() {
    delete media_;
    media_ = nullptr;
  }

  static std::string Full(const std::string& ext) { return media_->Join("full." + ext); }
  static std::string Bare(const std::string& ext) { return media_->Join("bare." + ext); }

  static AudioTags Read(const std::string& path) {
    AudioTags tags;
    Status s = ReadAudioTags(path, &tags);
    EXPECT_TRUE(s.ok()) << path << ": " << s.ToString();
    return tags;
  }

  // The error for `path`, with the checks every error must pass: not OK,
  // the path named, nothing left in the output.
  static Status ReadError(const std::string& path) {
    AudioTags tags;
    tags.title = "left over";
    tags.duration_ms = 1;
    Status s = ReadAudioTags(path, &tags);
    EXPECT_FALSE(s.ok()) << path << " read as OK";
    EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
    EXPECT_EQ(tags, AudioTags{}) << path;
    return s;
  }

  static void ExpectCorruption(const std::string& path) {
    Status s = ReadError(path);
    EXPECT_TRUE(s.IsCorruption()) << path << ": " << s.ToString();
  }

  static TempDir* media_;
  TempDir tmp_;  // per test: broken and renamed files
};

TempDir* TagReaderTest::media_ = nullptr;

TEST_F(TagReaderTest, KnownTagsAndDurations) {
  const TestTrack want = FullTrack();
  for (const Format& f : kFormats) {
    if (std::string(f.ext) == "wav") continue;  // WavReadsItsInfoList
    SCOPED_TRACE(f.ext);
    AudioTags t = Read(Full(f.ext));
    EXPECT_EQ(t.title, want.title);
    EXPECT_EQ(t.artist, want.artist);
    EXPECT_EQ(t.album, want.album);
    EXPECT_EQ(t.genre, want.genre);
    EXPECT_EQ(t.album_artist, want.album_artist);
    EXPECT_EQ(t.track_number, 7);
    EXPECT_EQ(t.year, 1997);
    ASSERT_TRUE(t.duration_ms.has_value());
    EXPECT_GE(*t.duration_ms, 2000);
    EXPECT_LE(*t.duration_ms, 2000 + f.extra_ms);
  }
}

// TagLib's WAV tag() is the ID3v2 chunk only; ffmpeg (like most tools)
// writes a RIFF INFO list, which the reader falls back to. INFO has no
// album artist.
TEST_F(TagReaderTest, WavReadsItsInfoList) {
  const TestTrack want = FullTrack();
  AudioTags t = Read(Full("wav"));
  EXPECT_EQ(t.title, want.title);
  EXPECT_EQ(t.artist, want.artist);
  EXPECT_EQ(t.album, want.album);
  EXPECT_EQ(t.genre, want.genre);
  EXPECT_EQ(t.album_artist, std::nullopt);
  EXPECT_EQ(t.track_number, 7);
  EXPECT_EQ(t.year, 1997);
  EXPECT_EQ(t.duration_ms, 2000);
}

TEST_F(TagReaderTest, AbsentTagsAreNullopt) {
  for (const Format& f : kFormats) {
    SCOPED_TRACE(f.ext);
    AudioTags t = Read(Bare(f.ext));
    EXPECT_EQ(t.title, std::nullopt);
    EXPECT_EQ(t.artist, std::nullopt);
    EXPECT_EQ(t.album, std::nullopt);
    EXPECT_EQ(t.genre, std::nullopt);
    EXPECT_EQ(t.album_artist, std::nullopt);
    EXPECT_EQ(t.track_number, std::nullopt);
    EXPECT_EQ(t.year, std::nullopt);
    ASSERT_TRUE(t.duration_ms.has_value());
    EXPECT_GE(*t.duration_ms, 1000);
    EXPECT_LE(*t.duration_ms, 1000 + f.extra_ms);
  }
}

TEST_F(TagReaderTest, UnicodeIsByteExact) {
  for (const Format& f : kFormats) {
    SCOPED_TRACE(f.ext);
    AudioTags t = Read(Full(f.ext));
    ASSERT_TRUE(t.artist.has_value());
    EXPECT_EQ(*t.artist, kBjork);
    EXPECT_EQ(t.artist->size(), 6u);
    ASSERT_TRUE(t.title.has_value());
    EXPECT_EQ(*t.title, "J\xC3\xB3ga \xE6\x9D\xB1\xE4\xBA\xAC");
  }
}

TEST_F(TagReaderTest, OutputIsResetBeforeReading) {
  AudioTags t;
  t.title = "stale";
  t.album_artist = "stale";
  t.year = 1;
  ASSERT_TRUE(ReadAudioTags(Bare("flac"), &t).ok());
  EXPECT_EQ(t.title, std::nullopt);
  EXPECT_EQ(t.album_artist, std::nullopt);
  EXPECT_EQ(t.year, std::nullopt);
  EXPECT_EQ(t.duration_ms, 1000);
}

TEST_F(TagReaderTest, PartialTags) {
  TestTrack only;
  only.artist = "Only Artist";
  only.year = 2001;
  only.seconds = 0.5;
  for (const char* ext : {"mp3", "flac", "m4a"}) {
    SCOPED_TRACE(ext);
    const std::string path = tmp_.Join(std::string("partial.") + ext);
    ASSERT_TRUE(MakeAudioFile(path, only));
    AudioTags t = Read(path);
    EXPECT_EQ(t.artist, "Only Artist");
    EXPECT_EQ(t.year, 2001);
    EXPECT_EQ(t.title, std::nullopt);
    EXPECT_EQ(t.album, std::nullopt);
    EXPECT_EQ(t.genre, std::nullopt);
    EXPECT_EQ(t.album_artist, std::nullopt);
    EXPECT_EQ(t.track_number, std::nullopt);
    EXPECT_TRUE(t.duration_ms.has_value());
  }
}

TEST_F(TagReaderTest, ZeroByteFilesAreCorruption) {
  for (const Format& f : kFormats) {
    const std::string path = tmp_.Join(std::string("empty.") + f.ext);
    WriteFile(path, "");
    ExpectCorruption(path);
  }
}

// TagLib's MP3 parser "opens" any bytes (no tags, length 0); the reader
// rejects what no parser finds anything in, so garbage is Corruption under
// every audio extension.
TEST_F(TagReaderTest, GarbageIsCorruption) {
  for (const char* ext : {"mp3", "flac", "ogg", "m4a", "opus", "wav", "aac", "wma", "aiff"}) {
    for (uint32_t seed = 1; seed <= 20; ++seed) {
      const std::string path = tmp_.Join("garbage" + std::to_string(seed) + "." + ext);
      WriteGarbage(path, 1000 + 400 * seed, seed);
      ExpectCorruption(path);
    }
  }
  // Text is garbage too.
  const std::string text = tmp_.Join("notes.mp3");
  WriteFile(text, "This is not an MP3 file, just some notes someone renamed.\n");
  ExpectCorruption(text);
}

// A FLAC file's STREAMINFO is its first block: cut inside it, or inside the
// metadata blocks after it (ffmpeg pads them to 8 KB), TagLib refuses the
// file. Cut in the audio frames, it reads with its tags and the length
// STREAMINFO declares.
TEST_F(TagReaderTest, TruncatedFlac) {
  const std::string full = Full("flac");
  const auto size = std::filesystem::file_size(full);
  for (size_t bytes : {size_t{4}, size_t{30}, size_t{100}, size_t{2000}}) {
    SCOPED_TRACE(bytes);
    const std::string path = tmp_.Join("cut" + std::to_string(bytes) + ".flac");
    WriteTruncatedCopy(full, path, bytes);
    ExpectCorruption(path);
  }
  const std::string late = tmp_.Join("late.flac");
  WriteTruncatedCopy(full, late, size - size / 4);
  AudioTags t = Read(late);
  EXPECT_EQ(t.title, FullTrack().title);
  EXPECT_EQ(t.duration_ms, 2000);
}

// An MP3 cut inside its 10-byte ID3v2 header has nothing TagLib
// recognises. Cut inside the tag, TagLib reads the frames that fit (the
// title is the first) and finds no audio: tags, no duration. Cut after the
// first audio frame, the length is the Xing header's, as if whole.
TEST_F(TagReaderTest, TruncatedMp3) {
  const std::string full = Full("mp3");
  const auto size = std::filesystem::file_size(full);
  for (size_t bytes : {size_t{3}, size_t{9}}) {
    SCOPED_TRACE(bytes);
    const std::string path = tmp_.Join("cut" + std::to_string(bytes) + ".mp3");
    WriteTruncatedCopy(full, path, bytes);
    ExpectCorruption(path);
  }
  const std::string in_tag = tmp_.Join("in_tag.mp3");
  WriteTruncatedCopy(full, in_tag, 60);  // header 10, TIT2 10 + 17 bytes, then TPE1 cut
  AudioTags t = Read(in_tag);
  EXPECT_EQ(t.title, FullTrack().title);
  EXPECT_EQ(t.duration_ms, std::nullopt);

  const std::string late = tmp_.Join("late.mp3");
  WriteTruncatedCopy(full, late, size / 2);
  t = Read(late);
  EXPECT_EQ(t.title, FullTrack().title);
  ASSERT_TRUE(t.duration_ms.has_value());
  EXPECT_GE(*t.duration_ms, 2000);  // the Xing header's count, not what is left
  EXPECT_LE(*t.duration_ms, 2000 + kMp3ExtraMs);
}

// ffmpeg writes an M4A's moov atom (tags and length) after the audio: cut
// anywhere before it, TagLib finds no moov and refuses the file.
TEST_F(TagReaderTest, TruncatedM4a) {
  const std::string full = Full("m4a");
  const auto size = std::filesystem::file_size(full);
  for (size_t bytes : {size_t{16}, size_t{200}, size_t{size / 2}}) {
    SCOPED_TRACE(bytes);
    const std::string path = tmp_.Join("cut" + std::to_string(bytes) + ".m4a");
    WriteTruncatedCopy(full, path, bytes);
    ExpectCorruption(path);
  }
}

// An Ogg file's length is the position of its last page: cut short after
// its header pages, it reads with its tags and the length of what is left
// (none when no audio page is). Opus is the same.
TEST_F(TagReaderTest, TruncatedOgg) {
  for (const char* ext : {"ogg", "opus"}) {
    SCOPED_TRACE(ext);
    const std::string full = Full(ext);
    const auto size = std::filesystem::file_size(full);
    const std::string header = tmp_.Join(std::string("cut20.") + ext);
    WriteTruncatedCopy(full, header, 20);
    ExpectCorruption(header);
    const std::string late = tmp_.Join(std::string("late.") + ext);
    WriteTruncatedCopy(full, late, size - size / 3);
    AudioTags t = Read(late);
    EXPECT_EQ(t.title, FullTrack().title);
    if (t.duration_ms.has_value()) {
      EXPECT_LT(*t.duration_ms, 2000);
    }
  }
}

// A WAV's data chunk longer than the file is dropped by TagLib: cut short,
// it reads with its INFO tags (written before the audio) and no duration.
TEST_F(TagReaderTest, TruncatedWav) {
  const std::string full = Full("wav");
  const std::string header = tmp_.Join("cut10.wav");
  WriteTruncatedCopy(full, header, 10);
  ExpectCorruption(header);
  const std::string late = tmp_.Join("late.wav");
  WriteTruncatedCopy(full, late, std::filesystem::file_size(full) / 2);
  AudioTags t = Read(late);
  EXPECT_EQ(t.title, FullTrack().title);
  EXPECT_EQ(t.duration_ms, std::nullopt);
}

// The extension picks TagLib's parser first; when it finds nothing, the
// content does: a file named for another format reads as what it is.
TEST_F(TagReaderTest, WrongExtensionReadsAsWhatItIs) {
  struct Case {
    const char* real;
    const char* named;
  };
  for (const Case& c : {Case{"flac", "mp3"}, Case{"mp3", "flac"}, Case{"m4a", "mp3"}, Case{"opus", "ogg"},
                        Case{"ogg", "opus"}, Case{"ogg", "m4a"}, Case{"wav", "mp3"}}) {
    SCOPED_TRACE(std::string(c.real) + " named ." + c.named);
    const std::string path = tmp_.Join(std::string(c.real) + "_named." + c.named);
    std::filesystem::copy_file(Full(c.real), path);
    EXPECT_EQ(Read(path), Read(Full(c.real)));
  }
}

// TagLib 1.13 has no parser for raw ADTS AAC (.aac): a valid one is
// Corruption (the scanner stores it without tags and reports it). An MP4
// named .aac reads by its content.
TEST_F(TagReaderTest, AdtsAacIsCorruption) {
  const std::string adts = tmp_.Join("song.aac");
  ASSERT_TRUE(MakeAudioFile(adts, FullTrack()));
  ExpectCorruption(adts);
  const std::string m4a_named_aac = tmp_.Join("mp4.aac");
  std::filesystem::copy_file(Full("m4a"), m4a_named_aac);
  EXPECT_EQ(Read(m4a_named_aac), Read(Full("m4a")));
}

TEST_F(TagReaderTest, MissingFileIsIOError) {
  Status s = ReadError(tmp_.Join("no such file.mp3"));
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  s = ReadError(tmp_.Join("no such folder/a.flac"));
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  s = ReadError("");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
}

TEST_F(TagReaderTest, DirectoryIsIOError) {
  const std::string dir = tmp_.Join("album.mp3");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  Status s = ReadError(dir);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("directory"), std::string::npos) << s.ToString();
}

// A FIFO must not block the reader in open() waiting for a writer.
TEST_F(TagReaderTest, FifoIsIOErrorWithoutBlocking) {
  const std::string fifo = tmp_.Join("pipe.mp3");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  Status s = ReadError(fifo);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
}

TEST_F(TagReaderTest, UnreadableFileIsIOError) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  const std::string path = tmp_.Join("locked.flac");
  std::filesystem::copy_file(Full("flac"), path);
  ASSERT_EQ(chmod(path.c_str(), 0), 0);
  Status s = ReadError(path);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
}

// The file is opened read-only: a file without write permission reads (and
// TagLib's default read-write open is never tried).
TEST_F(TagReaderTest, ReadOnlyFileReads) {
  const std::string path = tmp_.Join("readonly.mp3");
  std::filesystem::copy_file(Full("mp3"), path);
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  EXPECT_EQ(Read(path), Read(Full("mp3")));
}

// 8 threads read every file, good and broken, in their own orders at once:
// each gets what one thread alone gets.
TEST_F(TagReaderTest, ManyThreadsAgree) {
  std::vector<std::string> paths;
  for (const Format& f : kFormats) {
    paths.push_back(Full(f.ext));
    paths.push_back(Bare(f.ext));
    const std::string garbage = tmp_.Join(std::string("garbage.") + f.ext);
    WriteGarbage(garbage, 3000, 7);
    paths.push_back(garbage);
    const std::string cut = tmp_.Join(std::string("cut.") + f.ext);
    WriteTruncatedCopy(Full(f.ext), cut, 40);
    paths.push_back(cut);
  }
  paths.push_back(tmp_.Join("missing.mp3"));
  const std::string empty = tmp_.Join("empty.flac");
  WriteFile(empty, "");
  paths.push_back(empty);

  struct Result {
    Status::Code code;
    std::string message;
    AudioTags tags;
    bool operator==(const Result&) const = default;
  };
  auto read = [](const std::string& path) {
    AudioTags tags;
    Status s = ReadAudioTags(path, &tags);
    return Result{s.code(), s.message(), tags};
  };
  std::vector<Result> want;
  for (const std::string& p : paths) want.push_back(read(p));

  constexpr int kThreads = 8;
  constexpr int kRounds = 5;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      std::mt19937 rng(i);
      std::vector<size_t> order(paths.size());
      for (size_t j = 0; j < order.size(); ++j) order[j] = j;
      for (int round = 0; round < kRounds; ++round) {
        std::shuffle(order.begin(), order.end(), rng);
        for (size_t j : order) {
          if (!(read(paths[j]) == want[j])) ++mismatches[i];
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(mismatches[i], 0) << "thread " << i;
}

}  // namespace
}  // namespace zcmedia::scan
