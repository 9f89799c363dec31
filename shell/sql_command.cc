#include "sql_command.h"

#include <CLI/CLI.hpp>
#include <editline/readline.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "json_string.h"
#include "library.h"

namespace zcmedia::shell {
namespace {

constexpr int kExitSqlError = 1;
constexpr int kExitUsage = 2;
// Rows the table format reads ahead to size its columns; later rows are
// printed with those widths (wider values push their row out), so a large
// result never sits in memory.
constexpr size_t kTableLookahead = 1000;

// ----------------------------------------------------------------- values

// Length in characters (UTF-8 code points) for column alignment.
size_t DisplayWidth(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Hex(const void* data, int n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(static_cast<size_t>(n) * 2);
  const auto* p = static_cast<const unsigned char*>(data);
  for (int i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

std::string ColumnText(sqlite3_stmt* stmt, int i) {
  const unsigned char* text = sqlite3_column_text(stmt, i);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt, i));
}

// A value for the table format: one line whatever it holds.
std::string TableCell(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_NULL:
      return "NULL";
    case SQLITE_BLOB:
      return "x'" + Hex(sqlite3_column_blob(stmt, i), sqlite3_column_bytes(stmt, i)) + "'";
    default:
      break;
  }
  std::string out;
  for (char c : ColumnText(stmt, i)) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

std::string CsvCell(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_NULL: return "";
    case SQLITE_BLOB: return Hex(sqlite3_column_blob(stmt, i), sqlite3_column_bytes(stmt, i));
    default: return CsvField(ColumnText(stmt, i));
  }
}

std::string JsonValue(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_NULL: return "null";
    case SQLITE_INTEGER: return std::to_string(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT: {
      const double d = sqlite3_column_double(stmt, i);
      if (!std::isfinite(d)) return "null";
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.17g", d);
      return buf;
    }
    case SQLITE_BLOB: return "\"" + Hex(sqlite3_column_blob(stmt, i), sqlite3_column_bytes(stmt, i)) + "\"";
    default: return JsonString(ColumnText(stmt, i));
  }
}

// ----------------------------------------------------------------- output

// Prints one statement's result set.
class ResultPrinter {
 public:
  ResultPrinter(SqlFormat format, FILE* out) : format_(format), out_(out) {}

  // Before the first row (or none) of a statement with result columns.
  void Begin(sqlite3_stmt* stmt) {
    columns_ = sqlite3_column_count(stmt);
    names_.clear();
    for (int i = 0; i < columns_; ++i) {
      const char* name = sqlite3_column_name(stmt, i);
      names_.push_back(name != nullptr ? name : "");
    }
    rows_ = 0;
    pending_.clear();
    widths_.clear();
    header_printed_ = false;
    switch (format_) {
      case SqlFormat::kCsv: {
        if (result_sets_ > 0) std::fputs("\r\n", out_);
        std::string line;
        for (int i = 0; i < columns_; ++i) line += (i ? "," : "") + CsvField(names_[i]);
        std::fprintf(out_, "%s\r\n", line.c_str());
        break;
      }
      case SqlFormat::kJson:
        std::fputc('[', out_);
        break;
      case SqlFormat::kTable:
        if (result_sets_ > 0) std::fputc('\n', out_);
        break;
    }
    ++result_sets_;
  }

  void Row(sqlite3_stmt* stmt) {
    switch (format_) {
      case SqlFormat::kCsv: {
        std::string line;
        for (int i = 0; i < columns_; ++i) line += (i ? "," : "") + CsvCell(stmt, i);
        std::fprintf(out_, "%s\r\n", line.c_str());
        break;
      }
      case SqlFormat::kJson: {
        std::string object = rows_ ? ",\n{" : "\n{";
        for (int i = 0; i < columns_; ++i)
          object += (i ? ", " : "") + JsonString(names_[i]) + ": " + JsonValue(stmt, i);
        object += "}";
        std::fputs(object.c_str(), out_);
        break;
      }
      case SqlFormat::kTable: {
        TableRow row;
        for (int i = 0; i < columns_; ++i) {
          const int type = sqlite3_column_type(stmt, i);
          row.cells.push_back(TableCell(stmt, i));
          row.right.push_back(type == SQLITE_INTEGER || type == SQLITE_FLOAT);
        }
        if (header_printed_) {
          PrintTableRow(row);
        } else {
          pending_.push_back(std::move(row));
          if (pending_.size() >= kTableLookahead) FlushTable();
        }
        break;
      }
    }
    ++rows_;
  }

