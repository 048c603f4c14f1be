// Source-order x-property-order for response_format schemas (see schema_order.h).
#include "serve/schema_order.h"

namespace nlm::serve {

namespace {

using ojson = nlohmann::ordered_json;

// Deeper than the compiler's own depth limit; past it the schema is refused there anyway.
constexpr int kMaxWalk = 128;

void annotate(ojson& s, int depth) {
  if (depth > kMaxWalk || !s.is_object()) return;
  if (s.contains("properties") && s["properties"].is_object()) {
    if (!s.contains("x-property-order")) {
      ojson order = ojson::array();
      for (auto& [name, sub] : s["properties"].items()) order.push_back(name);
      s["x-property-order"] = std::move(order);
    }
    for (auto& [name, sub] : s["properties"].items()) annotate(sub, depth + 1);
  }
  for (const char* key : {"items", "additionalProperties", "not"})
    if (s.contains(key)) annotate(s[key], depth + 1);
  for (const char* key : {"prefixItems", "anyOf", "oneOf", "allOf"})
    if (s.contains(key) && s[key].is_array())
      for (auto& sub : s[key]) annotate(sub, depth + 1);
  for (const char* key : {"$defs", "definitions"})
    if (s.contains(key) && s[key].is_object())
      for (auto& [name, sub] : s[key].items()) annotate(sub, depth + 1);
}

}  // namespace

nlohmann::json with_source_property_order(const ojson& schema) {
  ojson s = schema;
  annotate(s, 0);
  return nlohmann::json::parse(s.dump());
}

}  // namespace nlm::serve
