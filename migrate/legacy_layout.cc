#include "legacy_layout.h"

#include "sqlite_util.h"

#include <sqlite3.h>

#include <algorithm>
#include <vector>

namespace zcmedia::migrate {

const std::array<const char*, kLegacyColumnCount> kLegacyColumnNames = {
    "id",          "path",   "parent_path", "canonical_path", "canonical_parent_path", "filename", "size",
    "modified",    "mime_type", "duration", "title",          "artist",                "album",    "genre",
    "track_number", "year",  "album_artist", "created_at",    "updated_at"};

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// The column names of <schema>.<table> in declaration order, lower-cased
// (SQL names are case-insensitive); empty when there is no such table.
Status TableColumns(sqlite3* db, const std::string& schema, const char* table, std::vector<std::string>* names) {
  names->clear();
  char* sql = sqlite3_mprintf("PRAGMA \"%w\".table_info(\"%w\")", schema.c_str(), table);
  Statement columns;
  columns.Prepare(db, sql);
  sqlite3_free(sql);
  while (columns.Next()) names->push_back(Lower(columns.Text(1)));
  if (columns.rc() != SQLITE_DONE) {
    return Status::IOError("cannot read the columns of " + std::string(table) + ": " + sqlite3_errmsg(db));
  }
  return Status::OK();
}

// The positions of `wanted` in `columns`; fills *missing with the absent ones.
int Position(const std::vector<std::string>& columns, std::string_view name) {
  auto it = std::find(columns.begin(), columns.end(), name);
  return it == columns.end() ? -1 : static_cast<int>(it - columns.begin());
}

Status CheckPlaylistTable(const std::vector<std::string>& columns, const char* table,
                          std::initializer_list<const char*> wanted) {
  std::vector<std::string> missing, unknown;
  for (const char* name : wanted) {
    if (Position(columns, name) < 0) missing.push_back(name);
  }
  for (const std::string& name : columns) {
    if (std::none_of(wanted.begin(), wanted.end(), [&](const char* w) { return name == w; })) unknown.push_back(name);
  }
  if (!missing.empty()) {
    return Status::InvalidArgument(std::string(table) + " lacks the legacy columns " + Join(missing) +
                                   ": not a known legacy shape");
  }
  if (!unknown.empty()) {
    return Status::InvalidArgument(std::string(table) + " has columns no legacy shape has (" + Join(unknown) +
                                   "): zcmedia's table would lose them; drop or move them first");
  }
  return Status::OK();
}

}  // namespace

Status DetectLayout(sqlite3* db, const std::string& schema, LegacyLayout* layout) {
  std::vector<std::string> columns;
  ZC_RETURN_IF_ERROR(TableColumns(db, schema, "media_files", &columns));
  if (columns.empty()) {
    return Status::InvalidArgument("no media_files table: not a legacy media-server database");
  }
  std::vector<std::string> unknown;
  for (const std::string& name : columns) {
    if (std::find(kLegacyColumnNames.begin(), kLegacyColumnNames.end(), name) == kLegacyColumnNames.end()) {
      unknown.push_back(name);
    }
  }
  if (!unknown.empty()) {
    return Status::InvalidArgument("media_files has columns no legacy shape has (" + Join(unknown) +
                                   "): zcmedia's table would lose them; drop or move them first");
  }
  auto has = [&](LegacyColumn c) { return Position(columns, kLegacyColumnNames[c]) >= 0; };
  // Each shape adds a group of columns to the one before (shared notes).
  const std::vector<std::vector<LegacyColumn>> groups = {
      {kId, kPath, kFilename, kSize, kModified, kMimeType, kDuration, kTitle, kArtist, kAlbum, kCreatedAt,
       kUpdatedAt},                                      // A
      {kParentPath},                                     // B
      {kGenre, kTrackNumber, kYear, kAlbumArtist},       // C
      {kCanonicalPath, kCanonicalParentPath}};           // D
  static const char* const kShapes[] = {"A", "B", "C", "D"};
  int shape = -1;
  for (size_t g = 0; g < groups.size(); ++g) {
    std::vector<std::string> missing;
    for (LegacyColumn c : groups[g]) {
      if (!has(c)) missing.push_back(kLegacyColumnNames[c]);
    }
    if (missing.empty() && shape == static_cast<int>(g) - 1) {
      shape = static_cast<int>(g);
      continue;
    }
    if (missing.size() == groups[g].size() && g > 0) {
      // The whole group is absent: an older shape, unless a later group is there.
      for (size_t later = g + 1; later < groups.size(); ++later) {
        for (LegacyColumn c : groups[later]) {
          if (has(c)) {
            return Status::InvalidArgument("media_files is not a known legacy shape: it has " +
                                           std::string(kLegacyColumnNames[c]) + " (shape " + kShapes[later] +
                                           ") but lacks " + Join(missing) + " (shape " + kShapes[g] + ")");
          }
        }
      }
      break;
    }
    return Status::InvalidArgument("media_files is not a known legacy shape: it lacks the column" +
                                   std::string(missing.size() > 1 ? "s " : " ") + Join(missing) + " of shape " +
                                   kShapes[g]);
  }
  layout->shape = kShapes[shape];
  if (shape == 3 && Position(columns, "canonical_path") > Position(columns, "updated_at")) {
    layout->shape = "C+D";  // ALTER TABLE ... ADD COLUMN puts them last
  }

  layout->select_sql = "SELECT ";
  int next = 0;
  for (int c = 0; c < kLegacyColumnCount; ++c) {
    layout->select_index[c] = has(static_cast<LegacyColumn>(c)) ? next++ : -1;
    if (layout->select_index[c] >= 0) {
      layout->select_sql += std::string(next > 1 ? ", " : "") + "\"" + kLegacyColumnNames[c] + "\"";
    }
  }
  char* from = sqlite3_mprintf(" FROM \"%w\".media_files", schema.c_str());
  layout->select_sql += from;
  sqlite3_free(from);

  std::vector<std::string> playlists, entries;
  ZC_RETURN_IF_ERROR(TableColumns(db, schema, "playlists", &playlists));
  ZC_RETURN_IF_ERROR(TableColumns(db, schema, "playlist_entries", &entries));
  if (playlists.empty() != entries.empty()) {
    return Status::InvalidArgument(std::string("the file has ") + (playlists.empty() ? "playlist_entries" : "playlists") +
                                   " but not " + (playlists.empty() ? "playlists" : "playlist_entries") +
                                   ": not a known legacy shape");
  }
  layout->has_playlists = !playlists.empty();
  if (layout->has_playlists) {
    ZC_RETURN_IF_ERROR(
        CheckPlaylistTable(playlists, "playlists", {"id", "name", "description", "created_at", "updated_at"}));
    ZC_RETURN_IF_ERROR(CheckPlaylistTable(entries, "playlist_entries",
                                          {"id", "playlist_id", "media_file_id", "position", "created_at"}));
  }
  return Status::OK();
}

