// The nesting scan behind check_json_depth (see json_depth.h).
#include "core/json_depth.h"

#include <string>

#include "core/error.h"

namespace nlm {

size_t json_depth(std::string_view text, size_t limit) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return limit + 1;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

void check_json_depth(std::string_view text, std::string_view where, size_t limit) {
  if (json_depth(text, limit) > limit)
    runtime_error("JSON nests arrays and objects deeper than " + std::to_string(limit) + " levels", where,
                  "this is not a file nativelm or HF writes; re-create it");
}

}  // namespace nlm
