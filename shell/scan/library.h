// LIB.db: the SQLite file a scan writes and the sql/stats/check/compact
// commands read. Its media_files, playlists and playlist_entries are zcmedia
// virtual tables over a store directory beside it, exactly as in the NEW.db
// `zcmedia migrate` writes (docs/migration.md, "What the output is"):
//
//   LIB.db       database_metadata (legacy shape D's table, schema_version
//                '2'), CREATE VIRTUAL TABLE media_files USING
//                zcmedia(store='LIB.zcmedia'), the same for playlists and
//                playlist_entries, and later zcmedia_watermarks (the
//                extension's)
//   LIB.zcmedia/ the store, named relative to LIB.db so the two move together
//
// So a migrated NEW.db is a library too, and a LIB.db is what a media server
// opens with the extension loaded.
//
// Thread-safety: every function is safe to call from any thread; two
// processes creating the same LIB.db at once both succeed with one file
// (the second finds the first's, see OpenOrCreateLibrary).
#pragma once

#include <string>

#include "zcmedia/status.h"

struct sqlite3;

namespace zcmedia::scan {

struct LibraryPaths {
  std::string db_path;    // LIB.db, as given
  std::string store_dir;  // its store; relative to the working directory when db_path is
};

// The store next to a new LIB.db: its name with the extension replaced by
// ".zcmedia" (lib.db -> lib.zcmedia; a file already named *.zcmedia gets
// *.zcmedia.store). The same naming as migrate's DefaultStorePath.
std::string DefaultStoreName(const std::string& db_path);

// Finds LIB.db's store: the store= argument of its media_files virtual table,
// read from sqlite_master without loading the extension (so it works on a
// file whose store is missing or damaged), resolved against LIB.db's folder
// when relative, as the extension resolves it (docs/sql.md).
// Errors name the file and say what to do:
//   NotFound         the file does not exist
//   InvalidArgument  not a SQLite file; no media_files table, or one that is
//                    an ordinary table (a legacy database: "run zcmedia
//                    migrate first") or another module's virtual table
//   IOError          SQLite could not read it
// Opens LIB.db read-only and writes nothing.
Status LocateLibrary(const std::string& db_path, LibraryPaths* out);

// LocateLibrary when db_path exists. Otherwise creates LIB.db: the three
// virtual tables over the store DefaultStoreName(db_path) (named relative,
// next to it), database_metadata with schema_version '2', and the store
// itself (an existing store of that name is kept, its records becoming the
// library's). The file is written as a temporary in the same folder, synced,
// renamed into place without replacing anything, and the folder synced, so
// a crash leaves either no LIB.db or a complete one (at worst a hidden
// temporary ".LIB.db.<pid>.creating", removed by the next creation). When
// another process creates LIB.db meanwhile, its file is kept and located.
// *created says whether this call made the file. The folder must exist:
// a missing one is an error (NotFound) naming it.
Status OpenOrCreateLibrary(const std::string& db_path, LibraryPaths* out, bool* created);

// For the commands that take either a store directory or a LIB.db (stats,
// check, compact): a directory is returned as it is (whether it holds a
// store is the command's to find out), a file is located (LocateLibrary),
// a missing path is NotFound.
Status ResolveStoreArgument(const std::string& arg, std::string* store_dir);

// Opens LIB.db (which must exist: never creates it) on a new connection with
// the zcmedia extension registered (zcmedia_register) and extended result
// codes on. read_only opens it SQLITE_OPEN_READONLY (the virtual tables then
// refuse writes too). On success the caller owns *db (sqlite3_close); on
// failure *db is null.
Status OpenLibraryDatabase(const std::string& db_path, bool read_only, sqlite3** db);

}  // namespace zcmedia::scan
