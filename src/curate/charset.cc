// Charset lookup and conversion with uchardet and ICU ucnv.
#include "curate/charset.h"

#include <uchardet/uchardet.h>
#include <unicode/ucnv.h>

#include <memory>

#include "curate/text_util.h"
#include "text/utf8.h"

namespace nlm::curate {

namespace {
std::string clean_label(std::string_view s) {
  s = trim(s);
  while (!s.empty() && (s.front() == '"' || s.front() == '\'')) s.remove_prefix(1);
  size_t end = s.find_first_of("\"'; \t>/");
  if (end != std::string_view::npos) s = s.substr(0, end);
  return ascii_lower(s);
}

// WHATWG label mapping for the labels whose plain ICU meaning would mis-decode real pages.
std::string canonical(const std::string& label) {
  if (label == "iso-8859-1" || label == "latin1" || label == "iso8859-1" || label == "us-ascii" ||
      label == "ascii" || label == "l1" || label == "cp1252")
    return "windows-1252";
  if (label == "gb2312" || label == "gbk" || label == "x-gbk" || label == "gb_2312-80" || label == "cp936")
    return "gb18030";
  if (label == "big5" || label == "big5-hkscs" || label == "x-x-big5") return "big5-hkscs";
  if (label == "utf8") return "utf-8";
  return label;
}

bool is_utf8_label(const std::string& l) { return l == "utf-8" || l == "utf8"; }
}  // namespace

std::string charset_from_content_type(std::string_view ct) {
  std::string lower = ascii_lower(ct);
  size_t p = lower.find("charset=");
  if (p == std::string::npos) return {};
  return clean_label(std::string_view(lower).substr(p + 8));
}

std::string charset_from_meta(std::string_view html) {
  std::string head = ascii_lower(html.substr(0, 4096));
  for (size_t p = head.find("<meta"); p != std::string::npos; p = head.find("<meta", p + 5)) {
    size_t end = head.find('>', p);
    if (end == std::string::npos) break;
    std::string_view tag = std::string_view(head).substr(p, end - p);
    size_t c = tag.find("charset=");
    if (c != std::string_view::npos) {
      std::string label = clean_label(tag.substr(c + 8));
      if (!label.empty()) return label;
    }
  }
  return {};
}

std::string detect_charset(std::string_view bytes) {
  std::unique_ptr<std::remove_pointer_t<uchardet_t>, void (*)(uchardet_t)> ud(uchardet_new(), uchardet_delete);
  if (!ud) return {};
  if (uchardet_handle_data(ud.get(), bytes.data(), std::min<size_t>(bytes.size(), 64 << 10)) != 0) return {};
  uchardet_data_end(ud.get());
  const char* cs = uchardet_get_charset(ud.get());
  return cs ? ascii_lower(cs) : std::string();
}

bool convert_to_utf8(std::string_view bytes, const std::string& label, std::string& out) {
  std::string cs = canonical(label);
  if (bytes.size() > static_cast<size_t>(INT32_MAX / 4)) return false;
  out.resize(bytes.size() * 4 + 16);
  UErrorCode err = U_ZERO_ERROR;
  int32_t n = ucnv_convert("UTF-8", cs.c_str(), out.data(), static_cast<int32_t>(out.size()), bytes.data(),
                           static_cast<int32_t>(bytes.size()), &err);
  if (err == U_BUFFER_OVERFLOW_ERROR) {
    out.resize(static_cast<size_t>(n) + 1);
    err = U_ZERO_ERROR;
    n = ucnv_convert("UTF-8", cs.c_str(), out.data(), static_cast<int32_t>(out.size()), bytes.data(),
                     static_cast<int32_t>(bytes.size()), &err);
  }
  if (U_FAILURE(err)) {
    out.clear();
    return false;
  }
  out.resize(static_cast<size_t>(n));
  text::utf8_repair_inplace(out);
  return true;
}

Decoded decode_to_utf8(std::string_view bytes, std::string_view content_type, bool html) {
  Decoded d;
  auto attempt = [&](const std::string& label, const char* source) {
    if (label.empty()) return false;
    std::string cs = canonical(label);
    if (is_utf8_label(cs)) {
      // A UTF-8 label on bytes that are not UTF-8 is a common lie; let detection decide then.
      if (!text::utf8_valid(bytes)) return false;
      d.text.assign(bytes);
    } else if (!convert_to_utf8(bytes, cs, d.text)) {
      return false;
    }
    d.charset = cs;
    d.source = source;
    return true;
  };
  if (attempt(charset_from_content_type(content_type), "http")) return d;
  if (html && attempt(charset_from_meta(bytes), "meta")) return d;
  if (text::utf8_valid(bytes)) {
    d.text.assign(bytes);
    d.charset = "utf-8";
    d.source = "detected";
    return d;
  }
  if (attempt(detect_charset(bytes), "detected")) return d;
  d.text.assign(bytes);
  text::utf8_repair_inplace(d.text);
  d.charset = "utf-8";
  d.source = "fallback";
  return d;
}

}  // namespace nlm::curate
