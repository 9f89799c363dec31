// The arguments of `CREATE VIRTUAL TABLE t USING zcmedia(store='DIR',
// kind='media_files')` as the extension reads them, for programs that read
// a database's schema without loading the extension (the zcmedia command
// finds a LIB.db's store this way).
#pragma once

#include <string>
#include <string_view>

namespace zcmedia::vtab {

// One key or value of a module argument: surrounding blanks (space, tab,
// newline) dropped; 'x' or "x" unquoted with doubled quotes undone ('it''s'
// is it's); anything else as it is.
std::string UnquoteArgument(std::string_view text);

}  // namespace zcmedia::vtab
