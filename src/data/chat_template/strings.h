// Python's str methods on UTF-8 strings, as chat templates call them (strip, split, upper,
// title, ...): code-point based, with Python's definition of whitespace and Unicode case
// mappings (ICU), so results match Python byte for byte.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nlm::data::chat_template {

std::vector<uint32_t> code_points(const std::string& s);
std::string from_code_points(const std::vector<uint32_t>& cps, size_t begin, size_t end);
bool py_isspace(uint32_t cp);

// str.strip / lstrip / rstrip; without `chars`, Python whitespace.
std::string py_strip(const std::string& s, const std::optional<std::string>& chars, bool left, bool right);
// str.split(sep, maxsplit); without `sep`, runs of whitespace and no empty pieces.
std::vector<std::string> py_split(const std::string& s, const std::optional<std::string>& sep, int64_t maxsplit);
// str.rsplit(sep, maxsplit) with a separator.
std::vector<std::string> py_rsplit(const std::string& s, const std::string& sep, int64_t maxsplit);
std::string py_replace(const std::string& s, const std::string& from, const std::string& to, int64_t count);
std::string py_upper(const std::string& s);
std::string py_lower(const std::string& s);
std::string py_title(const std::string& s);       // str.title()
std::string py_capitalize(const std::string& s);  // str.capitalize()
std::string jinja_title(const std::string& s);    // the `title` filter (words split at -, space, brackets)

}  // namespace nlm::data::chat_template
