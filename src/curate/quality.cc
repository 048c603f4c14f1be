// The quality classifier's text form, its scorer over a shared fastText model, and the step.
#include "curate/quality.h"

#include <fasttext/dictionary.h>
#include <fasttext/fasttext.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "curate/doc_context.h"
#include "curate/lid.h"
#include "curate/text_util.h"
#include "text/words.h"

namespace nlm::curate {

void declare(opt::Schema& s, QualityOptions& o) {
  s.add("model", o.model, "fastText model from nativelm quality train (required)");
  s.add("label", o.label, "The label whose probability is the score (the good class)");
  s.add("threshold", o.threshold, "Remove documents scoring below this (0 keeps all)").range(0, 1);
  s.add("keep_fraction", o.keep_fraction,
        "Above 0: keep this best-scoring share of the documents reaching the step, over all shards "
        "(a first pass finds the cut; replaces threshold)")
      .range(0, 1);
  s.add("field", o.field, "JSON member the score is written to");
  s.add("max_bytes", o.max_bytes, "Bytes of each document scored").min(1);
  s.check([&o] {
    if (o.model.empty()) opt::fail("model", "is required", "train one with 'nativelm quality train'");
    if (o.field.empty()) opt::fail("field", "must not be empty");
  });
}

namespace {

// The tokens of a gap between two words, in order: each run of non-space bytes (punctuation,
// symbols) cut to 8 bytes on a character boundary, and <nl> or <p> for a space run holding one or
// more line breaks.
void gap_tokens(std::string_view gap, std::string& out) {
  auto token = [&out](std::string_view t) {
    if (!out.empty()) out.push_back(' ');
    out.append(t);
  };
  auto space = [](char c) { return is_space_byte(c) || static_cast<unsigned char>(c) < 0x20; };
  size_t i = 0;
  while (i < gap.size()) {
    int newlines = 0;
    for (; i < gap.size() && space(gap[i]); ++i) newlines += gap[i] == '\n';
    if (newlines) token(newlines > 1 ? "<p>" : "<nl>");
    size_t start = i;
    while (i < gap.size() && !space(gap[i])) ++i;
    if (i > start) token(utf8_prefix(gap.substr(start, i - start), 8));
  }
}
}  // namespace

void quality_words(std::string_view text, size_t max_bytes, text::WordSegmenter& seg, std::string& out) {
  static thread_local std::vector<text::WordSpan> words;
  text = utf8_prefix(text, max_bytes);
  seg.segment(text, text::AsciiWordRule::Uax29, words);
  out.clear();
  size_t at = 0;
  for (const auto& w : words) {
    gap_tokens(text.substr(at, w.begin - at), out);
    if (!out.empty()) out.push_back(' ');
    size_t from = out.size();
    out.append(text.substr(w.begin, w.size));
    for (size_t i = from; i < out.size(); ++i) {
      char& c = out[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      else if (c >= '1' && c <= '9') c = '0';
    }
    at = w.begin + w.size;
  }
  gap_tokens(text.substr(at), out);
}

QualityScorer::QualityScorer(const std::string& model, const std::string& label, int64_t max_bytes)
    : seg_(std::make_unique<text::WordSegmenter>()),
      label_("__label__" + label),
      max_bytes_(static_cast<size_t>(std::max<int64_t>(1, max_bytes))) {
  if (model.empty())
    usage_error("the quality step needs a model", "quality.model", "train one with 'nativelm quality train'");
  ft_ = load_fasttext_model(model, "train one with 'nativelm quality train' or check the path");
  auto dict = ft_->getDictionary();
  bool found = false;
  for (int32_t i = 0; i < dict->nlabels(); ++i) {
    std::string l = dict->getLabel(i);
    found |= l == label_;
    labels_.push_back(starts_with(l, "__label__") ? l.substr(9) : l);
  }
  std::sort(labels_.begin(), labels_.end());
  if (!found) {
    std::string all;
    for (const auto& l : labels_) all += (all.empty() ? "" : ", ") + l;
    usage_error("the quality model has no label '" + label + "'", model, "its labels are: " + all);
  }
}

QualityScorer::~QualityScorer() = default;

double QualityScorer::score(std::string_view text) {
  quality_words(text, max_bytes_, *seg_, line_);
  line_.push_back('\n');
  std::istringstream in(line_);
  predictions_.clear();
  // Every label, so the positive one is always among them; fastText adds 1e-5 to probabilities.
  ft_->predictLine(in, predictions_, static_cast<int32_t>(labels_.size()), 0.0);
  for (const auto& [prob, l] : predictions_)
    if (l == label_) return round_quality(std::clamp(static_cast<double>(prob) - 1e-5, 0.0, 1.0));
  return 0;
}

QualityStep::QualityStep(const QualityOptions& options)
    : opt_(options),
      scorer_(options.model, options.label, options.max_bytes),
      cut_(static_cast<int64_t>(options.threshold * kQualityScale + 0.5)) {}

std::optional<Rejection> QualityStep::apply(corpus::Document& doc, DocContext&) {
  double s = scorer_.score(doc.text);
  doc.set_number_field(opt_.field, s);
  if (static_cast<int64_t>(s * kQualityScale + 0.5) < cut_)
    return Rejection{opt_.keep_fraction > 0 ? "quality.keep_fraction" : "quality.threshold", s};
  return std::nullopt;
}

}  // namespace nlm::curate
