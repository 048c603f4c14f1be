// Gopher quality filter (Rae et al. 2021, "Scaling Language Models", appendix A), with the
// defaults published by datatrove's GopherQualityFilter. Words are ICU words (text/words.h), so
// lengths are in code points and the rules also apply to unspaced text with a CJK profile.
#pragma once
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/options.h"
#include "curate/step.h"

namespace nlm::curate {

struct GopherQualityOptions {
  // Fewer words than this: too short to be a document (datatrove 50).
  int64_t min_words = 50;
  // More words than this: likely a dump, not prose (100,000).
  int64_t max_words = 100000;
  // Mean word length in code points must lie in [min, max] (3 .. 10 for spaced languages).
  double min_avg_word_length = 3;
  double max_avg_word_length = 10;
  // ("#" + "..." + "…") per word above this: hashtag or ellipsis spam (0.1).
  double max_symbol_word_ratio = 0.1;
  // Share of lines starting with a bullet (•, -, *, ‣, ◦) above this: a list or menu (0.9).
  double max_bullet_lines_ratio = 0.9;
  // Share of lines ending in "..." or "…" above this: truncated teasers (0.3).
  double max_ellipsis_lines_ratio = 0.3;
  // Share of words holding a letter below this: tables of numbers, code (0.8).
  double min_alpha_words_ratio = 0.8;
  // Fewer stop words than this: not running text (2).
  int64_t min_stop_words = 2;
  // Stop words (compared ASCII-case-insensitively).
  std::vector<std::string> stop_words = {"the", "be", "to", "of", "and", "that", "have", "with"};
};

// Its keys (config files, pipeline stages), defaults and bounds; docs/curate.md's table comes from it.
void declare(opt::Schema& schema, GopherQualityOptions& options);

// Checks one document; stop-word sets are cached per options object in `cache`.
class GopherQuality {
 public:
  std::optional<Rejection> check(DocContext& ctx, const GopherQualityOptions& o);

 private:
  const std::unordered_set<std::string>& stop_set(const GopherQualityOptions& o);
  const GopherQualityOptions* cached_for_ = nullptr;
  std::unordered_set<std::string> cached_;
  size_t max_stop_len_ = 0;
  std::string lower_;
};

}  // namespace nlm::curate
