// UTF-8 basics used by every text stage: validation (SIMD, via simdjson), repair of invalid
// sequences to U+FFFD, code point decoding and counting. Repair follows the Unicode "maximal
// subpart" practice (as WHATWG and ICU do): each maximal invalid subsequence becomes one U+FFFD.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nlm::text {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

bool utf8_valid(std::string_view s);
// Copies `in` to `out` (replacing its contents) with invalid sequences replaced by U+FFFD;
// returns the number of replacements made.
size_t utf8_repair(std::string_view in, std::string& out);
// Repairs in place when needed; returns replacements (0 and untouched when already valid).
size_t utf8_repair_inplace(std::string& s);
// Number of code points in valid UTF-8 (counts non-continuation bytes).
size_t utf8_length(std::string_view s);
void utf8_append(std::string& out, uint32_t cp);

// Decodes one code point at s[i] of valid UTF-8 and advances i.
inline uint32_t utf8_next(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  int n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
  uint32_t cp = c & (0x3F >> n);
  for (int k = 1; k <= n && i + k < s.size(); ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n + 1;
  return cp;
}

}  // namespace nlm::text
