// Builders for WARC test input, shared by the WARC and HTML-extraction tests: text encoded into a
// legacy charset with ICU, a WARC record, and an HTTP response around a body.
#pragma once
#include <gtest/gtest.h>
#include <unicode/ucnv.h>

#include <string>

namespace nlm::testing {

inline std::string encode(const std::string& utf8, const char* charset) {
  std::string out(utf8.size() * 4 + 16, '\0');
  UErrorCode err = U_ZERO_ERROR;
  int32_t n = ucnv_convert(charset, "UTF-8", out.data(), static_cast<int32_t>(out.size()), utf8.data(),
                           static_cast<int32_t>(utf8.size()), &err);
  EXPECT_TRUE(U_SUCCESS(err)) << charset;
  out.resize(static_cast<size_t>(n));
  return out;
}

inline std::string record(const std::string& type, const std::string& uri, const std::string& block,
                          const std::string& extra = "") {
  return "WARC/1.0\r\nWARC-Type: " + type + "\r\nWARC-Target-URI: " + uri +
         "\r\nWARC-Date: 2024-05-01T12:00:00Z\r\nWARC-Record-ID: <urn:uuid:" + uri + ">\r\n" + extra +
         "Content-Length: " + std::to_string(block.size()) + "\r\n\r\n" + block + "\r\n\r\n";
}

inline std::string http(const std::string& content_type, const std::string& body, const std::string& status = "200 OK") {
  std::string h = "HTTP/1.1 " + status + "\r\n";
  if (!content_type.empty()) h += "Content-Type: " + content_type + "\r\n";
  return h + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace nlm::testing
