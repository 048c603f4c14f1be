// Gopher repetition filter (Rae et al. 2021, table A1) with datatrove's GopherRepetitionFilter
// defaults: duplicate lines and paragraphs by count and by characters, the character share of the
// most frequent 2/3/4-gram, and the character share of repeated 5..10-grams. N-grams are over ICU
// words, so the rule also works for unspaced scripts.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "curate/hash_table.h"
#include "core/options.h"
#include "curate/step.h"

namespace nlm::curate {

struct GopherRepetitionOptions {
  // Share of paragraphs (split on blank lines) that repeat an earlier one (0.30).
  double max_dup_para_frac = 0.30;
  // Characters in repeated paragraphs / all characters (0.20).
  double max_dup_para_char_frac = 0.20;
  // Share of lines that repeat an earlier line (0.30).
  double max_dup_line_frac = 0.30;
  // Characters in repeated lines / all characters (0.20).
  double max_dup_line_char_frac = 0.20;
  // Characters covered by the most frequent n-gram (n = 2, 3, 4) / all characters.
  double max_top_2gram_char_frac = 0.20;
  double max_top_3gram_char_frac = 0.18;
  double max_top_4gram_char_frac = 0.16;
  // Characters in n-grams that repeat an earlier one (n = 5..10) / all characters.
  double max_dup_5gram_char_frac = 0.15;
  double max_dup_6gram_char_frac = 0.14;
  double max_dup_7gram_char_frac = 0.13;
  double max_dup_8gram_char_frac = 0.12;
  double max_dup_9gram_char_frac = 0.11;
  double max_dup_10gram_char_frac = 0.10;
};

// Its keys (config files, pipeline stages), defaults and bounds; docs/curate.md's table comes from it.
void declare(opt::Schema& schema, GopherRepetitionOptions& options);

class GopherRepetition {
 public:
  std::optional<Rejection> check(DocContext& ctx, const GopherRepetitionOptions& o);

 private:
  // Buffers reused from document to document (see gopher_repetition.cc).
  std::vector<uint64_t> word_hash_, gram_;
  std::vector<uint32_t> gram_chars_, word_chars_, cand_, next_, repeated_at_;
  std::vector<uint32_t*> count_ptr_;
  HashCounter table_;
};

}  // namespace nlm::curate