  void End() {
    switch (format_) {
      case SqlFormat::kJson:
        std::fputs(rows_ ? "\n]" : "]", out_);
        break;
      case SqlFormat::kTable:
        FlushTable();
        break;
      case SqlFormat::kCsv:
        break;
    }
  }

 private:
  struct TableRow {
    std::vector<std::string> cells;
    std::vector<bool> right;  // numbers are right-aligned
  };

  void FlushTable() {
    if (header_printed_) return;
    widths_.assign(columns_, 0);
    for (int i = 0; i < columns_; ++i) widths_[i] = DisplayWidth(names_[i]);
    for (const TableRow& row : pending_)
      for (int i = 0; i < columns_; ++i) widths_[i] = std::max(widths_[i], DisplayWidth(row.cells[i]));
    TableRow header, rule;
    for (int i = 0; i < columns_; ++i) {
      header.cells.push_back(names_[i]);
      rule.cells.push_back(std::string(widths_[i], '-'));
      header.right.push_back(false);
      rule.right.push_back(false);
    }
    PrintTableRow(header);
    PrintTableRow(rule);
    header_printed_ = true;
    for (const TableRow& row : pending_) PrintTableRow(row);
    pending_.clear();
  }

  void PrintTableRow(const TableRow& row) {
    std::string line;
    for (int i = 0; i < columns_; ++i) {
      const size_t width = DisplayWidth(row.cells[i]);
      const size_t pad = widths_[i] > width ? widths_[i] - width : 0;
      if (i > 0) line += "  ";
      if (row.right[i]) line.append(pad, ' ');
      line += row.cells[i];
      if (!row.right[i] && i + 1 < columns_) line.append(pad, ' ');
    }
    std::fprintf(out_, "%s\n", line.c_str());
  }

  const SqlFormat format_;
  FILE* const out_;
  int columns_ = 0;
  std::vector<std::string> names_;
  uint64_t rows_ = 0;
  int result_sets_ = 0;
  std::vector<TableRow> pending_;
  std::vector<size_t> widths_;
  bool header_printed_ = false;
};

// ------------------------------------------------------------------- SQL

// True when `text` holds no statement: only white space, comments and ';'.
bool HoldsNoStatement(const char* text) {
  const char* p = text;
  while (*p != '\0') {
    if (std::isspace(static_cast<unsigned char>(*p)) || *p == ';') {
      ++p;
    } else if (p[0] == '-' && p[1] == '-') {
      while (*p != '\0' && *p != '\n') ++p;
    } else if (p[0] == '/' && p[1] == '*') {
      const char* end = std::strstr(p + 2, "*/");
      if (end == nullptr) return true;  // an unterminated comment is a comment to its end
      p = end + 2;
    } else {
      return false;
    }
  }
  return true;
}

// Line and column (1-based) of byte `offset` of `text`.
void Position(const std::string& text, size_t offset, int* line, int* column) {
  *line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++*line;
      line_start = i + 1;
    }
  }
  *column = static_cast<int>(DisplayWidth(text.substr(line_start, offset - line_start))) + 1;
}

sqlite3* volatile g_running_db = nullptr;  // for SIGINT: interrupt the statement, keep the prompt

void InterruptStatement(int) {
  if (sqlite3* db = g_running_db) sqlite3_interrupt(db);
}

class SqlRunner {
 public:
  SqlRunner(sqlite3* db, SqlFormat format, bool read_only) : db_(db), format_(format), read_only_(read_only) {}

  void set_format(SqlFormat format) { format_ = format; }

  // Runs every statement of `text`, printing results; stops at the first
  // error, which goes to stderr with its position. False on error.
  bool Run(const std::string& text) {
    ResultPrinter printer(format_, stdout);
    const char* const begin = text.c_str();
    const char* next = begin;
    int number = 0;
    bool nested = false;  // json: several statements, an array of arrays
    bool ok = true;
    while (ok && !HoldsNoStatement(next)) {
      const char* statement_start = next;
      while (std::isspace(static_cast<unsigned char>(*statement_start))) ++statement_start;
      sqlite3_stmt* stmt = nullptr;
      const char* tail = nullptr;
      const int rc = sqlite3_prepare_v2(db_, next, -1, &stmt, &tail);
      if (rc != SQLITE_OK) {
        // The offending token's offset in what was prepared, when SQLite knows it.
        const int offset = sqlite3_error_offset(db_);
        Report(text, number + 1,
               offset >= 0 ? static_cast<size_t>(next - begin) + offset : static_cast<size_t>(statement_start - begin));
        ok = false;
        break;
      }
      next = tail;
      if (stmt == nullptr) continue;  // a comment or an empty statement
      ++number;
      if (format_ == SqlFormat::kJson && number == 1) {
        nested = !HoldsNoStatement(tail);
        if (nested) std::fputc('[', stdout);
      }
      if (format_ == SqlFormat::kJson && nested && number > 1) std::fputs(",\n", stdout);
      ok = Step(stmt, &printer, text, number, static_cast<size_t>(statement_start - begin));
      sqlite3_finalize(stmt);
    }
    // json: what ran stays one valid JSON text, even after an error.
    if (format_ == SqlFormat::kJson) {
      if (number == 0 && ok) std::fputs("[]", stdout);
      if (nested) std::fputc(']', stdout);
      if (number > 0 || ok) std::fputc('\n', stdout);
    }
    std::fflush(stdout);
    return ok;
  }

