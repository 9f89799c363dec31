// Path helpers the scanner and the watcher share. Paths here are absolute,
// lexically normal strings without a trailing '/' (except "/" itself), as
// NormaliseRoots makes them.
#pragma once

#include <string>
#include <string_view>

namespace zcmedia::scan {

// `dir` + "/" + `name` ("/" + name for the root folder).
inline std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string path;
  path.reserve(dir.size() + 1 + name.size());
  path.append(dir);
  if (path.empty() || path.back() != '/') path.push_back('/');
  path.append(name);
  return path;
}

// Whether `path` lies strictly below `folder`.
inline bool IsInside(std::string_view path, std::string_view folder) {
  if (folder == "/") return path.size() > 1 && path[0] == '/';
  return path.size() > folder.size() && path.compare(0, folder.size(), folder) == 0 && path[folder.size()] == '/';
}

}  // namespace zcmedia::scan
