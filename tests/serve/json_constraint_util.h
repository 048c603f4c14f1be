// Shared by the structured-output tests: compile a schema from text, and ask the recogniser
// whether a text is a valid prefix or a whole value the schema accepts.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "serve/json_constraint.h"

namespace nlm::testing {

inline std::shared_ptr<const serve::JsonSchema> schema(const std::string& text) {
  return serve::JsonSchema::compile(nlohmann::json::parse(text));
}

// Whether `text` is a valid prefix (and, with `whole`, a complete value).
inline bool prefix_ok(const serve::JsonSchema& s, const std::string& text) {
  serve::JsonConstraint c(&s);
  return c.advance(text);
}
inline bool whole_ok(const serve::JsonSchema& s, const std::string& text) {
  serve::JsonConstraint c(&s);
  return c.advance(text) && c.can_end();
}

}  // namespace nlm::testing
