#include "tables.h"

namespace zcmedia::vtab {

std::optional<TableKind> TableKindNamed(std::string_view kind) {
  if (kind == "media_files") return TableKind::kMediaFiles;
  if (kind == "playlists") return TableKind::kPlaylists;
  if (kind == "playlist_entries") return TableKind::kPlaylistEntries;
  return std::nullopt;
}

std::unique_ptr<Table> NewTable(TableKind kind, sqlite3* db, std::string schema, std::string name,
                                std::shared_ptr<StoreSession> session) {
  switch (kind) {
    case TableKind::kMediaFiles: return NewMediaFilesTable(db, std::move(schema), std::move(name), std::move(session));
    case TableKind::kPlaylists: return NewPlaylistsTable(db, std::move(schema), std::move(name), std::move(session));
    case TableKind::kPlaylistEntries:
      return NewPlaylistEntriesTable(db, std::move(schema), std::move(name), std::move(session));
  }
  return nullptr;
}

}  // namespace zcmedia::vtab
