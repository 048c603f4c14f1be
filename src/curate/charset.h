// Bytes of a web page → UTF-8. The charset comes from the HTTP Content-Type header, else from a
// <meta charset> / http-equiv tag in the first 4 kB, else from uchardet; ICU's converters do the
// conversion. As in browsers (WHATWG), ISO-8859-1 and US-ASCII labels mean Windows-1252 and
// GB2312/GBK labels mean GB18030 (their superset), so real pages labelled that way decode right.
#pragma once
#include <string>
#include <string_view>

namespace nlm::curate {

struct Decoded {
  std::string text;     // valid UTF-8
  std::string charset;  // the charset used, canonical lower-case label
  std::string source;   // "http", "meta", "detected", or "fallback" (UTF-8 with repair)
};

// The charset parameter of a Content-Type value ("text/html; charset=GBK" → "gbk"), or "".
std::string charset_from_content_type(std::string_view content_type);
// The charset declared by a <meta> tag near the start of an HTML document, or "".
std::string charset_from_meta(std::string_view html);
// uchardet's guess ("" when it has none).
std::string detect_charset(std::string_view bytes);
// Converts with ICU; false when the charset is unknown to ICU or the conversion fails.
bool convert_to_utf8(std::string_view bytes, const std::string& charset, std::string& out);
// The whole chain; `html` enables the <meta> lookup.
Decoded decode_to_utf8(std::string_view bytes, std::string_view http_content_type, bool html);

}  // namespace nlm::curate