 private:
  bool Step(sqlite3_stmt* stmt, ResultPrinter* printer, const std::string& text, int number, size_t offset) {
    const bool rows = sqlite3_column_count(stmt) > 0;
    // Statements without result columns print nothing, except in json,
    // where each statement has its array.
    if (rows || format_ == SqlFormat::kJson) printer->Begin(stmt);
    int rc;
    g_running_db = db_;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) printer->Row(stmt);
    g_running_db = nullptr;
    if (rows || format_ == SqlFormat::kJson) printer->End();
    if (rc == SQLITE_DONE) return true;
    Report(text, number, offset);
    return false;
  }

  void Report(const std::string& text, int number, size_t offset) {
    std::fflush(stdout);
    int line, column;
    Position(text, offset, &line, &column);
    std::string message = sqlite3_errmsg(db_);
    if (read_only_ && (sqlite3_errcode(db_) == SQLITE_AUTH || sqlite3_errcode(db_) == SQLITE_READONLY))
      message += " (opened --read-only)";
    std::fprintf(stderr, "zcmedia sql: error in statement %d (line %d, column %d): %s\n", number, line, column,
                 message.c_str());
  }

  sqlite3* const db_;
  SqlFormat format_;
  const bool read_only_;
};

bool ParseFormat(const std::string& name, SqlFormat* format) {
  if (name == "table") *format = SqlFormat::kTable;
  else if (name == "csv") *format = SqlFormat::kCsv;
  else if (name == "json") *format = SqlFormat::kJson;
  else return false;
  return true;
}

constexpr const char* kPromptHelp =
    "Statements end at ';' and may span lines. Commands:\n"
    "  .tables               the tables and views\n"
    "  .schema [TABLE]       CREATE statements\n"
    "  .format table|csv|json\n"
    "  .help                 this text\n"
    "  .quit, .exit, Ctrl-D  leave\n"
    "Ctrl-C interrupts a running statement (at the prompt it leaves).\n";

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

int RunInteractive(SqlRunner* runner, sqlite3* db) {
  std::string history;
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0')
    history = std::string(home) + "/.zcmedia_history";
  using_history();
  stifle_history(2000);
  if (!history.empty()) read_history(history.c_str());
  std::printf("zcmedia sql on %s (SQLite %s). Statements end at ';'; .help for commands, .quit or Ctrl-D to leave.\n",
              sqlite3_db_filename(db, "main"), sqlite3_libversion());
  struct sigaction action = {}, previous = {};
  action.sa_handler = InterruptStatement;
  sigemptyset(&action.sa_mask);
  std::string buffer;
  while (true) {
    char* raw = readline(buffer.empty() ? "zcmedia> " : "   ...> ");
    if (raw == nullptr) {  // Ctrl-D
      std::printf("\n");
      break;
    }
    const std::string line = raw;
    std::free(raw);
    if (buffer.empty()) {
      const std::string command = Trim(line);
      if (command.empty()) continue;
      if (command[0] == '.') {
        add_history(command.c_str());
        std::vector<std::string> words;
        std::istringstream in(command);
        for (std::string w; in >> w;) words.push_back(w);
        if (words[0] == ".quit" || words[0] == ".exit") break;
        if (words[0] == ".help") {
          std::fputs(kPromptHelp, stdout);
        } else if (words[0] == ".tables") {
          runner->Run("SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE "
                      "'sqlite_%' ORDER BY name");
        } else if (words[0] == ".schema") {
          std::string sql = "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL";
          if (words.size() > 1) {
            char* quoted = sqlite3_mprintf("%Q", words[1].c_str());
            sql += std::string(" AND tbl_name = ") + quoted;
            sqlite3_free(quoted);
          }
          sqlite3_stmt* stmt = nullptr;
          if (sqlite3_prepare_v2(db, (sql + " ORDER BY rowid").c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
            while (sqlite3_step(stmt) == SQLITE_ROW) std::printf("%s;\n", sqlite3_column_text(stmt, 0));
          }
          sqlite3_finalize(stmt);
        } else if (words[0] == ".format" || words[0] == ".mode") {
          SqlFormat format;
          if (words.size() != 2 || !ParseFormat(words[1], &format))
            std::fprintf(stderr, "usage: .format table|csv|json\n");
          else
            runner->set_format(format);
        } else {
          std::fprintf(stderr, "unknown command %s: .help lists them\n", words[0].c_str());
        }
        continue;
      }
    }
    buffer += line;
    buffer += '\n';
    if (!sqlite3_complete(buffer.c_str())) continue;
    const std::string entered = Trim(buffer);
    add_history(entered.c_str());
    sigaction(SIGINT, &action, &previous);
    runner->Run(buffer);
    sigaction(SIGINT, &previous, nullptr);
    buffer.clear();
  }
  if (!history.empty()) write_history(history.c_str());
  return 0;
}

}  // namespace

