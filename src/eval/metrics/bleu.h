// BLEU (Papineni et al. 2002) computed the way sacreBLEU 2.x computes it, so a score and its
// signature can be put beside published sacreBLEU numbers: the same tokenizers, clipped n-gram
// counts against the per-n-gram maximum over references, the closest reference length (ties to
// the shorter) for the brevity penalty, the four smoothing methods of Chen & Cherry (2014), and
// effective order. Corpus BLEU sums the statistics of all segments before the formula; sentence
// BLEU is the same formula on one segment.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "eval/metrics/bleu_tokenize.h"

namespace nlm::opt {
class Schema;
}

namespace nlm::eval::metrics {

enum class BleuSmooth { Exp, Floor, AddK, None };

struct BleuOptions {
  // sacreBLEU's tokenizer name: 13a (its default, WMT's), intl, zh, char or none.
  std::string tokenize = "13a";
  // exp (sacreBLEU default; NIST geometric halving), floor (zero counts become smooth_value),
  // add-k (add smooth_value to counts and totals of orders ≥ 2), none.
  BleuSmooth smooth = BleuSmooth::Exp;
  // floor and add-k value; negative = the method's default (floor 0.1, add-k 1).
  double smooth_value = -1;
  bool lowercase = false;  // case-insensitive BLEU (Python's str.lower on both sides)
  // Average only over the n-gram orders the hypothesis has (recommended for sentence BLEU).
  bool effective_order = false;
  int max_ngram_order = 4;
};
void declare(opt::Schema& schema, BleuOptions& options);

struct BleuScore {
  double score = 0;                 // 0..100
  std::vector<double> counts;       // matched n-grams per order (add-k included, as sacreBLEU)
  std::vector<double> totals;       // hypothesis n-grams per order
  std::vector<double> precisions;   // per order, 0..100, smoothed
  double bp = 0;                    // brevity penalty
  uint64_t sys_len = 0, ref_len = 0;
  double ratio() const { return ref_len ? double(sys_len) / double(ref_len) : 0.0; }
  // sacreBLEU's verbose part: "63.6/40.0/... (BP = 1.000 ratio = 1.000 hyp_len = 11 ref_len = 11)".
  std::string verbose() const;
};

// The formula on summed statistics, exactly as sacreBLEU's BLEU.compute_bleu (smooth_value < 0:
// the method's default).
BleuScore compute_bleu(std::vector<double> correct, std::vector<double> total, uint64_t sys_len,
                       uint64_t ref_len, BleuSmooth smooth, double smooth_value, bool effective_order,
                       int max_ngram_order);

class Bleu {
 public:
  explicit Bleu(const BleuOptions& options);  // usage error for a tokenizer nativelm lacks

  // refs[r][i] is the r-th reference of segment i (sacreBLEU's layout); empty references are
  // skipped. A usage error when the lengths differ or a segment has no reference.
  BleuScore corpus_score(const std::vector<std::string>& hyps,
                         const std::vector<std::vector<std::string>>& refs);
  BleuScore sentence_score(const std::string& hyp, const std::vector<std::string>& refs);
  // Per-segment statistics: [hyp_len, ref_len, correct_1..N, total_1..N].
  std::vector<double> segment_statistics(const std::string& hyp, const std::vector<std::string>& refs) const;
  // "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.5.1", nrefs of the last scoring.
  std::string signature() const;
  // "BLEU|<signature> = 48.53 <verbose>".
  std::string format(const BleuScore& score) const;

 private:
  BleuScore from_stats(const std::vector<double>& stats) const;
  BleuOptions o_;
  BleuTokenize tok_;
  int nrefs_ = 1;
};

}  // namespace nlm::eval::metrics
