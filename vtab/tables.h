// The table kinds and their factories (one file per kind).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "table.h"

namespace zcmedia::vtab {

std::optional<TableKind> TableKindNamed(std::string_view kind);

std::unique_ptr<Table> NewTable(TableKind kind, sqlite3* db, std::string schema, std::string name,
                                std::shared_ptr<StoreSession> session);
std::unique_ptr<Table> NewMediaFilesTable(sqlite3* db, std::string schema, std::string name,
                                          std::shared_ptr<StoreSession> session);
std::unique_ptr<Table> NewPlaylistsTable(sqlite3* db, std::string schema, std::string name,
                                         std::shared_ptr<StoreSession> session);
std::unique_ptr<Table> NewPlaylistEntriesTable(sqlite3* db, std::string schema, std::string name,
                                               std::shared_ptr<StoreSession> session);

}  // namespace zcmedia::vtab
