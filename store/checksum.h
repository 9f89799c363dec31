// Checksums and hashes: XXH3 (libxxhash) everywhere. One place so the
// algorithm named in docs/format.md is the one used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <xxhash.h>

namespace zcmedia {

inline uint64_t Checksum64(const void* data, size_t n) { return XXH3_64bits(data, n); }
inline uint64_t Checksum64(const void* data, size_t n, uint64_t seed) {
  return XXH3_64bits_withSeed(data, n, seed);
}
// Key of the path and directory indexes: never 0 (0 is not special on disk,
// but keeping it free costs nothing and helps debugging).
inline uint64_t PathHash(std::string_view s) {
  uint64_t h = XXH3_64bits(s.data(), s.size());
  return h == 0 ? 1 : h;
}

}  // namespace zcmedia
