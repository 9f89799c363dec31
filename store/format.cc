// File names of the store (format.h); docs/format.md lists them.
#include "format.h"

#include <cstdio>

namespace zcmedia {

std::string format::SegmentFileName(uint32_t number) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "seg-%06u.zcs", number);
  return buf;
}

const char* format::RunKindName(uint32_t kind) {
  switch (kind) {
    case kIdIndex: return "id";
    case kPathIndex: return "path";
    case kDirIndex: return "dir";
    case kCategoryIndex: return "cat";
    case kPlaylistIndex: return "pl";
    case kTreeIndex: return "tree";
  }
  return "unknown";
}

std::string format::RunFileName(uint32_t kind, uint32_t number) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "idx-%s-%06u.zcr", RunKindName(kind), number);
  return buf;
}

bool format::ParseSegmentFileName(const std::string& name, uint32_t* number) {
  unsigned n = 0;
  char tail[8] = {0};
  if (std::sscanf(name.c_str(), "seg-%6u.%4s", &n, tail) != 2 || std::string(tail) != "zcs") return false;
  if (name != SegmentFileName(n)) return false;
  *number = n;
  return true;
}

bool format::ParseRunFileName(const std::string& name, uint32_t* kind, uint32_t* number) {
  for (uint32_t k = 0; k < kRunKinds; ++k) {
    const std::string prefix = std::string("idx-") + RunKindName(k) + "-";
    if (name.rfind(prefix, 0) != 0) continue;
    unsigned n = 0;
    if (std::sscanf(name.c_str() + prefix.size(), "%6u", &n) != 1) return false;
    if (name != RunFileName(k, n)) return false;
    *kind = k;
    *number = n;
    return true;
  }
  return false;
}

}  // namespace zcmedia
