// splitmix64 (Steele, Lea & Flood 2014): a tiny, fast generator whose whole state is one uint64_t,
// so it serialises into checkpoints as a number and gives the same stream on every platform and
// standard library (unlike std::mt19937 + std::*_distribution). Used for weight init, data
// mixing and sampling.
#pragma once
#include <cstdint>

namespace nlm {

// Advances `state` and returns the next 64 random bits.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform double in [0, 1) with 53 random bits.
inline double uniform01(uint64_t& state) { return static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53; }

// Uniform double in the open interval (0, 1): the midpoints of the 2^53 cells, safe for log().
inline double uniform_open01(uint64_t& state) {
  return (static_cast<double>(splitmix64(state) >> 11) + 0.5) * 0x1.0p-53;
}

}  // namespace nlm
