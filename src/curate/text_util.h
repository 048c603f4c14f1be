// Small string helpers shared by the filters (trimming, prefix/suffix tests, substring counts,
// ASCII lower-casing). Header-only so the per-line loops inline.
#pragma once
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>

#include "text/utf8.h"

namespace nlm::curate {

inline bool is_space_byte(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space_byte(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space_byte(s.back())) s.remove_suffix(1);
  return s;
}
inline bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
inline bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}
inline bool starts_with_any(std::string_view s, std::initializer_list<std::string_view> ps) {
  for (auto p : ps)
    if (starts_with(s, p)) return true;
  return false;
}
inline uint64_t count_substr(std::string_view s, std::string_view needle) {
  uint64_t n = 0;
  for (size_t pos = s.find(needle); pos != std::string_view::npos; pos = s.find(needle, pos + needle.size()))
    ++n;
  return n;
}
// `text` cut to at most n bytes without splitting a UTF-8 sequence.
inline std::string_view utf8_prefix(std::string_view text, size_t n) {
  if (text.size() <= n) return text;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}
inline uint64_t utf8_chars(std::string_view s) { return text::utf8_length(s); }
// True when every byte is below 0x80 (eight bytes at a time).
inline bool is_ascii(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size(), i = 0;
  uint64_t acc = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    acc |= v;
  }
  for (; i < n; ++i) acc |= static_cast<unsigned char>(p[i]);
  return (acc & 0x8080808080808080ull) == 0;
}
inline void ascii_lower_inplace(std::string& s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
}
inline std::string ascii_lower(std::string_view s) {
  std::string r(s);
  ascii_lower_inplace(r);
  return r;
}
// True when `s` (trimmed) ends with one of `marks` (each a UTF-8 string).
template <class Container>
bool ends_with_any(std::string_view s, const Container& marks) {
  for (const auto& m : marks)
    if (ends_with(s, m)) return true;
  return false;
}

}  // namespace nlm::curate
