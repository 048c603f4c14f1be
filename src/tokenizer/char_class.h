// Unicode character classes that the pre-tokenizer split rules test (\p{L}, \p{N}, \s and the
// letter case groups of o200k), from ICU's general category and White_Space property. A table
// for the BMP is built once, so the hot loop is one load per code point.
#pragma once
#include <cstdint>

namespace nlm::tokenizer {

enum CharClass : uint8_t {
  kLetter = 1,      // \p{L}
  kNumber = 2,      // \p{N}
  kSpace = 4,       // \s (White_Space)
  kUpperish = 8,    // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] (o200k)
  kLowerish = 16,   // [\p{Ll}\p{Lm}\p{Lo}\p{M}] (o200k)
};

// Bit set of CharClass values of code point `cp`.
uint8_t char_class(uint32_t cp);

}  // namespace nlm::tokenizer
