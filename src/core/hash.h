// Fast non-cryptographic hashing (xxHash XXH3) for dedup keys, manifests and file identity.
// Hashes are stable across runs and machines, so they can be stored in manifests.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace nlm {

struct Hash128 {
  uint64_t low = 0;
  uint64_t high = 0;
  bool operator==(const Hash128&) const = default;
  auto operator<=>(const Hash128&) const = default;
  std::string hex() const;  // 32 lowercase hex digits, high then low
};

uint64_t hash64(std::string_view data, uint64_t seed = 0);
Hash128 hash128(std::string_view data, uint64_t seed = 0);

// Incremental 128-bit hash for data that arrives in pieces (whole files, shards).
class Hasher128 {
 public:
  Hasher128();
  ~Hasher128();
  Hasher128(const Hasher128&) = delete;
  Hasher128& operator=(const Hasher128&) = delete;
  void update(std::string_view data);
  Hash128 digest() const;

 private:
  void* state_;
};

// XXH3-128 of a file's bytes, as hex; throws nlm::Error if it cannot be read.
std::string hash_file_hex(const std::string& path);

}  // namespace nlm
