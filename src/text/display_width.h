// Terminal column width of UTF-8 text, for aligned tables: East Asian wide and fullwidth
// characters (Han, Kana, Hangul, fullwidth forms) take two columns, combining marks none, other
// characters one. Expects valid UTF-8 (results.json text is).
#pragma once
#include <cstddef>
#include <string_view>

namespace nlm::text {

size_t display_width(std::string_view s);

}  // namespace nlm::text
