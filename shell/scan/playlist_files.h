// Playlist files (.m3u, .m3u8, .pls): reading them, importing them into the
// store as playlists, and writing a stored playlist out as one.
//
// Reading never trusts the file: a file over kMaxPlaylistFileBytes or
// holding a NUL byte (binary, or UTF-16) is refused with a Status naming
// it, and any other byte sequence parses to some list of paths without a
// crash. Entries are paths as the scanner stores them: absolute and
// lexically normalised ('.' and '..' folded, no trailing '/'), so that
// they can be looked up with Snapshot::FindManyByPath. Nothing on disk is
// consulted beyond the playlist file itself: a symlinked folder in an
// entry is not resolved, so an entry names a record only through the same
// spelling the scanner stored.
//
// Thread-safety: the functions keep no state; concurrent calls are fine
// (ImportPlaylist writes, so see its REQUIRES).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "media_types.h"
#include "zcmedia/status.h"
#include "zcmedia/store.h"

namespace zcmedia::scan {

// The largest playlist file read. A playlist of 100,000 tracks is about
// 10 MiB; anything bigger is not a playlist someone made, and reading is
// all in memory.
constexpr uint64_t kMaxPlaylistFileBytes = uint64_t{16} << 20;

struct ParsedPlaylist {
  // The playlist's name: the file name without its last extension
  // ("Road trip" for /music/Road trip.m3u8).
  std::string name;
  // Entries in file order (pls: in FileN order), each an absolute,
  // lexically normalised path in UTF-8 (or the file's own bytes, when a
  // .m3u8 file is not valid UTF-8):
  //   - an absolute entry as it is;
  //   - a relative one resolved against the playlist file's folder, its
  //     backslashes turned into '/' first (lists made on Windows write
  //     "Album\01.mp3"; a Unix file name holding a '\' in a relative entry
  //     is the rarer case and is given up);
  //   - a file:// URL (file:///p, file://localhost/p, file:/p)
  //     percent-decoded.
  // A path may appear more than once (ImportPlaylist keeps the first).
  std::vector<std::string> paths;
  // Entries that name no local file, as written: URLs of other schemes
  // (http://, rtsp://, file://otherhost/...), Windows absolute paths
  // (C:\..., \\server\share, \Music\...), empty pls values, paths holding
  // a NUL once decoded.
  std::vector<std::string> skipped;
};

// Reads and parses the playlist file at `path` (replacing *out):
//   m3u:  one entry per line; lines starting with '#' (#EXTM3U, #EXTINF,
//         anything else) and blank lines are not entries. Text that is
//         valid UTF-8 is taken as such, anything else as Windows-1252
//         (Latin-1 plus the printable 0x80-0x9F of Windows' "ANSI" code
//         page, which is what Windows-made .m3u files are) and converted.
//   m3u8: UTF-8.
//   pls:  an INI file that must have a [playlist] section (any case);
//         its FileN=<entry> in N order (N a positive integer; a repeated N
//         keeps the last), TitleN, LengthN, NumberOfEntries and Version
//         read and not needed; ';' and '#' lines are comments. Encoded as
//         .m3u is.
// Every format: a UTF-8 byte-order mark is dropped; lines end in LF, CRLF
// or CR; entries are trimmed of spaces and tabs.
// Errors (each names the file): IOError (missing, unreadable, a folder),
// InvalidArgument (over kMaxPlaylistFileBytes, a NUL byte, a .pls file
// without [playlist]).
Status ParsePlaylistFile(const std::string& path, PlaylistFormat format, ParsedPlaylist* out);

// The same for text already read; `playlist_path` gives the name, the
// folder relative entries are resolved against (the current directory
// when it is relative) and the file named in errors.
Status ParsePlaylistText(std::string_view text, const std::string& playlist_path, PlaylistFormat format,
                         ParsedPlaylist* out);

// What ImportPlaylist did. Exactly one of created, replaced, unchanged,
// name_taken, nothing_to_import is true after an OK return.
struct ImportResult {
  int64_t playlist_id = 0;  // the playlist written or found (0 if none)
  bool created = false;     // a new playlist
  bool replaced = false;    // an earlier import's entries replaced
  bool unchanged = false;   // imported before and the file has not changed since: nothing written
  // A playlist of that name exists that was not imported from this file
  // (a user's playlist, or another file with the same name): left alone,
  // nothing written. The scanner reports it (ScanProblem::kPlaylist).
  bool name_taken = false;
  // No playlist of that name yet and not one entry of the file is in the
  // store (a list of internet streams, of files outside the library):
  // nothing written rather than an empty playlist.
  bool nothing_to_import = false;
  uint64_t entries = 0;     // entries the playlist holds now
  uint64_t duplicates = 0;  // entries naming a media file already listed above them
  uint64_t missing = 0;     // paths that name no media file in the store
  // The first kMaxListedMissing of them, for a report.
  std::vector<std::string> missing_paths;
};
constexpr size_t kMaxListedMissing = 20;

// Makes the store's playlist named `parsed.name` hold the media files of
// `parsed.paths` that the store has (entries at positions 0..n-1 in file
// order; a media file listed twice is kept once, at its first place, as
// UNIQUE(playlist_id, media_file_id) requires). The policy, which keeps a
// rescan of an unchanged library from writing anything and never touches
// a playlist the user made:
//   - An imported playlist carries the description
//     "Imported from <source_path>"; that is how a later import knows it.
//   - No playlist of that name: created (created_at = updated_at = now,
//     Unix seconds), unless no entry is in the store (nothing_to_import).
//   - One with that description whose updated_at <= source_mtime (the
//     file changed since the import): its entries are all removed and the
//     new ones added, and updated_at set to now; created_at and the id are
//     kept. "<=" rather than "<": a file changed in the very second of its
//     import is imported again once rather than missed for good; the price
//     is that a file whose mtime lies in the future is imported on every
//     call until the clock passes it.
//   - One with that description and updated_at > source_mtime: unchanged,
//     nothing written and no path looked up. Its entries stay as they are,
//     edits made through SQL included -- and so do paths that were missing
//     at the import and have been scanned since: they appear when the
//     file changes again (or after the playlist is removed).
//   - One with another description: name_taken, nothing written.
// Everything written goes in one Store::Write: readers see the old
// playlist or the new one, never a part.
//
// `source_path` is the playlist file's path as the scanner found it (it
// ends up in the description); `source_mtime` its mtime, Unix seconds.
// OK for every outcome above (see *result); an error only when the store
// could not be read or refused the write (nothing written then; *result
// may hold counts of the lookups but no outcome flag).
//
// REQUIRES: `store` is writable, and nothing else writes to it while this
// runs (the new playlist's id is the snapshot's next_playlist_id(); a
// concurrent writer makes the Write fail with Constraint, never corrupt).
// REQUIRES: the media files' batches are committed first: paths are looked
// up in the latest committed state.
// Memory: the parsed paths, a view per path, and a WriteBatch of about 90
// bytes per entry (measured), for the whole playlist at once, which is what
// makes the import atomic: a 100,000-track playlist needs ~10 MiB above the
// store's memory budget for the moment of the write.
Status ImportPlaylist(Store* store, const ParsedPlaylist& parsed, const std::string& source_path,
                      int64_t source_mtime, ImportResult* result);

// What ImportPlaylist would do with the playlist file at `source_path`
// (mtime `source_mtime`), decided from its name and the store alone,
// without reading the file: kCurrent and kNameTaken are exactly the cases
// where ImportPlaylist writes nothing (result->unchanged, ->name_taken).
// The scanner asks first, so that a rescan of an unchanged library reads
// no playlist file's content.
enum class ImportNeed { kImport, kCurrent, kNameTaken };
Status CheckImport(const Snapshot& snapshot, const std::string& source_path, int64_t source_mtime,
                   ImportNeed* need);

// Writes playlist `playlist_id` of `snapshot` to `out`, entries in position
// order, one line each ('\n'):
//   m3u8 (and m3u, also written in UTF-8: the parser reads UTF-8 .m3u
//   files as UTF-8):
//     #EXTM3U
//     #EXTINF:<seconds, rounded; -1 when unknown>,<artist - title>
//     <path>
//   pls:
//     [playlist]
//     File1=<path>  Title1=<artist - title>  Length1=<seconds or -1>  ...
//     NumberOfEntries=<n>
//     Version=2
// The title is "artist - title" when the record has both, the title alone
// when it has only that, else the file name. A path that a line cannot
// carry as it is (holding CR or LF, or starting or ending with a space or
// tab, which the parser trims) is written as a percent-encoded file:///
// URL, so that ParsePlaylistFile reads back the same paths in the same
// order. NotFound when there is no such playlist; IOError when the stream
// fails (the message cannot name what the stream writes to: the caller can).
Status WritePlaylistFile(const Snapshot& snapshot, int64_t playlist_id, PlaylistFormat format, std::ostream& out);

// `zcmedia playlist export`'s work: the playlist named `name` (exact)
// written by WritePlaylistFile to `output_path`, or to standard output for
// "-". A file is written atomically: into a temporary file beside it,
// synced, then renamed over `output_path` (a reader, or a crash, sees the
// old file or the new one; an existing file is replaced). NotFound when
// there is no playlist of that name; IOError naming `output_path` when it
// cannot be written (nothing is left behind then).
Status ExportPlaylist(const Snapshot& snapshot, std::string_view name, PlaylistFormat format,
                      const std::string& output_path);

}  // namespace zcmedia::scan
