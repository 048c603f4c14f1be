// ICU-backed character classes with a lazily built BMP lookup table.
#include "tokenizer/char_class.h"

#include <unicode/uchar.h>

#include <array>

namespace nlm::tokenizer {

namespace {

uint8_t compute(uint32_t cp) {
  UChar32 c = static_cast<UChar32>(cp);
  int8_t t = u_charType(c);
  uint8_t r = 0;
  switch (t) {
    case U_UPPERCASE_LETTER: r |= kLetter | kUpperish; break;
    case U_TITLECASE_LETTER: r |= kLetter | kUpperish; break;
    case U_LOWERCASE_LETTER: r |= kLetter | kLowerish; break;
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER: r |= kLetter | kUpperish | kLowerish; break;
    case U_NON_SPACING_MARK:
    case U_ENCLOSING_MARK:
    case U_COMBINING_SPACING_MARK: r |= kUpperish | kLowerish; break;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER: r |= kNumber; break;
    default: break;
  }
  if (u_hasBinaryProperty(c, UCHAR_WHITE_SPACE)) r |= kSpace;
  return r;
}

struct Table {
  std::array<uint8_t, 0x10000> bmp;
  Table() {
    for (uint32_t cp = 0; cp < 0x10000; ++cp) bmp[cp] = compute(cp);
  }
};

}  // namespace

uint8_t char_class(uint32_t cp) {
  static const Table table;
  if (cp < 0x10000) return table.bmp[cp];
  if (cp > 0x10FFFF) return 0;
  return compute(cp);
}

}  // namespace nlm::tokenizer
