// The `lid` step: language identification. Sets the document's "lang" and "lang_score" fields
// and, when a language list or a minimum score is given, rejects documents outside them.
// Backends: CLD2 (built in, ~80 languages, no model file) and fastText supervised models (for
// example one trained with `nativelm lid train` to tell Cantonese from Mandarin).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/options.h"
#include "curate/step.h"

namespace nlm::text {
class WordSegmenter;
}

namespace nlm::curate {

struct LidOptions {
  // "cld2" or "fasttext" (needs `model`).
  std::string backend = "cld2";
  // fastText .bin/.ftz model; labels are "__label__<code>".
  std::string model;
  // Keep only these language codes (CLD2 codes: en, de, zh, zh-Hant, ...; a code also matches
  // its variants, so "zh" keeps "zh-Hant"). Empty keeps every language.
  std::vector<std::string> languages;
  // Reject documents whose top language scores below this (0 = never). CLD2's score is the share
  // of the text in the top language, halved when CLD2 calls the result unreliable; fastText's is
  // the model's probability.
  double min_score = 0;
  // Only the first this many bytes are examined: CLD2 costs ~25 ns a byte, and its guess hardly
  // changes after a few kB of running text.
  int64_t max_bytes = 4096;
};

// Its keys (config files, pipeline stages), defaults and bounds; docs/curate.md's table comes from it.
void declare(opt::Schema& schema, LidOptions& options);

struct LangGuess {
  std::string lang;  // "un" when unknown
  double score = 0;
};

// One backend instance per thread (the fastText model itself is loaded once and shared).
class LanguageDetector {
 public:
  // Throws a usage nlm::Error for an unknown backend or a model that cannot be loaded.
  explicit LanguageDetector(const LidOptions& options);
  ~LanguageDetector();
  LangGuess detect(std::string_view text);

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
};

// The text form fastText sees, in training and prediction alike: ICU words separated by single
// spaces, ASCII lower-cased (so unspaced Chinese gets word features too).
void fasttext_words(std::string_view text, text::WordSegmenter& seg, std::string& out);

}  // namespace nlm::curate
