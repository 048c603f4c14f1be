// ROUGE-N, ROUGE-L and ROUGE-Lsum (Lin 2004) as Google's rouge-score package computes them:
// n-gram overlap with clipped counts, LCS over the token sequences, and summary-level LCS over
// newline-separated sentences (union LCS per reference sentence, each token counted at most as
// often as it occurs on both sides). Precision is over the prediction, recall over the target.
//
// The tokenizer is where nativelm departs by default. rouge-score lowercases, turns everything
// outside [a-z0-9] into spaces and splits, so Irish "tá" becomes "t", and Chinese, Cantonese or
// Thai text has no tokens at all (every score 0, even for identical texts). The default `unicode`
// tokenizer lowercases (full Unicode), keeps letters and digits of every script, and splits
// unspaced scripts with ICU's dictionaries (text::WordSegmenter). On ASCII it gives exactly
// rouge-score's tokens. `rouge-score` reproduces the package bit for bit. use_stemmer runs NLTK's
// Porter stemmer (porter.h) over ASCII tokens longer than 3 characters, as rouge-score does.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nlm::opt {
class Schema;
}
namespace nlm::text {
class WordSegmenter;
}

namespace nlm::eval::metrics {

enum class RougeTokenizer { Unicode, RougeScore };

struct RougeOptions {
  // rouge1 .. rouge9, rougeL, rougeLsum (rouge-score names).
  std::vector<std::string> types = {"rouge1", "rouge2", "rougeL", "rougeLsum"};
  RougeTokenizer tokenizer = RougeTokenizer::Unicode;
  bool use_stemmer = false;  // rouge-score's Porter stemming of English words
};
void declare(opt::Schema& schema, RougeOptions& options);

struct RougeScore {
  double precision = 0, recall = 0, fmeasure = 0;
};

// Not thread-safe (it keeps an ICU word segmenter): one Rouge per thread.
class Rouge {
 public:
  explicit Rouge(const RougeOptions& options);  // opt::fail for bad types
  ~Rouge();
  Rouge(const Rouge&) = delete;
  Rouge& operator=(const Rouge&) = delete;

  std::vector<std::string> tokenize(std::string_view text) const;
  // rouge-score's RougeScorer.score(target, prediction): one score per type.
  std::map<std::string, RougeScore> score(std::string_view target, std::string_view prediction) const;
  // Several targets: per type, the score of the target with the highest F (rouge-score's
  // score_multi).
  std::map<std::string, RougeScore> score_multi(const std::vector<std::string>& targets,
                                                std::string_view prediction) const;
  // Corpus: the mean over segments of each type's precision, recall and F. refs[r][i] is the
  // r-th reference of segment i; empty references are skipped.
  std::map<std::string, RougeScore> corpus_score(const std::vector<std::string>& predictions,
                                                 const std::vector<std::vector<std::string>>& refs) const;
  const RougeOptions& options() const { return o_; }

 private:
  RougeOptions o_;
  std::unique_ptr<text::WordSegmenter> seg_;
};

// Building blocks, exposed for tests: the LCS table's length, the indices into `ref` of one LCS
// (rouge-score's backtrack), and the summary-level LCS score.
size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b);
std::vector<size_t> lcs_indices(const std::vector<std::string>& ref, const std::vector<std::string>& can);
RougeScore summary_level_lcs(const std::vector<std::vector<std::string>>& ref_sents,
                             const std::vector<std::vector<std::string>>& can_sents);

}  // namespace nlm::eval::metrics
