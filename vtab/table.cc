#include "table.h"

#include <cstring>

#include "values.h"

namespace zcmedia::vtab {

int SqliteCode(const Status& s) {
  if (s.ok()) return SQLITE_OK;
  if (s.IsConstraint()) return SQLITE_CONSTRAINT;
  if (s.IsBusy()) return SQLITE_BUSY;
  if (s.IsReadOnly()) return SQLITE_READONLY;
  if (s.IsCorruption()) return SQLITE_CORRUPT;
  if (s.IsIOError()) return SQLITE_IOERR;
  return SQLITE_ERROR;
}

int Table::Fail(int code, const std::string& message) {
  sqlite3_free(zErrMsg);
  zErrMsg = sqlite3_mprintf("%s", message.c_str());
  return code;
}

int Table::Fail(const Status& s) {
  if (s.ok()) return SQLITE_OK;
  return Fail(SqliteCode(s), s.message());
}

int Table::FailWrite(const Status& s) {
  if (s.ok()) return SQLITE_OK;
  if (!s.IsConstraint()) return Fail(s);
  const std::string& m = s.message();
  static const std::string kUnique = "UNIQUE constraint failed: ";
  if (m.rfind(kUnique, 0) == 0) {
    // "UNIQUE constraint failed: media_files.path (...)": the columns, each
    // with this table's name.
    std::string columns = m.substr(kUnique.size());
    columns = columns.substr(0, columns.find(" ("));
    std::string out = kUnique;
    size_t pos = 0;
    while (pos < columns.size()) {
      size_t comma = columns.find(", ", pos);
      if (comma == std::string::npos) comma = columns.size();
      std::string term = columns.substr(pos, comma - pos);
      const size_t dot = term.find('.');
      if (pos > 0) out += ", ";
      out += name_ + "." + (dot == std::string::npos ? term : term.substr(dot + 1));
      pos = comma + 2;
    }
    const bool key = columns.size() > 3 && columns.compare(columns.size() - 3, 3, ".id") == 0;
    return Fail(key ? SQLITE_CONSTRAINT_PRIMARYKEY : SQLITE_CONSTRAINT_UNIQUE, out);
  }
  if (m.rfind("FOREIGN KEY constraint failed", 0) == 0) {
    // A foreign key failure aborts the statement whatever its conflict
    // clause, in SQLite; on a virtual table SQLite would apply the clause to
    // any CONSTRAINT code (ignore it, end the transaction): under a clause
    // other than ABORT, an error it does not resolve, with SQLite's message.
    const bool abort = sqlite3_vtab_on_conflict(db_) == SQLITE_ABORT;
    return Fail(abort ? SQLITE_CONSTRAINT_FOREIGNKEY : SQLITE_ERROR, "FOREIGN KEY constraint failed");
  }
  return Fail(SQLITE_CONSTRAINT, m);
}

int Table::RowId(sqlite3_value* id_column, sqlite3_value* rowid, std::optional<int64_t>* id) {
  id->reset();
  for (sqlite3_value* v : {id_column, rowid}) {
    if (v == nullptr || sqlite3_value_type(v) == SQLITE_NULL) continue;
    const std::optional<int64_t> i = AsExactInteger(v);
    if (!i) return Fail(SQLITE_MISMATCH, "datatype mismatch: " + name_ + ".id must be an integer");
    if (*id && **id != *i) return Fail(SQLITE_MISMATCH, "datatype mismatch: " + name_ + ".id and rowid differ");
    *id = i;
  }
  return SQLITE_OK;
}

Status Table::WriteSnapshot(std::shared_ptr<const Snapshot>* snapshot) {
  bool committed = false;
  return session_->ReadSnapshot(snapshot, &committed);
}

int Table::ConsumeIgnoredInsertId(IdSequence sequence, std::optional<int64_t> given, int rc) {
  // SQLite's AUTOINCREMENT takes the new row's id before the constraint
  // checks: an INSERT OR IGNORE that is ignored still moves the sequence
  // past the id it would have had. The same here, so that ids agree.
  if ((rc & 0xff) != SQLITE_CONSTRAINT || sqlite3_vtab_on_conflict(db_) != SQLITE_IGNORE) return rc;
  int64_t id = given.value_or(0);
  if (id == 0) {
    std::shared_ptr<const Snapshot> snap;
    if (Status s = WriteSnapshot(&snap); !s.ok()) return Fail(s);
    switch (sequence) {
      case IdSequence::kMediaFiles: id = snap->next_id(); break;
      case IdSequence::kPlaylists: id = snap->next_playlist_id(); break;
      case IdSequence::kPlaylistEntries: id = snap->next_playlist_entry_id(); break;
    }
  }
  if (id <= 0 || id == INT64_MAX) return rc;
  WriteBatch raise;
  switch (sequence) {
    case IdSequence::kMediaFiles: raise.RaiseNextId(id + 1); break;
    case IdSequence::kPlaylists: raise.RaiseNextPlaylistId(id + 1); break;
    case IdSequence::kPlaylistEntries: raise.RaiseNextPlaylistEntryId(id + 1); break;
  }
  if (Status s = session_->Write(raise); !s.ok()) return Fail(s);
  return rc;
}

bool RowReader::CheckNull(int column, bool not_null) {
  if (sqlite3_value_type(columns_[column]) != SQLITE_NULL) return false;
  if (not_null && rc_ == SQLITE_OK)
    rc_ = table_->Fail(SQLITE_CONSTRAINT_NOTNULL,
                       "NOT NULL constraint failed: " + table_->name() + "." + names_[column]);
  return true;
}

std::optional<std::string_view> RowReader::Text(int column, bool not_null) {
  if (CheckNull(column, not_null)) return std::nullopt;
  sqlite3_value* v = columns_[column];
  if (sqlite3_value_type(v) == SQLITE_BLOB) {
    if (rc_ == SQLITE_OK)
      rc_ = table_->Fail(SQLITE_MISMATCH, "datatype mismatch: " + table_->name() + "." + names_[column] +
                                              " holds text; a blob cannot be stored in it (cast it to text)");
    return std::nullopt;
  }
  // Numbers become their text, as the column's TEXT affinity makes them.
  const unsigned char* text = sqlite3_value_text(v);
  if (text == nullptr) return std::string_view();
  return std::string_view(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_value_bytes(v)));
}

