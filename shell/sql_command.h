// `zcmedia sql LIB.db [SQL]`: SQL on a library with the zcmedia extension
// registered (statically linked: no .load needed).
//
//   with SQL            runs it (one statement or several separated by ';')
//   no SQL, a terminal  an interactive prompt (libedit; history in
//                       ~/.zcmedia_history; statements end at ';'; .help,
//                       .quit or Ctrl-D to leave)
//   no SQL, no terminal reads the SQL from stdin (zcmedia sql LIB.db < x.sql)
//
// Output (--format): table (aligned columns under a header, NULL as NULL,
// numbers right-aligned, blobs as x'hex', control characters escaped),
// csv (RFC 4180: a header line, CRLF, fields quoted when they hold a comma,
// quote, CR or LF; NULL as an empty field, blobs as hex; result sets of
// several statements one after another, separated by an empty line) or json
// (a statement's rows as an array of objects, column name -> value; integers
// and reals as numbers, NULL as null, text as strings (invalid UTF-8 as
// U+FFFD), blobs as strings of lower-case hex, non-finite reals as null;
// SQL of one statement prints that one array, SQL of several an array of
// them, one per statement, [] for statements without rows).
//
// Exit status: 0 done; 1 an SQL error (stops at the first failing statement
// and names its position: statement number, line and column) or a file that
// cannot be opened; 2 bad command line (including a LIB.db that does not
// exist: the command never creates one). At the interactive prompt errors
// are printed and the prompt goes on; the exit status is 0.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace zcmedia::shell {

enum class SqlFormat { kTable, kCsv, kJson };

struct SqlCommandOptions {
  std::string db_path;
  std::string sql;
  bool sql_given = false;  // an empty SQL argument is still SQL (it does nothing)
  std::string format = "table";
  bool read_only = false;  // SQLITE_OPEN_READONLY; writes to the virtual tables are refused too
};

// Adds the `sql` subcommand with its options and help to `app`; the parsed
// values land in *options, which must outlive the parse.
CLI::App* AddSqlCommand(CLI::App* app, SqlCommandOptions* options);

// Returns the process exit status (above).
int RunSql(const SqlCommandOptions& options);

}  // namespace zcmedia::shell
