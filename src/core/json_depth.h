// How deeply JSON text nests, measured in one pass before a parser sees it. nlohmann::json parses
// deep input fine but copies, compares and prints values recursively, so a config file of a
// million '[' would overflow the stack far from where it was read; every file nativelm reads
// with nlohmann (tokenizer.json, config.json, trainer_state.json, safetensors headers, ...) is
// checked against kMaxJsonDepth first and refused with a clear error.
#pragma once
#include <cstddef>
#include <string_view>

namespace nlm {

// Real files nest fewer than 10 levels; simdjson's default limit is 1024.
inline constexpr size_t kMaxJsonDepth = 512;

// The deepest nesting of arrays and objects in `text` ("[]" is 1), skipping string contents
// (escapes honoured); stops as soon as it passes `limit` and returns limit + 1. Not a validator:
// malformed text gets a depth too, and the parser reports what is wrong with it.
size_t json_depth(std::string_view text, size_t limit = kMaxJsonDepth);

// Throws a runtime nlm::Error naming `where` when `text` nests deeper than `limit`.
void check_json_depth(std::string_view text, std::string_view where, size_t limit = kMaxJsonDepth);

}  // namespace nlm
