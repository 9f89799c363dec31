// GenerateLegacyDatabase: writes a new SQLite file in one of the legacy
// media server's schema shapes (shared/notes/legacy-schema.md), filled with
// LibraryGenerator's records, as input for migration tools and their tests.
//
// What the file looks like, per shape (every shape: one database_metadata
// row 'schema_version', AUTOINCREMENT tables so sqlite_sequence exists,
// journal_mode=WAL persisted in the header, no -wal/-shm left behind):
//
//   A    schema_version '1'. media_files(id, path, filename, size, modified,
//        mime_type, duration, title, artist, album, created_at, updated_at);
//        indexes on path, modified, mime_type, filename. No playlist tables,
//        so no playlists are generated.
//   B    schema_version '1'. A plus parent_path (declared right after path)
//        and its index.
//   C    schema_version '1'. B plus genre, track_number, year, album_artist
//        (after album), the playlists and playlist_entries tables, the music
//        and playlist indexes.
//   D    schema_version '2'. A fresh file of the newest shape: the statements
//        of kLegacyShapeDSchema (sqlite_legacy.h), canonical_path and
//        canonical_parent_path declared after parent_path, every row with
//        canonical values.
//   C+D  schema_version '2'. D reached by the server's migration: created as
//        C, the first half of the rows inserted, then canonical_path and
//        canonical_parent_path added by ALTER TABLE (so they are the last two
//        columns) with their indexes, schema_version set to '2', and the rest
//        of the rows inserted with canonical values. The first half keeps
//        NULL canonical columns, as the server never backfilled them.
//
// Rows: LibraryGenerator(seed) in its directory-walk order, ids 1..rows as
// inserted. With id_gaps about 1% of them are deleted afterwards, always
// including the last one to three ids, so ids have holes and
// sqlite_sequence.seq > max(id); without, seq == max(id) == rows.
// Tags (genre, track_number, year, album_artist) are dropped where the shape
// has no column for them.
//
// Paths: Unix paths as generated (/media/...), canonical columns equal to
// path / parent_path. With windows_paths they become native Windows paths,
// C:\Media\Music\..., and for about one top-level folder in 20 a UNC path,
// \\NAS\Media\...; the canonical columns are the server's Windows form:
// lower-cased, '\' turned into '/' (//nas/media/... for UNC).
//
// Playlists (shapes C, D, C+D): unique names, some with a NULL or empty
// description, one empty playlist ("New Playlist", when there are two or
// more), entries referencing existing audio files (an album-like run or
// picks from the whole library), 0-based positions with gaps (skipped
// positions, entries deleted after insertion, entries removed by ON DELETE
// CASCADE with their media file), entry ids with holes.
//
// The same options give the same logical content: ids, rows, playlists and
// every timestamp (all derive from the generator's scan clock, none from the
// wall clock). The file is built with foreign_keys=ON, so it passes
// PRAGMA foreign_key_check and integrity_check.
//
// Speed: one transaction per phase with prepared statements, journal_mode=OFF
// and synchronous=OFF during the load, secondary indexes created after it.
// If generation fails the partial file is removed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "commands.h"

namespace zcmedia::bench {

enum class LegacyShape { kA, kB, kC, kD, kCThenD };  // kCThenD: "D reached by ALTER from C"

// Parses "A", "B", "C", "D", "C+D" (case-insensitive); false otherwise, and
// *shape is left unchanged.
bool ParseLegacyShape(std::string_view text, LegacyShape* shape);
// "A", "B", "C", "D" or "C+D".
const char* LegacyShapeName(LegacyShape shape);

struct LegacyGenerateOptions {
  std::string path;              // must not exist (nor its -wal / -journal sidecars)
  uint64_t rows = 100'000;       // media_files rows inserted (before the id-gap deletes)
  LegacyShape shape = LegacyShape::kD;
  uint64_t seed = kDefaultSeed;
  bool windows_paths = false;    // C:\Media\... paths, lower-cased '/' canonical columns
  int64_t playlists = -1;        // -1: one per 2,000 rows, at least 2 when rows > 0 (0 for A and B);
                                 // more than 0 on shape A or B is an error
  bool id_gaps = true;           // delete ~1% of the rows (and the last 1-3 ids) after inserting
};

struct LegacyGenerateReport {
  uint64_t media_files = 0;       // rows left in media_files
  uint64_t playlists = 0;
  uint64_t playlist_entries = 0;  // rows left in playlist_entries
  int64_t max_id = 0;             // max(media_files.id), 0 when empty
  int64_t sequence = 0;           // sqlite_sequence.seq of media_files, 0 when none
  double seconds = 0;             // wall time of the whole generation
};

// Creates options.path and fills it. Throws BenchError (bench_util.h) with a
// message naming the file on failure (existing file, unwritable directory,
// SQLite error), after removing whatever it had written.
LegacyGenerateReport GenerateLegacyDatabase(const LegacyGenerateOptions& options);

// `zcmedia generate-legacy`: generates, then prints a one-line summary, or
// one JSON object when `json`. Returns the exit status (0).
int RunGenerateLegacy(const LegacyGenerateOptions& options, bool json);

}  // namespace zcmedia::bench
