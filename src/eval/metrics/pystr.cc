// Python str behaviours for the reference metrics (see pystr.h).
#include "eval/metrics/pystr.h"

#include <unicode/locid.h>
#include <unicode/unistr.h>

#include "text/utf8.h"

namespace nlm::eval::metrics {

std::u32string to_u32(std::string_view utf8) {
  std::string repaired;
  if (!text::utf8_valid(utf8)) {
    text::utf8_repair(utf8, repaired);
    utf8 = repaired;
  }
  std::u32string out;
  out.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) out.push_back(text::utf8_next(utf8, i));
  return out;
}

std::string to_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) text::utf8_append(out, c);
  return out;
}

bool py_isspace(char32_t c) {
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  switch (c) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

std::vector<std::u32string> py_split(std::u32string_view s) {
  std::vector<std::u32string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && py_isspace(s[i])) ++i;
    size_t j = i;
    while (j < s.size() && !py_isspace(s[j])) ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::u32string_view py_rstrip(std::u32string_view s) {
  while (!s.empty() && py_isspace(s.back())) s.remove_suffix(1);
  return s;
}

std::u32string_view py_strip(std::u32string_view s) {
  s = py_rstrip(s);
  while (!s.empty() && py_isspace(s.front())) s.remove_prefix(1);
  return s;
}

std::u32string py_lower(std::u32string_view s) {
  icu::UnicodeString u;
  for (char32_t c : s) u.append(static_cast<UChar32>(c));
  u.toLower(icu::Locale::getRoot());
  std::u32string out;
  out.reserve(s.size());
  for (int32_t i = 0; i < u.length();) {
    UChar32 c = u.char32At(i);
    out.push_back(static_cast<char32_t>(c));
    i += U16_LENGTH(c);
  }
  return out;
}

}  // namespace nlm::eval::metrics
