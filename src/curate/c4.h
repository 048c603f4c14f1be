// C4 filter (Raffel et al. 2020) with datatrove's C4QualityFilter defaults. It edits as well as
// judges: lines without terminal punctuation, with fewer than 3 words, mentioning javascript or a
// cookie/privacy policy, or holding an over-long word are dropped, citation marks like [1] and
// [edit] are removed; a document with "lorem ipsum" or a curly brace, or with fewer than 5
// sentences left, is rejected.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/options.h"
#include "curate/step.h"

namespace nlm::curate {

struct C4Options {
  // Drop lines that do not end in one of terminal_punctuation (or that end in an ellipsis).
  bool filter_no_terminal_punct = true;
  std::vector<std::string> terminal_punctuation = {".", "?", "!", "\"", "'"};
  // Drop lines with fewer ICU words than this (3).
  int64_t min_words_per_line = 3;
  // Drop lines holding a whitespace-separated token longer than this many code points (1000).
  int64_t max_word_length = 1000;
  // Reject documents with fewer sentences than this left after line dropping (5).
  int64_t min_sentences = 5;
  // Remove "[1]", "[edit]", "[citation needed]" marks.
  bool remove_citations = true;
  // Reject documents containing "lorem ipsum" (case-insensitive).
  bool filter_lorem_ipsum = true;
  // Drop lines mentioning "javascript".
  bool filter_javascript = true;
  // Reject documents with a "{" (code, templates).
  bool filter_curly_bracket = true;
  // Drop lines about terms of use, privacy and cookie policies.
  bool filter_policy = true;
};

// Its keys (config files, pipeline stages), defaults and bounds; docs/curate.md's table comes from it.
void declare(opt::Schema& schema, C4Options& options);

class C4Filter {
 public:
  // May rewrite doc.text (then calls ctx.text_changed()).
  std::optional<Rejection> apply(corpus::Document& doc, DocContext& ctx, const C4Options& o);

 private:
  std::string out_, line_, lower_;
};

}  // namespace nlm::curate
