#include "zcmedia/table_arguments.h"

namespace zcmedia::vtab {

std::string UnquoteArgument(std::string_view v) {
  const size_t start = v.find_first_not_of(" \t\n");
  if (start == std::string_view::npos) return "";
  const size_t end = v.find_last_not_of(" \t\n");
  v = v.substr(start, end - start + 1);
  if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front()) {
    const char q = v.front();
    std::string out;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      out.push_back(v[i]);
      if (v[i] == q && i + 2 < v.size() && v[i + 1] == q) ++i;
    }
    return out;
  }
  return std::string(v);
}

}  // namespace zcmedia::vtab
