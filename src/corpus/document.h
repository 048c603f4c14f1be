// The unit that flows through every curation stage. Text and id are decoded; every other
// top-level JSON member of the source record is kept verbatim (key + raw JSON value) so stages
// add fields without ever dropping ones they do not know.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nlm::corpus {

struct Document {
  std::string id;
  std::string text;
  // Other members in source order: (key, raw JSON value such as "\"de\"" or "{\"a\":1}").
  std::vector<std::pair<std::string, std::string>> fields;
  // Where the record came from, for error messages: file path and 1-based line (0 if n/a).
  std::shared_ptr<const std::string> source;
  uint64_t line = 0;

  // Raw JSON value of a field, or nullptr.
  const std::string* field(std::string_view key) const;
  // A string field decoded from JSON, or nullopt when absent or not a string.
  std::optional<std::string> string_field(std::string_view key) const;
  // A numeric field, or nullopt when absent or not a number.
  std::optional<double> number_field(std::string_view key) const;
  // Replaces or appends a field; `raw_json` must be valid JSON.
  void set_field(std::string_view key, std::string raw_json);
  void set_string_field(std::string_view key, std::string_view value);
  void set_number_field(std::string_view key, double value);
  bool erase_field(std::string_view key);
  // "file:line" (or "file") for messages.
  std::string where() const;
  void clear();
};

}  // namespace nlm::corpus
