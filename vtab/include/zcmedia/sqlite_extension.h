// The zcmedia SQLite extension: the store as virtual tables with the legacy
// media-server schema (docs/sql.md).
//
// Loadable: `.load /usr/lib/zcmedia` in the sqlite3 shell, or
// sqlite3_load_extension(db, "/usr/lib/zcmedia", nullptr, &err) from a
// program (the entry point sqlite3_zcmedia_init is found from the file name).
//
// Linked statically (libzcmedia_vtab.a, built with SQLITE_CORE): call
// zcmedia_register(db, &err) once per connection, or
// sqlite3_auto_extension((void (*)())zcmedia_register_auto) once per process.
//
// Either way the connection gets:
//   the module  zcmedia          CREATE VIRTUAL TABLE media_files USING
//                                zcmedia(store='DIR', kind='media_files')
//                                (kinds: media_files, playlists, playlist_entries)
//   the tables  zcmedia_stats    SELECT * FROM zcmedia_stats('DIR')
//               zcmedia_check    SELECT * FROM zcmedia_check('DIR')
#pragma once

struct sqlite3;

extern "C" {

// Registers everything on `db`. SQLITE_OK, or an error code with a message
// in *error_message (sqlite3_malloc'd; the caller frees it with sqlite3_free)
// when error_message is not null.
int zcmedia_register(sqlite3* db, char** error_message);

// The same with the signature sqlite3_auto_extension expects.
int zcmedia_register_auto(sqlite3* db, char** error_message, const void* unused_api);

}  // extern "C"
