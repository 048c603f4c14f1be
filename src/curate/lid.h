// The `lid` step: language identification. Sets the document's "lang" and "lang_score" fields
// and, when a language list or a minimum score is given, rejects documents outside them.
// Backends: CLD2 (built in, ~80 languages, no model file) and fastText supervised models (for
// example one trained with `nativelm lid train` to tell Cantonese from Mandarin), alone or as a
// second stage that decides the documents the first one labels with a confusable code.
#pragma once
#include <memory>
#include <optional>
#include <string>
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

struct LidOptions {
  // "cld2" or "fasttext" (needs `model`).
  std::string backend = "cld2";
  // fastText .bin/.ftz model; labels are "__label__<code>".
  std::string model;
  // Keep only these languages: ISO 639-1, 639-3 or BCP 47 codes (eu, eus, eu-ES, zh-TW), mapped
  // onto the labels the backend can emit (lang_codes.h); a code also keeps its variants, so "zh"
  // keeps "zh-Hant". A code the backend cannot emit is a usage error. Empty keeps every language.
  std::vector<std::string> languages;
  // Reject documents whose top language scores below this (0 = never). CLD2's score is the share
  // of the text in the top language, halved when CLD2 calls the result unreliable; fastText's is
  // the model's probability.
  double min_score = 0;
  // Only the first this many bytes are examined: CLD2 costs ~25 ns a byte, and its guess hardly
  // changes after a few kB of running text.
  int64_t max_bytes = 4096;
  // A second identifier for what the first confuses or lacks: when the first says one of
  // `refine_when` (codes as for `languages`, so zh also covers zh-Hant), the fastText model
  // `refine_model` decides instead (e.g. one trained on yue and zh: CLD2 cannot emit yue).
  std::string refine_model;
  std::vector<std::string> refine_when;
};

// Its keys (config files, pipeline stages), defaults and bounds; docs/curate.md's table comes from it.
void declare(opt::Schema& schema, LidOptions& options);

struct LangGuess {
  std::string lang;  // "un" when unknown
  double score = 0;
};

// The codes CLD2 (as linked) can emit, sorted, in BCP 47 spelling (he and jv where CLD2 says iw
// and jw). Read from CLD2's own tables; empty if they cannot be found.
const std::vector<std::string>& cld2_labels();

// One backend instance per thread (the fastText model itself is loaded once and shared).
class LanguageDetector {
 public:
  // Throws a usage nlm::Error for an unknown backend or a model that cannot be loaded.
  explicit LanguageDetector(const LidOptions& options);
  ~LanguageDetector();
  LangGuess detect(std::string_view text);
  // Up to k guesses, best first (CLD2 gives at most 3). `out` is replaced.
  void detect_top(std::string_view text, int k, std::vector<LangGuess>& out);
  // The labels this backend can emit (CLD2's codes or the model's labels), sorted; empty when
  // unknown.
  const std::vector<std::string>& labels() const;
  // "CLD2" or "the fastText model <path>", for messages.
  std::string name() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class LanguageId : public Step {
 public:
  explicit LanguageId(const LidOptions& options);
  std::string_view name() const override { return "lid"; }
  std::optional<Rejection> apply(corpus::Document& doc, DocContext& ctx) override;

 private:
  LidOptions opt_;
  LanguageDetector detector_;
  std::unique_ptr<LanguageDetector> refine_;  // the second identifier, when configured
  std::vector<std::string> refine_when_;       // the first identifier's labels it takes over
  std::vector<std::string> keep_;  // the labels opt_.languages selects
};

// `nativelm lid labels`.
struct LidLabelsOptions {
  // fastText model (from `nativelm lid train`); empty lists CLD2's labels.
  std::string model;
};

void declare(opt::Schema& schema, LidLabelsOptions& options);

// One line per label the identifier can emit, sorted: "code<TAB>English name" ("?" when the code
// is not in the table). CLD2's list is read from the tables it was linked with.
std::string lid_labels_text(const LidLabelsOptions& options);

// A fastText model, loaded once per path and shared by every thread that asks for it. A file that
// cannot be loaded is a usage error suggesting `hint` (e.g. "train one with 'nativelm lid train'").
std::shared_ptr<const fasttext::FastText> load_fasttext_model(const std::string& path, const std::string& hint);

// The text form fastText sees, in training and prediction alike: ICU words separated by single
// spaces, ASCII lower-cased (so unspaced Chinese gets word features too).
void fasttext_words(std::string_view text, text::WordSegmenter& seg, std::string& out);

}  // namespace nlm::curate
