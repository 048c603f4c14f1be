// The `quality` step: a fastText classifier trained on curated text against raw crawl (`nativelm
// quality train`, quality_train.h), as in NeMo Curator's and FineWeb-Edu's recipes. It stores each
// document's probability of the positive label in a field and removes documents below a threshold,
// or keeps the best-scoring share of the whole corpus (keep_fraction: curate.cc makes a first pass
// for the global cut).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/options.h"
#include "curate/step.h"

namespace fasttext {
class FastText;
}
namespace nlm::text {
class WordSegmenter;
}

namespace nlm::curate {

struct QualityOptions {
  // fastText model from `nativelm quality train` (required when the step is in the chain).
  std::string model;
  // The label whose probability is the score (the "good" class of the training data).
  std::string label = "hq";
  // Remove documents whose score (rounded to 6 decimals) is below this (0 keeps all).
  double threshold = 0.5;
  // When above 0: keep this share of the documents that reach the step, the best-scoring ones,
  // across all shards. Costs a first pass through the chain up to this step to find the cut,
  // which then replaces threshold. Documents tied at the cut are all kept.
  double keep_fraction = 0;
  // JSON member the score is written to.
  std::string field = "quality_score";
  // Only the first this many bytes are scored (training reads the same prefix).
  int64_t max_bytes = 65536;
};

// Its keys (config files, pipeline stages), defaults and bounds; docs/curate.md's table comes from it.
void declare(opt::Schema& schema, QualityOptions& options);

// The text form the classifier sees, in training and scoring alike: the ICU words of the first
// `max_bytes` bytes, ASCII lower-cased with digits as 0, and between them the punctuation and
// symbol runs (up to 8 bytes each) and <nl> / <p> for a line break / blank line, since layout
// and punctuation are much of what tells boilerplate and junk from prose.
void quality_words(std::string_view text, size_t max_bytes, text::WordSegmenter& seg, std::string& out);

// Scores are rounded to this many millionths before they are stored and compared.
constexpr double kQualityScale = 1e6;
inline double round_quality(double p) { return static_cast<double>(static_cast<int64_t>(p * kQualityScale + 0.5)) / kQualityScale; }

// One per thread; the model is loaded once per path and shared.
class QualityScorer {
 public:
  // Throws a usage nlm::Error when the model cannot be loaded or lacks the label.
  QualityScorer(const std::string& model, const std::string& label, int64_t max_bytes);
  ~QualityScorer();
  // The model's probability of the label for `text`, rounded (round_quality), in [0, 1].
  double score(std::string_view text);
  // The model's labels, without "__label__".
  const std::vector<std::string>& labels() const { return labels_; }

 private:
  std::shared_ptr<const fasttext::FastText> ft_;
  std::unique_ptr<text::WordSegmenter> seg_;
  std::string label_;
  size_t max_bytes_;
  std::vector<std::string> labels_;
  std::string line_;
  std::vector<std::pair<float, std::string>> predictions_;
};

class QualityStep : public Step {
 public:
  explicit QualityStep(const QualityOptions& options);
  std::string_view name() const override { return "quality"; }
  std::optional<Rejection> apply(corpus::Document& doc, DocContext& ctx) override;

 private:
  QualityOptions opt_;
  QualityScorer scorer_;
  int64_t cut_;  // threshold in millionths
};

}  // namespace nlm::curate
