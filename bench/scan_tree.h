// A generated media folder tree for `zcmedia bench scan`: N small, valid,
// tagged MP3 files laid out as a music library, plus album covers and a few
// video files. Deterministic: the same seed and N write the same bytes
// (mtimes aside).
//
// The files are written directly (no encoder, no tag writer: 100,000 of them
// take seconds):
//
//   - an ID3v2.4 tag of UTF-8 text frames TIT2 TPE1 TALB TCON TRCK ("7/12")
//     TDRC ("1999") TPE2, and 128 bytes of padding; about 15% of the files
//     have no tag at all;
//   - four MPEG-1 Layer III frames, 128 kbps, 44.1 kHz, stereo, with zeroed
//     side info and main data (silence to a decoder): the first carries an
//     "Info" header (the LAME/Xing header of a CBR file) giving the track's
//     frame count, so that TagLib reports a track length of 2 to 6 minutes
//     from a 1.7 KB file, as it does for a real one.
//
// Layout below `root`:
//   Music/<album artist>/<album>/NN <title>.mp3   8 to 16 tracks per album,
//                                                 cover.jpg in 40% of albums
//   Videos/Clips NNN/clip NNNNN.mp4               one video per 200 tracks,
//                                                 20 per folder (not valid
//                                                 video: the scanner does not
//                                                 open videos)
// Names: about 1,000 artists at 100,000 files (fewer below: about one per 8
// albums), album names unique, ~20 genres, years 1960-2025, 5% of albums by
// "Various Artists" (TPE1 per track, TPE2 "Various Artists"), some artist,
// album and title names non-ASCII (Latin accents, Cyrillic, Japanese).
//
// Not thread-safe (one call at a time per root). Throws BenchError when a
// file or folder cannot be created.
#pragma once

#include <cstdint>
#include <string>

namespace zcmedia::bench {

struct ScanTreeOptions {
  std::string root;          // created; must not exist, or be an empty folder
  uint64_t audio_files = 0;  // MP3 files to write
  uint64_t seed = 1;
};

// What one generated MP3 holds, as TagLib should read it back: the tag
// fields (empty / 0 for an untagged file) and its length in milliseconds.
struct GeneratedTrack {
  std::string path;
  bool tagged = false;
  std::string title, artist, album, genre, album_artist;
  int64_t track_number = 0;
  int64_t year = 0;
  int64_t duration_ms = 0;  // what TagLib computes from the Info header
};

struct ScanTreeReport {
  uint64_t audio_files = 0;
  uint64_t tagged_files = 0;     // with an ID3v2 tag
  uint64_t covers = 0;           // cover.jpg files
  uint64_t videos = 0;
  uint64_t folders = 0;          // created below root, root included
  uint64_t artists = 0;          // distinct album artists with a folder
  uint64_t albums = 0;
  uint64_t bytes = 0;            // apparent size of every file written
  int64_t duration_ms_total = 0; // the tracks' lengths summed, as TagLib reads them
  double seconds = 0;
  // The first tagged and the first untagged track written, for checking
  // the reader; a sample's path is empty when no such track was written.
  GeneratedTrack tagged_sample, untagged_sample;

  // Every file the scanner lists as media: tracks, covers and videos.
  uint64_t media_files() const { return audio_files + covers + videos; }
};

ScanTreeReport GenerateScanTree(const ScanTreeOptions& options);

}  // namespace zcmedia::bench
