// `nativelm lid train`: trains a fastText supervised language-ID model (libfasttext) from labelled
// JSONL, e.g. to tell Cantonese from Mandarin, which CLD2 cannot. Text is fed as ICU words (the
// same form the lid step predicts on, see lid.h), with character n-grams for robustness.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "corpus/read_options.h"
#include "core/options.h"

namespace fasttext {
class Args;
}
namespace nlm::text {
class WordSegmenter;
}

namespace nlm::curate {

struct LidTrainOptions {
  // How the labelled inputs are read (JSONL with text and label fields, usually).
  corpus::ReadOptions read;
  // JSON member holding each document's label (e.g. "yue", "zh").
  std::string label_field = "lang";
  // Where the model is written (.bin).
  std::string output = "lid.bin";
  // fastText hyper-parameters; the defaults suit a few labels and a few MB of text.
  int64_t epoch = 25;
  double lr = 0.5;
  int64_t dim = 32;
  int64_t word_ngrams = 2;
  int64_t minn = 1;  // character n-grams: 1..3 covers single Han characters and short words
  int64_t maxn = 3;
  int64_t bucket = 200000;
  int64_t threads = 1;  // 1 keeps training deterministic; more train faster
  int64_t seed = 1;
  // Product-quantise the model (fastText's .ftz): the embedding matrix of every n-gram bucket
  // shrinks about tenfold, for a little accuracy.
  bool quantize = false;
};

// Its flags, defaults and bounds (not the read options, which cli::add_read_options adds); the table
// in docs/curate.md comes from it.
void declare(opt::Schema& schema, LidTrainOptions& options);

struct LidTrainResult {
  uint64_t examples = 0;
  uint64_t unlabelled = 0;  // documents without the label field (skipped)
  std::map<std::string, uint64_t> labels;
  std::string summary() const;
};

// Writes the labelled documents of `files` as a fastText training file at `path`: one
// "__label__<label> <features>" line each, with the features from `features(text, seg, out)`.
// Documents without a usable label (missing, empty, or with whitespace) or without any feature
// are counted and skipped. Shared with `quality train`.
struct TrainingFileCounts {
  uint64_t examples = 0, unlabelled = 0, empty = 0;
  std::map<std::string, uint64_t> labels;
};
TrainingFileCounts write_training_file(
    const std::vector<std::string>& files, const corpus::ReadOptions& read, const std::string& label_field,
    const std::string& path, const std::function<void(std::string_view, text::WordSegmenter&, std::string&)>& features);

// Trains a supervised fastText model on args.input (one "__label__X words ..." line per example),
// optionally quantises it, and publishes it at args.output by rename, so a crash never leaves a
// torn model. Removes args.input in every case; fastText failures are runtime nlm::Errors. Shared
// with `quality train`.
void train_fasttext_model(const fasttext::Args& args, bool quantize);

// "trained on N documents (a: n, b: m); skipped K without a label", for both trainers.
std::string training_summary(uint64_t examples, const std::map<std::string, uint64_t>& labels, uint64_t unlabelled);

// Throws a usage nlm::Error when no labelled document is found.
LidTrainResult train_lid(const std::vector<std::string>& files, const LidTrainOptions& options);

}  // namespace nlm::curate
