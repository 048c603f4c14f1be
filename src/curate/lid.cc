// CLD2 and fastText behind one detect() call.
#include "curate/lid.h"

#include <cstdio>
// cstdio first: the CLD2 header uses FILE without including it.
#include <cld2/public/compact_lang_det.h>
#include <fasttext/fasttext.h>

#include <cmath>
#include <map>
#include <mutex>
#include <sstream>

#include "core/options.h"
#include "core/error.h"
#include "curate/doc_context.h"
#include "curate/text_util.h"
#include "text/words.h"

namespace nlm::curate {

void declare(opt::Schema& s, LidOptions& o) {
  s.choice("backend", o.backend, {{"cld2", "cld2"}, {"fasttext", "fasttext"}},
           "Language identifier: cld2 (about 80 languages) or fasttext (needs model)");
  s.add("model", o.model, "fastText model file (backend fasttext), e.g. from nativelm lid train");
  s.add("languages", o.languages, "Keep only these language codes; a code keeps its variants (empty keeps all)");
  s.add("min_score", o.min_score, "Reject documents whose top language scores below this (0 = never)").range(0, 1);
  s.add("max_bytes", o.max_bytes, "Bytes of each document examined").min(1);
  s.check([&o] {
    if (o.backend == "fasttext" && o.model.empty())
      opt::fail("model", "is required with backend fasttext", "name a fastText model file or use backend cld2");
  });
}

void fasttext_words(std::string_view text, text::WordSegmenter& seg, std::string& out) {
  static thread_local std::vector<text::WordSpan> words;
  seg.segment(text, text::AsciiWordRule::Uax29, words);
  out.clear();
  for (const auto& w : words) {
    if (!out.empty()) out.push_back(' ');
    size_t at = out.size();
    out.append(text.substr(w.begin, w.size));
    for (size_t i = at; i < out.size(); ++i)
      if (out[i] >= 'A' && out[i] <= 'Z') out[i] = static_cast<char>(out[i] + 32);
  }
}

namespace {
std::shared_ptr<const fasttext::FastText> load_fasttext(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<const fasttext::FastText>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto p = cache[path].lock()) return p;
  auto ft = std::make_shared<fasttext::FastText>();
  try {
    ft->loadModel(path);
  } catch (const std::exception& e) {
    usage_error(std::string("cannot load fastText model: ") + e.what(), path,
                "train one with 'nativelm lid train' or check the path");
  }
  cache[path] = ft;
  return ft;
}

// Cuts `text` to at most n bytes without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, size_t n) {
  if (text.size() <= n) return text;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}
}  // namespace

struct LanguageDetector::Impl {
  LidOptions opt;
  std::shared_ptr<const fasttext::FastText> ft;
  std::unique_ptr<text::WordSegmenter> seg;
  std::string line;
  std::vector<std::pair<fasttext::real, std::string>> predictions;
};

LanguageDetector::LanguageDetector(const LidOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->opt = options;
  if (options.backend == "fasttext") {
    if (options.model.empty())
      usage_error("lid backend fasttext needs a model", "lid.model", "set lid.model or use backend cld2");
    impl_->ft = load_fasttext(options.model);
    impl_->seg = std::make_unique<text::WordSegmenter>();
  } else if (options.backend != "cld2") {
    usage_error("unknown lid backend '" + options.backend + "'", "lid.backend", "use cld2 or fasttext");
  }
}

LanguageDetector::~LanguageDetector() = default;

LangGuess LanguageDetector::detect(std::string_view text) {
  text = utf8_prefix(text, static_cast<size_t>(std::max<int64_t>(impl_->opt.max_bytes, 1)));
  LangGuess g{"un", 0};
  if (impl_->ft) {
    fasttext_words(text, *impl_->seg, impl_->line);
    impl_->line.push_back('\n');
    std::istringstream in(impl_->line);
    impl_->predictions.clear();
    impl_->ft->predictLine(in, impl_->predictions, 1, 0.0);
    if (!impl_->predictions.empty()) {
      std::string label = impl_->predictions[0].second;
      if (starts_with(label, "__label__")) label = label.substr(9);
      g.lang = label;
      g.score = std::min(1.0, std::max(0.0, static_cast<double>(impl_->predictions[0].first)));
    }
    return g;
  }
  CLD2::Language lang3[3];
  int percent3[3];
  int text_bytes = 0;
  bool reliable = false;
  CLD2::Language top = CLD2::ExtDetectLanguageSummary(text.data(), static_cast<int>(text.size()), true,
                                                      lang3, percent3, &text_bytes, &reliable);
  if (top == CLD2::UNKNOWN_LANGUAGE) return g;
  g.lang = CLD2::LanguageCode(top);
  int percent = lang3[0] == top ? percent3[0] : 0;
  g.score = percent / 100.0 * (reliable ? 1.0 : 0.5);
  return g;
}

LanguageId::LanguageId(const LidOptions& options) : opt_(options), detector_(options) {}

std::optional<Rejection> LanguageId::apply(corpus::Document& doc, DocContext& ctx) {
  LangGuess g = detector_.detect(doc.text);
  doc.set_string_field("lang", g.lang);
  doc.set_number_field("lang_score", std::round(g.score * 10000) / 10000);
  ctx.set_lang(g.lang, g.score);
  if (!opt_.languages.empty()) {
    bool ok = false;
    for (const auto& l : opt_.languages)
      if (g.lang == l || (starts_with(g.lang, l) && g.lang.size() > l.size() &&
                          (g.lang[l.size()] == '-' || g.lang[l.size()] == '_')))
        ok = true;
    if (!ok) return Rejection{"lid.language", g.score};
  }
  if (g.score < opt_.min_score) return Rejection{"lid.min_score", g.score};
  return std::nullopt;
}

}  // namespace nlm::curate
