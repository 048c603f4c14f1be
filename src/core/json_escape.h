// JSON string escaping for the hot write paths (JSONL writers, reports), kept free of any JSON
// library header so it can be included everywhere. Input is assumed to be valid UTF-8.
#pragma once
#include <string>
#include <string_view>

namespace nlm {

// Appends "s" with quotes, escaping ", \ and control characters (as \n, \t, or \u00XX).
void append_json_string(std::string& out, std::string_view s);
std::string json_quote(std::string_view s);

}  // namespace nlm
