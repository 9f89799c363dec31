// LegacyLayout: which of the legacy media_files columns a file has (read by
// name, never by position), the shape that makes (A, B, C, D, or C+D: D
// reached by ALTER TABLE from C, canonical columns last), and how each row
// becomes a store record (MediaRowConverter).
//
// Column conventions (shared notes "legacy-schema", docs/migration.md):
//   - columns an older shape lacks are NULL, except parent_path (shape A),
//     derived from path as the legacy server derives it;
//   - NULL canonical_path / canonical_parent_path (shapes A to C, and rows
//     of C+D written before the ALTER) are filled from path / parent_path as
//     the legacy server fills them: unchanged for Unix paths; for Windows
//     paths (a drive letter, or \\ for UNC) ASCII letters lower-cased and
//     '\' turned into '/' (UNC keeps its leading //).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "row_checksum.h"
#include "zcmedia/media_file.h"
#include "zcmedia/migrate.h"
#include "zcmedia/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace zcmedia::migrate {

// The 19 columns of shape D's media_files, in its declaration order (the
// order of the new virtual table and of every checksum).
enum LegacyColumn : int {
  kId, kPath, kParentPath, kCanonicalPath, kCanonicalParentPath, kFilename, kSize, kModified,
  kMimeType, kDuration, kTitle, kArtist, kAlbum, kGenre, kTrackNumber, kYear, kAlbumArtist,
  kCreatedAt, kUpdatedAt, kLegacyColumnCount
};
extern const std::array<const char*, kLegacyColumnCount> kLegacyColumnNames;

struct LegacyLayout {
  std::string shape;  // "A", "B", "C", "D", "C+D"
  // Position of each column in `select_sql`'s result, -1 when absent.
  std::array<int, kLegacyColumnCount> select_index{};
  // SELECT of the present columns from <schema>.media_files, in rowid (id) order.
  std::string select_sql;
  bool has_playlists = false;         // both playlist tables, with the legacy columns
};

// Reads PRAGMA <schema>.table_info of media_files (and of the playlist
// tables) and decides the shape. InvalidArgument naming what is wrong: no
// media_files table, columns a known shape needs but the file lacks,
// columns no shape has (zcmedia would lose them).
Status DetectLayout(sqlite3* db, const std::string& schema, LegacyLayout* layout);

// IsWindowsPath and CanonicalForm: zcmedia/migrate.h.

// Turns the current row of a statement prepared from layout.select_sql into
// the record the store keeps, and the digest of the row as the new table
// will show it. Not thread-safe; the fields' views are valid until the next
// Convert (they point into the statement's row and this object's buffers).
class MediaRowConverter {
 public:
  explicit MediaRowConverter(const LegacyLayout& layout) : layout_(layout) {}

  // False, with *reason ("size holds TEXT 'abc'", "path is NULL", ...), when
  // the store cannot hold the row as the legacy table declares it.
  bool Convert(sqlite3_stmt* stmt, MediaFileFields* out, std::string* reason);
  // The digest of the last converted row: the legacy values as SQLite
  // returned them (storage class and bytes, by column, independent of how
  // they were mapped into the record), fills applied. Same statement row.
  RowHasher::Digest Digest(sqlite3_stmt* stmt);
  int64_t id(sqlite3_stmt* stmt) const;
  bool filled_parent() const { return filled_[kParentPath]; }
  bool filled_canonical() const { return filled_[kCanonicalPath] || filled_[kCanonicalParentPath]; }

 private:
  // A column's value as SQLite returned it (text views into the row).
  static constexpr int kAbsent = -1;  // the shape lacks the column
  struct RawValue {
    int type = kAbsent;  // SQLITE_INTEGER, SQLITE_TEXT, ... or kAbsent
    int64_t integer = 0;
    std::string_view text;
  };

  const LegacyLayout& layout_;
  std::array<RawValue, kLegacyColumnCount> raw_{};
  std::array<bool, kLegacyColumnCount> filled_{};
  std::string parent_, canonical_path_, canonical_parent_;  // fills
  RowHasher hasher_;
};

}  // namespace zcmedia::migrate
