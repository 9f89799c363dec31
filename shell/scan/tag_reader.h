// The scanner's tag reader: title, artist, album, genre, album artist, track
// number, year and duration of one audio file, read with TagLib (1.13).
//
// Which tag lands in which media_files column, by format (what TagLib's
// Tag and PropertyMap map them from; the tests write them with ffmpeg's
// -metadata title= artist= album= genre= track= date= album_artist=):
//
//   column        MP3 (ID3v2)  FLAC, Ogg, Opus (Xiph)  M4A (MP4 atoms)  WAV (RIFF INFO)
//   title         TIT2         TITLE                   ©nam             INAM
//   artist        TPE1         ARTIST                  ©ART             IART
//   album         TALB         ALBUM                   ©alb             IPRD
//   genre         TCON         GENRE                   ©gen / gnre      IGNR
//   track_number  TRCK         TRACKNUMBER             trkn             IPRT
//   year          TDRC, TYER   DATE                    ©day             ICRD
//   album_artist  TPE2         ALBUMARTIST             aART             -
//   duration_ms   Xing/VBRI header or bitrate; STREAMINFO; last Ogg page; mdhd; fmt/data
//
// Numbers are read up to their first non-digit ("7/12" -> 7, "1999-05-01"
// -> 1999). An MP3 without an ID3v2 tag falls back to its ID3v1 or APE tag;
// a WAV with an ID3v2 chunk reads that instead of its INFO list (which has
// no album artist). AIFF reads its ID3v2 chunk; WMA its ASF attributes.
//
// Durations are TagLib's, from headers, not decoded: MP3 and AAC (M4A) include the
// encoder's delay and padding (MP3 up to ~50 ms, AAC 1024 samples, 23 ms at
// 44.1 kHz, longer than the audio); FLAC, Vorbis, Opus and WAV are exact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "zcmedia/media_file.h"
#include "zcmedia/status.h"

namespace zcmedia::scan {

// What ReadAudioTags found. Text is UTF-8. nullopt: the tag is absent or
// empty (or 0, for the numbers), or TagLib found no duration (some truncated
// files: see ReadAudioTags).
struct AudioTags {
  std::optional<std::string> title, artist, album, genre, album_artist;
  std::optional<int64_t> track_number, year, duration_ms;

  friend bool operator==(const AudioTags&, const AudioTags&) = default;
};

// Reads tags and duration of the audio file at `path` with TagLib into
// `*out` (every field reset first).
//
// OK with what was found: an absent or empty text tag -> nullopt; track 0 /
// year 0 -> nullopt; album artist from the property map's ALBUMARTIST, as
// TagLib maps TPE2 / ALBUMARTIST / aART.
//
// An error otherwise, naming the path and what to do; `*out` is then all
// nullopt:
//   - IOError when the file cannot be opened (missing, unreadable, a
//     directory or anything else that is not a regular file);
//   - Corruption when TagLib cannot parse it as an audio file: zero bytes,
//     garbage, truncated inside its header, a format TagLib does not
//     read (raw ADTS .aac), or a file TagLib accepts but finds neither a tag
//     nor a duration in. The scanner stores such files without tags and
//     reports them.
//
// The format comes from the content when the extension's parser finds
// nothing (a FLAC file named .mp3 reads as FLAC): TagLib's MP3 parser
// accepts any bytes, so the extension alone cannot tell garbage from an MP3.
// A file cut short is only detected when the cut leaves TagLib nothing:
// TagLib reads headers and tags, not the audio. Cut inside its format header
// (or, for an M4A, anywhere before its moov atom, which ffmpeg writes last)
// it is Corruption. Otherwise it reads OK: an MP3 or FLAC cut in its audio
// with its full length (Xing header, STREAMINFO); an MP3 cut inside its ID3v2
// tag with the frames that fit and no duration; an Ogg, Opus or WAV with the
// length of what is left, or none.
//
// The file is opened read-only (O_RDONLY, never TagLib's default read-write
// first attempt, which an inotify watcher would see as IN_CLOSE_WRITE) and
// closed before returning.
//
// Cost, warm cache, one thread, small files: 25-35 us per MP3, FLAC, Ogg,
// Opus or WAV, ~45 us per M4A: what TagLib alone takes for the same reads. Only errors parse twice. A large file
// that is no MP3 but named .mp3 is read whole by TagLib's MP3 parser looking
// for a frame (~2 s for 50 MB of garbage, warm).
//
// Thread-safe: any number of threads may call it at once (each call has its
// own TagLib objects; TagLib's debug output is silenced once per process,
// on the first call). Never crashes on any input.
Status ReadAudioTags(const std::string& path, AudioTags* out);

// Sets the tag columns of `f` (title, artist, album, genre, track_number,
// year, album_artist, duration) from `tags`, NULL where a tag is absent.
// The text columns are views into `tags`: keep it alive while `f` is used.
void ApplyAudioTags(const AudioTags& tags, MediaFileFields* f);

}  // namespace zcmedia::scan