bool IsWindowsPath(std::string_view path) {
  if (path.size() >= 2 && path[0] == '\\' && path[1] == '\\') return true;  // UNC
  return path.size() >= 3 && ((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) &&
         path[1] == ':' && (path[2] == '\\' || path[2] == '/');
}

namespace {

// Lower-cases one code point as Rust's char::to_lowercase does (the legacy
// server lower-cases canonical paths with str::to_lowercase), for ASCII,
// Latin-1 and Latin Extended-A. Other code points are returned unchanged:
// a difference from the server only for paths with cased letters of other
// scripts (docs/migration.md).
char32_t LowerLatin(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
  if (c >= 0x100 && c <= 0x137 && c != 0x130 && c % 2 == 0) return c + 1;
  if (c >= 0x139 && c <= 0x148 && c % 2 == 1) return c + 1;
  if (c >= 0x14A && c <= 0x177 && c % 2 == 0) return c + 1;
  if (c == 0x178) return 0xFF;
  if (c >= 0x179 && c <= 0x17E && c % 2 == 1) return c + 1;
  return c;
}

}  // namespace

std::string CanonicalForm(std::string_view path) {
  if (!IsWindowsPath(path)) return std::string(path);
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    const unsigned char byte = static_cast<unsigned char>(path[i]);
    if (byte == '\\') {
      out.push_back('/');
    } else if (byte < 0x80) {
      out.push_back(static_cast<char>(LowerLatin(byte)));
    } else if ((byte & 0xE0) == 0xC0 && i + 1 < path.size() && (path[i + 1] & 0xC0) == 0x80) {
      // Two-byte sequences hold U+0080..U+07FF, where every letter LowerLatin
      // changes lives; the lower case stays two bytes long.
      const char32_t c = ((byte & 0x1Fu) << 6) | (static_cast<unsigned char>(path[i + 1]) & 0x3Fu);
      const char32_t lower = LowerLatin(c);
      out.push_back(static_cast<char>(0xC0 | (lower >> 6)));
      out.push_back(static_cast<char>(0x80 | (lower & 0x3F)));
      ++i;
    } else {
      out.push_back(static_cast<char>(byte));
    }
  }
  return out;
}

namespace {

const char* StorageClassName(int type) {
  switch (type) {
    case SQLITE_INTEGER: return "INTEGER";
    case SQLITE_FLOAT: return "REAL";
    case SQLITE_TEXT: return "TEXT";
    case SQLITE_BLOB: return "BLOB";
    default: return "NULL";
  }
}

// "size holds TEXT 'abc'": what a wrong value is, for the report.
std::string WrongValue(sqlite3_stmt* stmt, int index, const char* column) {
  const int type = sqlite3_column_type(stmt, index);
  std::string out = std::string(column) + (type == SQLITE_NULL ? " is NULL" : " holds " + std::string(StorageClassName(type)));
  if (type == SQLITE_TEXT || type == SQLITE_FLOAT) {
    const unsigned char* text = sqlite3_column_text(stmt, index);
    std::string shown = text ? reinterpret_cast<const char*>(text) : "";
    if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
    out += " '" + shown + "'";
  }
  return out;
}

}  // namespace

