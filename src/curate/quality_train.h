// `nativelm quality train` and `nativelm quality eval`: a fastText quality classifier from
// labelled JSONL, in the manner of NeMo Curator's and FineWeb-Edu's recipes: curated text
// (Wikipedia, books, edited news) labelled "hq" against raw crawl labelled "lq", then scored on a
// held-out labelled split (AUC, accuracy, score distributions) before the `quality` curate step
// (quality.h) uses it. Training and scoring see the same text form (quality_words).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/options.h"
#include "corpus/read_options.h"

namespace nlm::curate {

struct QualityTrainOptions {
  // How the labelled inputs are read (JSONL with text and label fields, usually).
  corpus::ReadOptions read;
  // JSON member holding each document's label (e.g. "hq" or "lq"); at least two labels needed.
  std::string label_field = "quality";
  // Where the model is written (.bin).
  std::string output = "quality.bin";
  // fastText hyper-parameters: word bigrams over a small vector, as NeMo's and FineWeb's fastText
  // classifiers use. The model holds (words + bucket) x dim floats: 64 MB with these defaults
  // (quantize shrinks it); a few MB to a few GB of text trains in seconds to minutes per thread.
  int64_t epoch = 10;
  double lr = 0.3;
  int64_t dim = 32;
  int64_t word_ngrams = 2;
  int64_t min_count = 1;
  int64_t bucket = 500000;
  // Bytes of each document used, as the step's max_bytes.
  int64_t max_bytes = 65536;
  int64_t threads = 1;  // 1 keeps training deterministic
  int64_t seed = 1;
  // Quantise the model (product quantisation, fastText's .ftz), about 10x smaller, slightly worse.
  bool quantize = false;
};

// Its flags, defaults and bounds (not the read options, which cli::add_read_options adds); the
// table in docs/curate.md comes from it.
void declare(opt::Schema& schema, QualityTrainOptions& options);

struct QualityTrainResult {
  uint64_t examples = 0;
  uint64_t unlabelled = 0;  // documents without a usable label (skipped)
  uint64_t empty = 0;       // labelled documents without any word (skipped)
  std::map<std::string, uint64_t> labels;
  std::string summary() const;
};

// Throws a usage nlm::Error when fewer than two labels are found.
QualityTrainResult train_quality(const std::vector<std::string>& files, const QualityTrainOptions& options);

struct QualityEvalOptions {
  corpus::ReadOptions read;
  // Model from `nativelm quality train`.
  std::string model;
  // The label the score is the probability of (the good class); other labels count as negative.
  std::string label = "hq";
  // JSON member holding each document's true label.
  std::string label_field = "quality";
  // Score at or above which a document is called positive, for the accuracy.
  double threshold = 0.5;
  int64_t max_bytes = 65536;
  // Print the figures as JSON instead of a table.
  bool json = false;
};

void declare(opt::Schema& schema, QualityEvalOptions& options);

struct QualityLabelScores {
  std::string label;
  uint64_t docs = 0;
  double mean = 0;
  double p10 = 0, p25 = 0, p50 = 0, p75 = 0, p90 = 0;  // score quantiles
  std::vector<uint64_t> histogram;                     // 10 bins of width 0.1
};

struct QualityEvalResult {
  std::string positive;
  uint64_t docs = 0, unlabelled = 0, positives = 0, negatives = 0;
  double auc = 0;       // ROC AUC of the score for positive vs every other label (ties count half)
  double threshold = 0;
  double accuracy = 0;  // at threshold
  double precision = 0, recall = 0;  // of the positive label at threshold
  std::vector<QualityLabelScores> labels;  // sorted by label
  std::string to_table() const;
  std::string to_json() const;
};

// The area under the ROC curve of scores for positives against negatives (Mann-Whitney, ties
// counted half). 0.5 when either side is empty.
double roc_auc(std::vector<double> positives, std::vector<double> negatives);

// Throws a usage nlm::Error when no document has a label, or when the data lacks positives or
// negatives.
QualityEvalResult quality_eval(const std::vector<std::string>& files, const QualityEvalOptions& options);

}  // namespace nlm::curate
