// Renders a parsed chat template: evaluates expressions with Jinja2's semantics (Python
// arithmetic and comparisons, `and`/`or` returning operands, undefined values), runs
// statements (if, for with `loop`, set, namespace attributes, macros, break/continue) and
// applies Jinja2's scoping: each for-loop iteration and each macro call gets its own frame.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/chat_template/parser.h"
#include "data/chat_template/value.h"

namespace nlm::data::chat_template {

// With `generation_spans`, the byte spans [begin, end) of the output that {% generation %} blocks
// printed are appended to it (a block inside a macro or a {% set %} block is then an error).
std::string render(const Body& body, const Dict& variables,
                   std::vector<std::pair<size_t, size_t>>* generation_spans = nullptr);

}  // namespace nlm::data::chat_template
