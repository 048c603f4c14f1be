// The few Python `str` behaviours the reference metrics (sacreBLEU, rouge-score) depend on, so
// nativelm's BLEU, chrF and ROUGE see the same characters and words: whitespace is Python's
// str.isspace() set (wider than C's), split() drops empty items, lower() is full Unicode
// lowercasing (ICU root locale, as Python's str.lower: final sigma, 'İ' -> "i̇"). Text is held as
// code points (std::u32string) because the references index and slice by code point.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace nlm::eval::metrics {

// UTF-8 to code points; invalid sequences become U+FFFD (one per maximal invalid subpart).
std::u32string to_u32(std::string_view utf8);
std::string to_utf8(std::u32string_view text);

// Python's str.isspace() for one code point (Unicode White_Space plus U+001C..U+001F).
bool py_isspace(char32_t c);
// str.split() with no argument: runs of whitespace separate items, no empty items.
std::vector<std::u32string> py_split(std::u32string_view text);
// str.strip() / str.rstrip() with no argument.
std::u32string_view py_strip(std::u32string_view text);
std::u32string_view py_rstrip(std::u32string_view text);
// str.lower(): full Unicode lowercasing (ICU, root locale).
std::u32string py_lower(std::u32string_view text);

}  // namespace nlm::eval::metrics