CLI::App* AddSqlCommand(CLI::App* app, SqlCommandOptions* options) {
  CLI::App* cmd = app->add_subcommand(
      "sql", "Run SQL on a library (LIB.db) with the zcmedia extension; without SQL, a prompt on a terminal or "
             "the SQL from stdin");
  cmd->add_option("db", options->db_path, "The library (LIB.db), or any SQLite file (never created)")->required();
  cmd->add_option("sql", options->sql, "SQL: one statement, or several separated by ';'")
      ->each([options](const std::string&) { options->sql_given = true; });
  cmd->add_option("-f,--format", options->format, "Output format")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  cmd->add_flag("--read-only", options->read_only, "Open LIB.db read-only and refuse every write");
  cmd->footer(
      "Examples:\n"
      "  zcmedia sql lib.db \"SELECT artist, count(*) FROM media_files GROUP BY artist ORDER BY 2 DESC LIMIT 10\"\n"
      "  zcmedia sql lib.db --format csv \"SELECT path, size FROM media_files\" > files.csv\n"
      "  zcmedia sql lib.db --format json \"SELECT * FROM playlists; SELECT count(*) AS n FROM playlist_entries\"\n"
      "  zcmedia sql lib.db < fix-genres.sql\n"
      "  zcmedia sql --read-only lib.db          (an interactive prompt on a terminal)\n"
      "\n"
      "table: aligned columns, NULL as NULL, blobs as x'hex'. csv: RFC 4180 (CRLF; NULL is an empty field;\n"
      "blobs as hex). json: one array of objects for one statement, an array of such arrays for several;\n"
      "integers and reals as numbers, NULL as null, blobs as hex strings.\n"
      "\n"
      "Exit status: 0 done; 1 SQL error (stops at the first one, naming its statement, line and column) or\n"
      "a file that cannot be opened; 2 bad command line or no such LIB.db.");
  return cmd;
}

int RunSql(const SqlCommandOptions& options) {
  SqlFormat format;
  if (!ParseFormat(options.format, &format)) {
    std::fprintf(stderr, "zcmedia sql: unknown format '%s' (table, csv, json)\n", options.format.c_str());
    return kExitUsage;
  }
  // A wrong path is a command-line mistake; SQLite would create the file.
  struct stat st;
  if (stat(options.db_path.c_str(), &st) != 0) {
    std::fprintf(stderr, "zcmedia sql: %s: no such file (zcmedia sql never creates one)\n", options.db_path.c_str());
    return kExitUsage;
  }
  if (S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "zcmedia sql: %s is a directory: give the library file (LIB.db)\n", options.db_path.c_str());
    return kExitUsage;
  }
  sqlite3* db = nullptr;
  Status s = scan::OpenLibraryDatabase(options.db_path, options.read_only, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "zcmedia sql: %s\n", s.ToString().c_str());
    return kExitSqlError;
  }
  // A scan or a server may be writing: wait for its locks a while.
  sqlite3_busy_timeout(db, 5000);
  SqlRunner runner(db, format, options.read_only);
  int status = 0;
  if (options.sql_given) {
    status = runner.Run(options.sql) ? 0 : kExitSqlError;
  } else if (isatty(STDIN_FILENO)) {
    status = RunInteractive(&runner, db);
  } else {
    const std::string script((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    status = runner.Run(script) ? 0 : kExitSqlError;
  }
  if (sqlite3_close(db) != SQLITE_OK) {
    std::fprintf(stderr, "zcmedia sql: closing %s: %s\n", options.db_path.c_str(), sqlite3_errmsg(db));
    if (status == 0) status = kExitSqlError;
  }
  return status;
}

}  // namespace zcmedia::shell
