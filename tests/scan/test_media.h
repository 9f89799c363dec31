// Test media for the scanner's tests: tagged audio files made by ffmpeg at
// test time, broken files, temporary directories. Test-only (scan_tests);
// failures are reported as gtest failures (ADD_FAILURE), never skips.
//
// ffmpeg costs ~0.1 s per file: make each format once per test suite
// (SetUpTestSuite) and copy it (std::filesystem::copy_file), rather than
// once per test.
//
// Thread-safety: every function may be called from several threads at once
// (ffmpeg runs in a child process per call).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace zcmedia::scan::testing {

struct TestTrack {
  std::string title, artist, album, genre, album_artist;  // empty: tag not written
  int track = 0, year = 0;                                // 0: not written
  double seconds = 1.0;                                   // length of the audio
};

// Makes an audio file at `path` whose format comes from the extension
// (.mp3 .flac .ogg .m4a .opus .wav, and .aac: raw ADTS, which carries no
// tags and TagLib 1.13 cannot read) carrying `tags`, by running ffmpeg (a
// 440 Hz sine tone, mono, a few KB per second). Returns false with a gtest
// failure (ADD_FAILURE naming the command and ffmpeg's stderr) when ffmpeg is
// missing or fails, or the extension is none of those -- scripts/install-deps
// installs ffmpeg, so a missing ffmpeg is a failure, not a skip.
//
// What ReadAudioTags then reads back (measured with ffmpeg 5.1, TagLib 1.13):
//   - every tag written, byte for byte (UTF-8), in every format, except that
//     a .wav has no album artist (RIFF INFO has no such field);
//   - a duration of exactly round(seconds * 1000) ms for .flac .ogg .opus
//     .wav; up to 55 ms more for .mp3 (the encoder's 1105-sample delay plus
//     padding to a whole 1152-sample frame, 44.1 kHz; measured +27..+49 ms)
//     and 23 ms more for .m4a (AAC's 1024 priming samples at 44.1 kHz);
//     kMp3ExtraMs and kM4aExtraMs below.
bool MakeAudioFile(const std::string& path, const TestTrack& tags);

// How much longer than TestTrack::seconds TagLib reports an MakeAudioFile
// .mp3 / .m4a to be, at most (see above); the other formats are exact.
inline constexpr int64_t kMp3ExtraMs = 55;
inline constexpr int64_t kM4aExtraMs = 25;

// Broken files. Each reports a gtest failure when it cannot write (or read
// `source`).
// The first `bytes` bytes of `source` (all of it when shorter) at `path`.
void WriteTruncatedCopy(const std::string& source, const std::string& path, size_t bytes);
// `contents` at `path` (empty: a zero-byte file), replacing any file there.
void WriteFile(const std::string& path, std::string_view contents);
// `bytes` pseudo-random bytes at `path`, the same for the same `seed`.
void WriteGarbage(const std::string& path, size_t bytes, uint32_t seed);

// A fresh temporary directory (under $TMPDIR or /tmp), removed with
// everything in it by the destructor (modes restored first, so a test may
// leave unreadable folders behind). A failure to create it is a gtest
// failure and path() is then "".
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + `relative`.
  std::string Join(std::string_view relative) const;

 private:
  std::string path_;
};

}  // namespace zcmedia::scan::testing
