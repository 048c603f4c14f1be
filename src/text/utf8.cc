// UTF-8 validation and repair. Validation is delegated to simdjson's SIMD validator; repair is a
// scalar decoder that only runs on text already known to be invalid.
#include "text/utf8.h"

#include <simdjson.h>

namespace nlm::text {

bool utf8_valid(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t utf8_repair(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size() + 8);
  size_t bad = 0;
  size_t i = 0, n = in.size();
  auto byte = [&](size_t k) { return static_cast<unsigned char>(in[k]); };
  while (i < n) {
    unsigned char c = byte(i);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // Expected length and the valid range of the second byte (Unicode Table 3-7).
    int len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if (c >= 0xE1 && c <= 0xEC) len = 3;
    else if (c == 0xED) { len = 3; hi = 0x9F; }
    else if (c >= 0xEE && c <= 0xEF) len = 3;
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) { len = 4; hi = 0x8F; }
    if (len == 0) {  // stray continuation byte or invalid lead byte
      utf8_append(out, kReplacementChar);
      ++bad;
      ++i;
      continue;
    }
    // Consume the maximal valid prefix of the sequence.
    size_t k = 1;
    while (k < static_cast<size_t>(len) && i + k < n) {
      unsigned char b = byte(i + k);
      unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (b < l || b > h) break;
      ++k;
    }
    if (k == static_cast<size_t>(len)) {
      out.append(in.data() + i, k);
    } else {
      utf8_append(out, kReplacementChar);
      ++bad;
    }
    i += k;
  }
  return bad;
}

size_t utf8_repair_inplace(std::string& s) {
  if (utf8_valid(s)) return 0;
  std::string out;
  size_t bad = utf8_repair(s, out);
  s.swap(out);
  return bad;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace nlm::text