int64_t MediaRowConverter::id(sqlite3_stmt* stmt) const {
  return sqlite3_column_int64(stmt, layout_.select_index[kId]);
}

bool MediaRowConverter::Convert(sqlite3_stmt* stmt, MediaFileFields* out, std::string* reason) {
  filled_.fill(false);
  *out = MediaFileFields();
  // Each present column read once, with its storage class: the conversion
  // and Digest both work from these (one SQLite call per value, not three).
  for (int c = 0; c < kLegacyColumnCount; ++c) {
    const int index = layout_.select_index[c];
    RawValue& raw = raw_[c];
    raw.type = index < 0 ? kAbsent : sqlite3_column_type(stmt, index);
    if (raw.type == SQLITE_INTEGER) {
      raw.integer = sqlite3_column_int64(stmt, index);
    } else if (raw.type == SQLITE_TEXT) {
      raw.text = ColumnBytes(stmt, index);
    }
  }
  bool ok = true;
  auto fail = [&](std::string why) {
    if (ok) *reason = std::move(why);
    ok = false;
  };
  // Text: NULL allowed unless `required`; any other storage class refused.
  auto text = [&](LegacyColumn c, bool required) -> OptText {
    const RawValue& raw = raw_[c];
    if (raw.type == SQLITE_TEXT) return raw.text;
    if (raw.type == kAbsent) return std::nullopt;
    if (raw.type != SQLITE_NULL || required) fail(WrongValue(stmt, layout_.select_index[c], kLegacyColumnNames[c]));
    return std::nullopt;
  };
  auto integer = [&](LegacyColumn c, bool required) -> OptInt {
    const RawValue& raw = raw_[c];
    if (raw.type == SQLITE_INTEGER) return raw.integer;
    if (raw.type == kAbsent) return std::nullopt;
    if (raw.type != SQLITE_NULL || required) fail(WrongValue(stmt, layout_.select_index[c], kLegacyColumnNames[c]));
    return std::nullopt;
  };

  out->id = integer(kId, true).value_or(0);
  if (ok && out->id < 1) fail("id " + std::to_string(out->id) + " is below 1 (the store's ids start at 1)");
  OptText path = text(kPath, true);
  if (path && path->empty()) fail("path is empty");
  out->path = path.value_or(std::string_view());
  out->parent_path = text(kParentPath, true);
  out->canonical_path = text(kCanonicalPath, false);
  out->canonical_parent_path = text(kCanonicalParentPath, false);
  out->filename = text(kFilename, true);
  out->size = integer(kSize, true).value_or(0);
  out->modified = integer(kModified, true).value_or(0);
  out->mime_type = text(kMimeType, true);
  out->duration = integer(kDuration, false);
  out->title = text(kTitle, false);
  out->artist = text(kArtist, false);
  out->album = text(kAlbum, false);
  out->genre = text(kGenre, false);
  out->track_number = integer(kTrackNumber, false);
  out->year = integer(kYear, false);
  out->album_artist = text(kAlbumArtist, false);
  out->created_at = integer(kCreatedAt, true).value_or(0);
  out->updated_at = integer(kUpdatedAt, true).value_or(0);
  if (!ok) return false;

  // The fills of older shapes (see legacy_layout.h).
  if (layout_.select_index[kParentPath] < 0) {
    parent_.assign(DeriveParentPath(out->path));
    out->parent_path = parent_;
    filled_[kParentPath] = true;
  }
  if (!out->canonical_path) {
    canonical_path_ = CanonicalForm(out->path);
    out->canonical_path = canonical_path_;
    filled_[kCanonicalPath] = true;
  }
  if (!out->canonical_parent_path) {
    canonical_parent_ = CanonicalForm(*out->parent_path);
    out->canonical_parent_path = canonical_parent_;
    filled_[kCanonicalParentPath] = true;
  }
  return true;
}

RowHasher::Digest MediaRowConverter::Digest(sqlite3_stmt* stmt) {
  hasher_.Begin();
  for (int c = 0; c < kLegacyColumnCount; ++c) {
    const RawValue& raw = raw_[c];
    if (filled_[c]) {
      hasher_.Text(c == kParentPath ? parent_ : c == kCanonicalPath ? canonical_path_ : canonical_parent_);
    } else if (raw.type == kAbsent || raw.type == SQLITE_NULL) {
      hasher_.Null();
    } else if (raw.type == SQLITE_INTEGER) {
      hasher_.Integer(raw.integer);  // the legacy values themselves, not the record's
    } else if (raw.type == SQLITE_TEXT) {
      hasher_.Text(raw.text);
    } else {
      hasher_.Column(stmt, layout_.select_index[c]);
    }
  }
  return hasher_.Finish();
}

}  // namespace zcmedia::migrate
