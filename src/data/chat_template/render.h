// Renders a parsed chat template: evaluates expressions with Jinja2's semantics (Python
// arithmetic and comparisons, `and`/`or` returning operands, undefined values), runs
// statements (if, for with `loop`, set, namespace attributes, macros, break/continue) and
// applies Jinja2's scoping: each for-loop iteration and each macro call gets its own frame.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/chat_template/parser.h"
#include "data/chat_template/value.h"

namespace nlm::data::chat_template {

std::string render(const Body& body, const Dict& variables);

}  // namespace nlm::data::chat_template
