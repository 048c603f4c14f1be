// chrF (Popović 2015) and chrF++ (Popović 2017) computed the way sacreBLEU 2.x computes them:
// character n-grams of orders 1..char_order over the text with whitespace removed (unless
// `whitespace`), plus word n-grams of orders 1..word_order (chrF++: word_order 2) over words with
// one leading or trailing ASCII punctuation mark split off. Per order: matched, hypothesis and
// reference n-gram counts, summed over the corpus; the score is an F-beta of the average
// precision and recall over the orders both sides have (sacreBLEU's default, "eff:yes"), or, with
// eps_smoothing, the average of per-order F-beta scores with 1e-16 for empty orders (chrF++.py,
// NLTK, Moses; "eff:no"). With several references, a segment uses the one with the best F.
#pragma once
#include <string>
#include <vector>

namespace nlm::opt {
class Schema;
}

namespace nlm::eval::metrics {

struct ChrfOptions {
  int char_order = 6;          // sacreBLEU default
  int word_order = 0;          // 0 = chrF, 2 = chrF++
  int beta = 2;                // recall weighs beta times as much as precision
  bool lowercase = false;
  bool whitespace = false;     // keep whitespace inside character n-grams
  bool eps_smoothing = false;  // chrF++.py-style smoothing instead of effective order
};
void declare(opt::Schema& schema, ChrfOptions& options);

struct ChrfScore {
  double score = 0;          // 0..100
  std::string name;          // "chrF2", "chrF2++"
  std::vector<double> stats;  // [hyp, ref, match] per order, chars first
};

class Chrf {
 public:
  explicit Chrf(const ChrfOptions& options);
  // refs[r][i]: r-th reference of segment i (sacreBLEU's layout); empty references skipped.
  ChrfScore corpus_score(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs);
  ChrfScore sentence_score(const std::string& hyp, const std::vector<std::string>& refs);
  // The F score of summed statistics, 0..100.
  double f_score(const std::vector<double>& stats) const;
  // "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.5.1".
  std::string signature() const;
  // "chrF2|<signature> = 59.73".
  std::string format(const ChrfScore& score) const;

 private:
  std::vector<double> segment_statistics(const std::string& hyp, const std::vector<std::string>& refs) const;
  ChrfOptions o_;
  int nrefs_ = 1;
};

}  // namespace nlm::eval::metrics
