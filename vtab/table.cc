#include "table.h"

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

void ResultText(sqlite3_context* ctx, std::string_view text, bool static_text) {
  // A null data pointer would make the value NULL, not ''.
  const char* data = text.data() != nullptr ? text.data() : "";
  sqlite3_result_text(ctx, data, static_cast<int>(text.size()), static_text ? SQLITE_STATIC : SQLITE_TRANSIENT);
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
