// The GPT-2 bytes_to_unicode table: printable Latin-1 bytes map to themselves, the other 68 bytes
// to U+0100 upward in byte order.
#include "tokenizer/byte_level.h"

#include <array>

#include "text/utf8.h"

namespace nlm::tokenizer {

namespace {

struct Tables {
  std::array<uint32_t, 256> to_char{};
  std::array<int16_t, 0x200> to_byte{};  // every mapped code point is < U+0200
  Tables() {
    to_byte.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_char[b] = printable ? static_cast<uint32_t>(b) : next++;
      to_byte[to_char[b]] = static_cast<int16_t>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

uint32_t byte_to_char(uint8_t b) { return tables().to_char[b]; }

std::string bytes_to_byte_level(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char b : raw) text::utf8_append(out, tables().to_char[b]);
  return out;
}

bool byte_level_to_bytes(std::string_view mapped, std::string& raw) {
  raw.clear();
  if (!text::utf8_valid(mapped)) return false;
  for (size_t i = 0; i < mapped.size();) {
    uint32_t cp = text::utf8_next(mapped, i);
    if (cp >= 0x200 || tables().to_byte[cp] < 0) return false;
    raw.push_back(static_cast<char>(tables().to_byte[cp]));
  }
  return true;
}

}  // namespace nlm::tokenizer
