// Gopher repetition filter (Rae et al. 2021, table A1) with datatrove's GopherRepetitionFilter
// defaults: duplicate lines and paragraphs by count and by characters, the character share of the
// most frequent 2/3/4-gram, and the character share of repeated 5..10-grams. N-grams are over ICU
// words, so the rule also works for unspaced scripts.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "curate/params.h"
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

  void visit(ParamVisitor& v);
};

// Open-addressing hash → count table for n-gram hashes (0 is the empty key), reused across
// documents so the hot loop allocates nothing.
class NgramTable {
 public:
  // Sizes the table for up to `n` keys.
  void reset(size_t n);
  void clear();
  // The count stored for `key` (a new key starts at 0).
  uint32_t& slot(uint64_t key) {
    size_t i = static_cast<size_t>(key >> 1) & mask_;  // bit 0 is always set
    while (keys_[i] != key) {
      if (keys_[i] == 0) {
        keys_[i] = key;
        used_.push_back(static_cast<uint32_t>(i));
        break;
      }
      i = (i + 1) & mask_;
    }
    return counts_[i];
  }

 private:
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> counts_;
  std::vector<uint32_t> used_;
  size_t mask_ = 0;
};

class GopherRepetition {
 public:
  std::optional<Rejection> check(DocContext& ctx, const GopherRepetitionOptions& o);

 private:
  std::vector<uint64_t> word_hash_, gram_;
  std::vector<uint32_t> gram_chars_, word_chars_;
  NgramTable table_;
};

}  // namespace nlm::curate
