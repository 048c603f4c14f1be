// CLD2 and fastText behind one detect() call.
#include "curate/lid.h"

#include <cstdio>
// cstdio first: the CLD2 header uses FILE without including it.
#include <cld2/internal/cld2tablesummary.h>
#include <cld2/public/compact_lang_det.h>
#include <dlfcn.h>
#include <fasttext/dictionary.h>
#include <fasttext/fasttext.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "core/options.h"
#include "core/error.h"
#include "curate/doc_context.h"
#include "curate/lang_codes.h"
#include "curate/text_util.h"
#include "text/words.h"

namespace nlm::curate {

void declare(opt::Schema& s, LidOptions& o) {
  s.choice("backend", o.backend, {{"cld2", "cld2"}, {"fasttext", "fasttext"}},
           "Language identifier: cld2 (about 100 languages; nativelm lid labels lists them) or fasttext (needs model)");
  s.add("model", o.model, "fastText model file (backend fasttext), e.g. from nativelm lid train");
  s.add("languages", o.languages,
        "Keep only these languages: ISO 639-1, 639-3 or BCP 47 codes; a code keeps its variants (empty keeps all)");
  s.add("min_score", o.min_score, "Reject documents whose top language scores below this (0 = never)").range(0, 1);
  s.add("max_bytes", o.max_bytes, "Bytes of each document examined").min(1);
  s.add("refine_model", o.refine_model,
        "fastText model that decides the documents the first identifier labels with a refine_when code");
  s.add("refine_when", o.refine_when,
        "Codes of the first identifier that refine_model takes over, e.g. zh for a yue/zh model");
  s.check([&o] {
    if (o.backend == "fasttext" && o.model.empty())
      opt::fail("model", "is required with backend fasttext", "name a fastText model file or use backend cld2");
    if (o.refine_model.empty() != o.refine_when.empty())
      opt::fail(o.refine_model.empty() ? "refine_model" : "refine_when", "is needed with the other refine key",
                "give both: a model and the first identifier's codes it decides, e.g. refine_when: [zh]");
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

std::shared_ptr<const fasttext::FastText> load_fasttext_model(const std::string& path, const std::string& hint) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<const fasttext::FastText>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto p = cache[path].lock()) return p;
  auto ft = std::make_shared<fasttext::FastText>();
  try {
    // loadModel(path) checks the magic number and version (and records the version), but reads a
    // truncated file without noticing, leaving matrices that abort at the first prediction. So
    // the body is read again from a stream this code can check for a short read.
    ft->loadModel(path);
    std::ifstream in(path, std::ios::binary);
    in.seekg(2 * sizeof(int32_t));  // magic and version, checked above
    ft->loadModel(in);
    if (!in) throw std::runtime_error("the file is truncated");
  } catch (const std::exception& e) {
    usage_error(std::string("cannot load fastText model: ") + e.what(), path, hint);
  }
  cache[path] = ft;
  return ft;
}

namespace {
// CLD2's label for a language: its code, with the withdrawn ISO codes it still writes (iw for
// Hebrew, jw for Javanese) in today's spelling, so outputs and --lang agree with BCP 47.
const std::string& cld2_label(CLD2::Language lang) {
  static const std::vector<std::string> codes = [] {
    std::vector<std::string> v(CLD2::NUM_LANGUAGES);
    for (int i = 0; i < CLD2::NUM_LANGUAGES; ++i) {
      std::string code = CLD2::LanguageCode(static_cast<CLD2::Language>(i));
      v[static_cast<size_t>(i)] = code == "iw" ? "he" : code == "jw" ? "jv" : code;
    }
    return v;
  }();
  static const std::string unknown = "un";
  return lang >= 0 && lang < CLD2::NUM_LANGUAGES ? codes[static_cast<size_t>(lang)] : unknown;
}

// A language of a table summary's "lang-Script" entry ("eu-Latn", "zh-Hant-Hani", "zh-Hans"): the
// longest prefix CLD2 knows as a code.
CLD2::Language cld2_entry_language(std::string entry) {
  while (!entry.empty()) {
    CLD2::Language l = CLD2::GetLanguageFromName(entry.c_str());
    if (l != CLD2::UNKNOWN_LANGUAGE) return l;
    size_t dash = entry.rfind('-');
    if (dash == std::string::npos) break;
    entry.resize(dash);
  }
  return CLD2::UNKNOWN_LANGUAGE;
}
}  // namespace

const std::vector<std::string>& cld2_labels() {
  static const std::vector<std::string> labels = [] {
    // Each scoring table's summary (cld2tablesummary.h) lists the "lang-Script" pairs it scores.
    // They are looked up at run time, not linked, so that this sees the tables CLD2 itself was
    // bound to (libcld2's ~80 languages or libcld2_full's ~160) and changes no binding.
    std::set<std::string> codes;
    for (const char* symbol :
         {"_ZN4CLD29kQuad_objE", "_ZN4CLD210kQuad_obj2E", "_ZN4CLD214kDeltaOcta_objE", "_ZN4CLD215kDeltaOcta_obj2E",
          "_ZN4CLD217kDistinctOcta_objE", "_ZN4CLD218kDistinctOcta_obj2E", "_ZN4CLD215kCjkDeltaBi_objE",
          "_ZN4CLD220kDistinctBiTable_objE", "_ZN4CLD214kCjkCompat_objE", "_ZN4CLD224cld_generated_CjkUni_objE"}) {
      const auto* table = static_cast<const CLD2::CLD2TableSummary*>(dlsym(RTLD_DEFAULT, symbol));
      if (!table || !table->kRecognizedLangScripts) continue;
      std::istringstream entries(table->kRecognizedLangScripts);
      std::string entry;
      while (entries >> entry) {
        CLD2::Language l = cld2_entry_language(entry);
        if (l != CLD2::UNKNOWN_LANGUAGE && cld2_label(l) != "un") codes.insert(cld2_label(l));
      }
    }
    if (codes.empty()) return std::vector<std::string>();
    // Scripts of one language (Greek, Thai, Georgian, ...) are labelled by the script alone.
    for (int s = 0; s < CLD2::NUM_ULSCRIPTS; ++s) {
      auto script = static_cast<CLD2::ULScript>(s);
      if (CLD2::ULScriptRecognitionType(script) != CLD2::RTypeOne) continue;
      CLD2::Language l = CLD2::DefaultLanguage(script);
      if (l != CLD2::UNKNOWN_LANGUAGE && cld2_label(l) != "un") codes.insert(cld2_label(l));
    }
    return std::vector<std::string>(codes.begin(), codes.end());
  }();
  return labels;
}

struct LanguageDetector::Impl {
  LidOptions opt;
  std::shared_ptr<const fasttext::FastText> ft;
  std::unique_ptr<text::WordSegmenter> seg;
  std::string line;
  std::vector<std::pair<fasttext::real, std::string>> predictions;
  std::vector<std::string> labels;  // the model's, sorted (CLD2's are cld2_labels())
  std::vector<LangGuess> top;
};

LanguageDetector::LanguageDetector(const LidOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->opt = options;
  if (options.backend == "fasttext") {
    if (options.model.empty())
      usage_error("lid backend fasttext needs a model", "lid.model", "set lid.model or use backend cld2");
    impl_->ft = load_fasttext_model(options.model, "train one with 'nativelm lid train' or check the path");
    impl_->seg = std::make_unique<text::WordSegmenter>();
    auto dict = impl_->ft->getDictionary();
    for (int32_t i = 0; i < dict->nlabels(); ++i) {
      std::string label = dict->getLabel(i);
      impl_->labels.push_back(starts_with(label, "__label__") ? label.substr(9) : label);
    }
    std::sort(impl_->labels.begin(), impl_->labels.end());
  } else if (options.backend != "cld2") {
    usage_error("unknown lid backend '" + options.backend + "'", "lid.backend", "use cld2 or fasttext");
  }
}

LanguageDetector::~LanguageDetector() = default;

const std::vector<std::string>& LanguageDetector::labels() const {
  return impl_->ft ? impl_->labels : cld2_labels();
}

std::string LanguageDetector::name() const {
  return impl_->ft ? "the fastText model " + impl_->opt.model : "CLD2";
}

LangGuess LanguageDetector::detect(std::string_view text) {
  detect_top(text, 1, impl_->top);
  return impl_->top.empty() ? LangGuess{"un", 0} : impl_->top[0];
}

void LanguageDetector::detect_top(std::string_view text, int k, std::vector<LangGuess>& out) {
  text = utf8_prefix(text, static_cast<size_t>(std::max<int64_t>(impl_->opt.max_bytes, 1)));
  out.clear();
  k = std::max(k, 1);
  if (impl_->ft) {
    fasttext_words(text, *impl_->seg, impl_->line);
    impl_->line.push_back('\n');
    std::istringstream in(impl_->line);
    impl_->predictions.clear();
    impl_->ft->predictLine(in, impl_->predictions, k, 0.0);
    for (const auto& [prob, raw] : impl_->predictions) {
      std::string label = starts_with(raw, "__label__") ? raw.substr(9) : raw;
      out.push_back({std::move(label), std::min(1.0, std::max(0.0, static_cast<double>(prob)))});
    }
    return;
  }
  CLD2::Language lang3[3];
  int percent3[3];
  int text_bytes = 0;
  bool reliable = false;
  CLD2::Language top = CLD2::ExtDetectLanguageSummary(text.data(), static_cast<int>(text.size()), true,
                                                      lang3, percent3, &text_bytes, &reliable);
  if (top == CLD2::UNKNOWN_LANGUAGE) return;
  // The score is the share of the text in that language, halved when CLD2 calls it unreliable.
  const double trust = reliable ? 1.0 : 0.5;
  out.push_back({cld2_label(top), (lang3[0] == top ? percent3[0] : 0) / 100.0 * trust});
  for (int i = 0; i < 3 && static_cast<int>(out.size()) < k; ++i)
    if (lang3[i] != top && lang3[i] != CLD2::UNKNOWN_LANGUAGE && percent3[i] > 0)
      out.push_back({cld2_label(lang3[i]), percent3[i] / 100.0 * trust});
}

void declare(opt::Schema& s, LidLabelsOptions& o) {
  s.add("model", o.model, "fastText model (from nativelm lid train); empty lists CLD2's").flag("--lid-model");
}

std::string lid_labels_text(const LidLabelsOptions& o) {
  LidOptions lid;
  lid.backend = o.model.empty() ? "cld2" : "fasttext";
  lid.model = o.model;
  LanguageDetector detector(lid);
  std::string t;
  for (const auto& label : detector.labels()) {
    std::string name = language_name(label);
    t += label + "\t" + (name.empty() ? "?" : name) + "\n";
  }
  if (t.empty()) runtime_error("cannot list the labels of " + detector.name(), "lid labels", "");
  return t;
}

LanguageId::LanguageId(const LidOptions& options) : opt_(options), detector_(options) {
  std::vector<std::string> labels = detector_.labels();
  std::string name = detector_.name();
  if (!opt_.refine_model.empty()) {
    LidOptions second = opt_;
    second.backend = "fasttext";
    second.model = opt_.refine_model;
    refine_ = std::make_unique<LanguageDetector>(second);
    if (!labels.empty())
      refine_when_ = resolve_lang_codes(opt_.refine_when, labels, detector_.name(), "refine_when");
    else
      refine_when_ = opt_.refine_when;
    // What the two can say together: the first's labels it keeps, and the second's.
    std::erase_if(labels, [&](const std::string& l) {
      return std::find(refine_when_.begin(), refine_when_.end(), l) != refine_when_.end();
    });
    labels.insert(labels.end(), refine_->labels().begin(), refine_->labels().end());
    std::sort(labels.begin(), labels.end());
    labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
    name += " then " + refine_->name();
  }
  // The command line names this "--lang"; a config file's steps.lid.languages is the same list.
  if (!detector_.labels().empty())
    keep_ = resolve_lang_codes(opt_.languages, labels, name, "lang");
  else
    keep_ = opt_.languages;  // the backend's labels are unknown: codes are taken as written
}

std::optional<Rejection> LanguageId::apply(corpus::Document& doc, DocContext& ctx) {
  LangGuess g = detector_.detect(doc.text);
  if (refine_ && std::find(refine_when_.begin(), refine_when_.end(), g.lang) != refine_when_.end()) {
    doc.set_string_field("lang_first", g.lang);
    g = refine_->detect(doc.text);
    ctx.count("lid", "refined");
  }
  doc.set_string_field("lang", g.lang);
  doc.set_number_field("lang_score", std::round(g.score * 10000) / 10000);
  ctx.set_lang(g.lang, g.score);
  if (!keep_.empty() && std::find(keep_.begin(), keep_.end(), g.lang) == keep_.end())
    return Rejection{"lid.language", g.score};
  if (g.score < opt_.min_score) return Rejection{"lid.min_score", g.score};
  return std::nullopt;
}

}  // namespace nlm::curate
