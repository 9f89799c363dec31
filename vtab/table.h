// Table and Cursor: the C++ side of one virtual table of the zcmedia module
// (module.cc turns SQLite's C callbacks into calls on them, one place per
// callback, and keeps exceptions from crossing into SQLite).
//
// A Table is one `CREATE VIRTUAL TABLE ... USING zcmedia(store=..., kind=...)`
// in one connection; the kind decides the columns and plans
// (media_files_table.cc, playlists_table.cc, playlist_entries_table.cc).
#pragma once

#include <memory>
#include <optional>
#include <vector>
#include <string>
#include <string_view>

#include "session.h"
#include "sqlite_api.h"

namespace zcmedia::vtab {

class Cursor;

enum class TableKind { kMediaFiles, kPlaylists, kPlaylistEntries };

class Table : public sqlite3_vtab {
 public:
  Table(sqlite3* db, std::string schema, std::string name, std::shared_ptr<StoreSession> session)
      : db_(db), schema_(std::move(schema)), name_(std::move(name)), session_(std::move(session)) {
    pModule = nullptr;
    nRef = 0;
    zErrMsg = nullptr;
  }
  virtual ~Table() = default;

  // The CREATE TABLE statement sqlite3_declare_vtab gets.
  virtual const char* Declaration() const = 0;
  virtual int BestIndex(sqlite3_index_info* info) = 0;
  virtual std::unique_ptr<Cursor> NewCursor() = 0;
  // xUpdate's arguments as SQLite passes them (module.cc documents the cases).
  virtual int Update(int argc, sqlite3_value** argv, sqlite3_int64* rowid) = 0;

  // ---- Helpers of xUpdate (table.cc).
  enum class IdSequence { kMediaFiles, kPlaylists, kPlaylistEntries };
  // The id a written row names: its id column or its rowid (argv[1]); both
  // given must agree. nullopt when neither is given.
  int RowId(sqlite3_value* id_column, sqlite3_value* rowid, std::optional<int64_t>* id);
  // Returns `rc` (a refused INSERT's code), having done what SQLite's
  // AUTOINCREMENT does when the refusal is ignored (INSERT OR IGNORE): the
  // id the row took (`given`, else the next one) is used up.
  int ConsumeIgnoredInsertId(IdSequence sequence, std::optional<int64_t> given, int rc);
  // The snapshot xUpdate checks against: the connection's transaction.
  Status WriteSnapshot(std::shared_ptr<const Snapshot>* snapshot);

  // The rest of an INSERT or UPDATE once the row's values are read, the same
  // for the three tables: the write (insert; update; or, for a new id, remove
  // and insert -- refused while `referenced(old_id)` says rows name the old
  // id), under OR REPLACE a second try after `replace` has put the removals
  // of the conflicting rows and the write into a batch (never for a foreign
  // key failure, which SQLite does not resolve) after removing the rows
  // `conflicting(f, new id, updating id or 0, &ids)` names, the id an ignored
  // INSERT consumes, and the new row's id for last_insert_rowid().
  template <typename Fields>
  struct RowOps {
    void (*put)(WriteBatch&, const Fields&);
    void (*update)(WriteBatch&, int64_t, const Fields&);
    void (*remove)(WriteBatch&, int64_t);
  };
  template <typename Fields, typename Referenced, typename Conflicting>
  int WriteRow(bool insert, std::optional<int64_t> id, int64_t old_id, Fields f, IdSequence sequence,
               const RowOps<Fields>& ops, Referenced&& referenced, Conflicting&& conflicting, sqlite3_int64* rowid) {
    const int64_t new_id = insert ? id.value_or(0) : id.value_or(old_id);
    if (!insert && new_id != old_id) {
      bool is_referenced = false;
      if (Status s = referenced(old_id, &is_referenced); !s.ok()) return Fail(s);
      if (is_referenced) return Fail(SQLITE_CONSTRAINT_FOREIGNKEY, "FOREIGN KEY constraint failed");
    }
    auto add_write = [&](WriteBatch& batch) {
      if (insert) {
        f.id = new_id;
        ops.put(batch, f);
      } else if (new_id == old_id) {
        ops.update(batch, old_id, f);
      } else {
        ops.remove(batch, old_id);
        f.id = new_id;
        ops.put(batch, f);
      }
    };
    WriteBatch batch;
    add_write(batch);
    std::vector<int64_t> ids;
    Status s = session().Write(batch, &ids);
    if (s.IsConstraint() && sqlite3_vtab_on_conflict(db()) == SQLITE_REPLACE &&
        s.message().rfind("FOREIGN KEY", 0) != 0) {
      std::vector<int64_t> doomed;
      s = conflicting(f, new_id, insert ? 0 : old_id, &doomed);
      if (s.ok()) {
        WriteBatch retry;
        for (int64_t d : doomed) ops.remove(retry, d);
        add_write(retry);
        s = session().Write(retry, &ids);
      }
    }
    if (!s.ok()) {
      const int rc = FailWrite(s);
      return insert ? ConsumeIgnoredInsertId(sequence, id, rc) : rc;
    }
    if (insert) *rowid = !ids.empty() && ids.back() != 0 ? ids.back() : f.id;
    return SQLITE_OK;
  }

