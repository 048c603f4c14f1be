// xxHash wrappers. XXH_INLINE_ALL keeps the hot one-shot hashes inlinable in this unit.
// GCC 12 gives a false -Wmaybe-uninitialized inside its own AVX-512 intrinsics when inlining
// xxHash's AVX-512 path, so that warning is off for this file only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/hash.h"

#include <cerrno>
#include <cstdio>
#include <vector>

#include "core/error.h"

namespace nlm {

std::string Hash128::hex() const {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(high),
                static_cast<unsigned long long>(low));
  return buf;
}

uint64_t hash64(std::string_view data, uint64_t seed) {
  return XXH3_64bits_withSeed(data.data(), data.size(), seed);
}

Hash128 hash128(std::string_view data, uint64_t seed) {
  XXH128_hash_t h = XXH3_128bits_withSeed(data.data(), data.size(), seed);
  return {h.low64, h.high64};
}

Hasher128::Hasher128() : state_(XXH3_createState()) {
  XXH3_128bits_reset(static_cast<XXH3_state_t*>(state_));
}
Hasher128::~Hasher128() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }
void Hasher128::update(std::string_view data) {
  XXH3_128bits_update(static_cast<XXH3_state_t*>(state_), data.data(), data.size());
}
Hash128 Hasher128::digest() const {
  XXH128_hash_t h = XXH3_128bits_digest(static_cast<XXH3_state_t*>(state_));
  return {h.low64, h.high64};
}

std::string hash_file_hex(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) runtime_error("cannot open file to hash: " + errno_text(errno), path);
  Hasher128 h;
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) h.update({buf.data(), n});
  bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) runtime_error("read error while hashing", path);
  return h.digest().hex();
}

}  // namespace nlm
