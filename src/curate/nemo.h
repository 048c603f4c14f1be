// NeMo Curator's heuristic extras, with its published defaults: too many non-alphanumeric
// characters, digits, URL characters, whitespace or brackets for the text's length, an over-long
// word, and boilerplate (terms/privacy/cookie) paragraphs at the top or bottom of a document.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/options.h"
#include "curate/step.h"

namespace nlm::curate {

struct NemoOptions {
  double max_non_alnum_ratio = 0.25;    // NonAlphaNumericFilter (whitespace is not counted)
  double max_number_ratio = 0.15;       // NumbersFilter: digits / characters
  double max_url_ratio = 0.2;           // UrlsFilter: characters inside http(s):// or www. URLs
  double max_whitespace_ratio = 0.25;   // WhiteSpaceFilter
  double max_parentheses_ratio = 0.1;   // ParenthesesFilter: ()[]{} / characters
  int64_t max_word_length = 1000;       // LongWordFilter (ICU words, code points)
  double max_boilerplate_ratio = 0.4;   // BoilerPlateStringFilter: share of such paragraphs
  // Only boilerplate paragraphs at the top or bottom count (NeMo's remove_if_at_top_or_bottom).
  bool boilerplate_at_top_or_bottom = true;
};

// Its keys (config files, pipeline stages), defaults and bounds; docs/curate.md's table comes from it.
void declare(opt::Schema& schema, NemoOptions& options);

std::optional<Rejection> nemo_check(DocContext& ctx, const NemoOptions& o);

}  // namespace nlm::curate