  sqlite3* db() const { return db_; }
  const std::string& name() const { return name_; }
  const std::string& schema() const { return schema_; }
  StoreSession& session() { return *session_; }

  // Sets zErrMsg (replacing any earlier message) and returns `code`.
  int Fail(int code, const std::string& message);
  // The SQLite code for `s` (SQLITE_OK when ok), with its message.
  int Fail(const Status& s);
  // The same for a refused write, in SQLite's words for the legacy table:
  // the store's "UNIQUE constraint failed: media_files.path ('/a/b' ...)"
  // becomes "UNIQUE constraint failed: <this table>.path" with
  // SQLITE_CONSTRAINT_UNIQUE (PRIMARYKEY for the id), a foreign key
  // "FOREIGN KEY constraint failed" with SQLITE_CONSTRAINT_FOREIGNKEY (with
  // SQLITE_ERROR under another conflict clause than ABORT, which must not
  // apply to it).
  int FailWrite(const Status& s);

 private:
  sqlite3* const db_;
  const std::string schema_;
  const std::string name_;
  const std::shared_ptr<StoreSession> session_;
};

// Reads the column values of an INSERT or UPDATE (argv[2..]) with the checks
// the legacy table makes: NOT NULL ("NOT NULL constraint failed: t.c",
// SQLITE_CONSTRAINT_NOTNULL) and the column's affinity -- text columns take
// numbers as their text; integer columns take integers, reals holding an
// integer and numeric text. What the store cannot hold (a blob anywhere,
// 'abc' or 1.5 in an integer column) is SQLITE_MISMATCH naming the column
// (docs/porting.md). The first failure wins; its message is on the table.
class RowReader {
 public:
  RowReader(Table* table, sqlite3_value** columns, const char* const* names)
      : table_(table), columns_(columns), names_(names) {}
  std::optional<std::string_view> Text(int column, bool not_null);
  std::optional<int64_t> Integer(int column, bool not_null);
  int rc() const { return rc_; }

 private:
  bool CheckNull(int column, bool not_null);
  Table* table_;
  sqlite3_value** columns_;
  const char* const* names_;
  int rc_ = SQLITE_OK;
};

class Cursor : public sqlite3_vtab_cursor {
 public:
  explicit Cursor(Table* table) {
    pVtab = table;
    table->session().CursorOpened();
  }
  virtual ~Cursor() { table()->session().CursorClosed(); }
  virtual int Filter(int idx_num, const char* idx_str, int argc, sqlite3_value** argv) = 0;
  virtual int Next() = 0;
  virtual bool Eof() const = 0;
  virtual int Column(sqlite3_context* ctx, int column) = 0;
  virtual int Rowid(sqlite3_int64* rowid) = 0;

  Table* table() const { return static_cast<Table*>(pVtab); }
};

// SQLite's code for a store status (Constraint -> SQLITE_CONSTRAINT, Busy ->
// SQLITE_BUSY, ReadOnly -> SQLITE_READONLY, Corruption -> SQLITE_CORRUPT,
// IOError -> SQLITE_IOERR, the rest SQLITE_ERROR).
int SqliteCode(const Status& s);

// Result helpers for xColumn. `static_text`: the bytes are committed and
// stay mapped while SQLite may hold them (session.h), so SQLite may keep
// the pointer (SQLITE_STATIC); otherwise it copies (SQLITE_TRANSIENT).
// Static text must lie inside a record, so that the byte after it can be
// read: a whole FlatBuffers string (the format ends each with a NUL), a
// part of one (a path's parent or file name), or a C string literal. When
// that byte is a NUL and none is inside, the text is handed over as
// NUL-terminated, which SQLite can use in place for sqlite3_value_text and
// sqlite3_column_text; text handed with a length is copied (malloc, copy,
// free) by each such call to add the terminator, and column_text is what
// most applications (Python's sqlite3 included) read text with.
void ResultText(sqlite3_context* ctx, std::string_view text, bool static_text);
void ResultOptText(sqlite3_context* ctx, const std::optional<std::string_view>& text, bool static_text);
// Committed text handed over with its length only (SQLITE_STATIC, never
// marked terminated): for a value SQLite compares and counts on many rows
// but seldom reads as C text, such as a category's name repeated on each of
// its tracks by the groups plan (a strlen per row would cost more than the
// one copy column_text makes of the group's result row).
void ResultCommittedTextOfLength(sqlite3_context* ctx, std::string_view text);
void ResultOptInt(sqlite3_context* ctx, const std::optional<int64_t>& value);

}  // namespace zcmedia::vtab