std::optional<int64_t> RowReader::Integer(int column, bool not_null) {
  if (CheckNull(column, not_null)) return std::nullopt;
  sqlite3_value* v = columns_[column];
  if (std::optional<int64_t> i = AsExactInteger(v)) return i;
  if (rc_ == SQLITE_OK) {
    const unsigned char* text = sqlite3_value_text(v);
    rc_ = table_->Fail(SQLITE_MISMATCH, "datatype mismatch: " + table_->name() + "." + names_[column] +
                                            " holds integers; '" +
                                            std::string(text ? reinterpret_cast<const char*>(text) : "") +
                                            "' is not one");
  }
  return std::nullopt;
}

void ResultText(sqlite3_context* ctx, std::string_view text, bool static_text) {
  // A null data pointer would make the value NULL, not ''.
  const char* data = text.data() != nullptr ? text.data() : "";
  if (!static_text) {
    sqlite3_result_text(ctx, data, static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return;
  }
  // Length -1: SQLite takes strlen(data) and marks the value terminated (see
  // table.h). Only when strlen is exactly the text's length.
  const bool terminated = data[text.size()] == '\0' && std::memchr(data, '\0', text.size()) == nullptr;
  sqlite3_result_text(ctx, data, terminated ? -1 : static_cast<int>(text.size()), SQLITE_STATIC);
}

void ResultCommittedTextOfLength(sqlite3_context* ctx, std::string_view text) {
  sqlite3_result_text(ctx, text.data() != nullptr ? text.data() : "", static_cast<int>(text.size()), SQLITE_STATIC);
}

void ResultOptText(sqlite3_context* ctx, const std::optional<std::string_view>& text, bool static_text) {
  if (text) ResultText(ctx, *text, static_text);
  else sqlite3_result_null(ctx);
}

void ResultOptInt(sqlite3_context* ctx, const std::optional<int64_t>& value) {
  if (value) sqlite3_result_int64(ctx, *value);
  else sqlite3_result_null(ctx);
}

}  // namespace zcmedia::vtab
