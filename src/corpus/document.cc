// Field helpers for Document; decoding of raw values goes through simdjson.
#include "corpus/document.h"

#include <simdjson.h>

#include <cmath>
#include <cstdio>

#include "core/json_escape.h"

namespace nlm::corpus {

const std::string* Document::field(std::string_view key) const {
  for (const auto& [k, v] : fields)
    if (k == key) return &v;
  return nullptr;
}

std::optional<std::string> Document::string_field(std::string_view key) const {
  const std::string* raw = field(key);
  if (!raw || raw->empty() || (*raw)[0] != '"') return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element el;
  if (parser.parse(*raw).get(el)) return std::nullopt;
  std::string_view s;
  if (el.get_string().get(s)) return std::nullopt;
  return std::string(s);
}

std::optional<double> Document::number_field(std::string_view key) const {
  const std::string* raw = field(key);
  if (!raw) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element el;
  if (parser.parse(*raw).get(el)) return std::nullopt;
  double d;
  if (el.get_double().get(d)) return std::nullopt;
  return d;
}

void Document::set_field(std::string_view key, std::string raw_json) {
  for (auto& [k, v] : fields) {
    if (k == key) {
      v = std::move(raw_json);
      return;
    }
  }
  fields.emplace_back(std::string(key), std::move(raw_json));
}

void Document::set_string_field(std::string_view key, std::string_view value) {
  set_field(key, json_quote(value));
}

void Document::set_number_field(std::string_view key, double value) {
  char buf[40];
  if (!std::isfinite(value)) value = 0;
  if (value == std::floor(value) && std::fabs(value) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", value);
  else
    std::snprintf(buf, sizeof buf, "%.6g", value);
  set_field(key, buf);
}

bool Document::erase_field(std::string_view key) {
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    if (it->first == key) {
      fields.erase(it);
      return true;
    }
  }
  return false;
}

std::string Document::where() const {
  std::string s = source ? *source : std::string("<unknown>");
  if (line) s += ":" + std::to_string(line);
  return s;
}

void Document::clear() {
  id.clear();
  text.clear();
  fields.clear();
  line = 0;
}

}  // namespace nlm::corpus
