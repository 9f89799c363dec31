// Checksums and hashes: XXH3 (libxxhash) everywhere. One place so the
// algorithm named in docs/format.md is the one used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

// The implementation from libxxhash-dev's header, inlined: most inputs are
// short (a path, a record of a few hundred bytes), where the call into the
// shared library and its length dispatch cost as much as the hashing.
// XXH3 is one algorithm whatever the build: the values are the library's.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace zcmedia {

inline uint64_t Checksum64(const void* data, size_t n) { return XXH3_64bits(data, n); }
inline uint64_t Checksum64(const void* data, size_t n, uint64_t seed) {
  return XXH3_64bits_withSeed(data, n, seed);
}
// The checksum of a followed by b, as if they were one buffer. (The state
// lives on the stack: XXH_STATIC_LINKING_ONLY exposes its layout, which
// matches the library because both come from one Debian package.)
inline uint64_t Checksum64(const void* a, size_t na, const void* b, size_t nb) {
  if (nb == 0) return Checksum64(a, na);
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, a, na);
  XXH3_64bits_update(&state, b, nb);
  return XXH3_64bits_digest(&state);
}
// Key of the path and directory indexes: never 0 (0 is not special on disk,
// but keeping it free costs nothing and helps debugging).
inline uint64_t PathHash(std::string_view s) {
  uint64_t h = XXH3_64bits(s.data(), s.size());
  return h == 0 ? 1 : h;
}

}  // namespace zcmedia
