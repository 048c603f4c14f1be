// Reads documents, runs one LanguageDetector over them, and writes or scores its guesses.
#include "curate/lid_eval.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/compressed_stream.h"
#include "core/error.h"
#include "corpus/writer.h"
#include "curate/lang_codes.h"
#include "curate/lid.h"
#include "curate/source.h"

namespace nlm::curate {

namespace {

// The two keys both commands share with the lid step.
void declare_detector(opt::Schema& s, std::string& model, int64_t& max_bytes) {
  s.add("model", model, "fastText model (from nativelm lid train); empty uses CLD2").flag("--lid-model");
  s.add("max_bytes", max_bytes, "Bytes of each document examined (as the lid step's max_bytes)").min(1);
}

LidOptions detector_options(const std::string& model, int64_t max_bytes) {
  LidOptions o;
  o.backend = model.empty() ? "cld2" : "fasttext";
  o.model = model;
  o.max_bytes = max_bytes;
  return o;
}

double rounded(double x) { return std::round(x * 10000) / 10000; }

std::string read_problems(const corpus::ReadStats& r) {
  std::string s;
  if (r.skipped()) s += "; skipped " + std::to_string(r.skipped()) + " malformed records";
  if (r.invalid_utf8_docs) s += "; repaired " + std::to_string(r.invalid_utf8_docs) + " documents with invalid UTF-8";
  if (r.truncated_files) s += "; " + std::to_string(r.truncated_files) + " truncated files";
  return s;
}

// Calls fn(doc) for every document of `files`, in order, and returns the read counts. Files go
// through curate's sources, so WARC pages and wiki articles are documents as curate sees them
// (pages that give no text are skipped).
template <class Fn>
corpus::ReadStats for_each_document(const std::vector<std::string>& files, const corpus::ReadOptions& read, Fn fn) {
  corpus::Diagnostics diag(read.max_reported, read.strict);
  corpus::ReadStats total;
  corpus::Document doc;
  const HtmlOptions html;
  for (const auto& f : files) {
    auto source = open_source(f, read, html, &diag);
    while (source->next(doc))
      if (!source->rejection()) fn(doc);
    total.merge(source->read_stats());
  }
  return total;
}

}  // namespace

void declare(opt::Schema& s, LidPredictOptions& o) {
  declare_detector(s, o.model, o.max_bytes);
  s.add("top_k", o.top_k, "Guesses per document; above 1 they also go to lang_top (CLD2 gives at most 3)")
      .range(1, 1000);
  s.add("output", o.output, "JSONL file to write (codec from the extension); empty writes to standard output")
      .flag("-o,--output");
}

void declare(opt::Schema& s, LidEvalOptions& o) {
  declare_detector(s, o.model, o.max_bytes);
  s.add("label_field", o.label_field, "JSON member holding each document's true language (any --lang code)");
  s.add("json", o.json, "Also write the figures as JSON to this file");
  s.add("top_confusions", o.top_confusions, "How many of the most frequent confusions to list").range(0, 100000);
}

std::string LidPredictResult::summary() const {
  std::string s = "labelled " + std::to_string(docs) + " documents";
  std::vector<std::pair<uint64_t, std::string>> by_count;
  for (const auto& [lang, n] : langs) by_count.push_back({n, lang});
  std::sort(by_count.begin(), by_count.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (size_t i = 0; i < by_count.size() && i < 10; ++i)
    s += (i ? ", " : " (") + by_count[i].second + ": " + std::to_string(by_count[i].first);
  if (by_count.size() > 10) s += ", ...";
  if (!by_count.empty()) s += ")";
  return s + read_problems(read);
}

LidPredictResult lid_predict(const std::vector<std::string>& files, const LidPredictOptions& o) {
  LanguageDetector detector(detector_options(o.model, o.max_bytes));
  corpus::WriteOptions write;
  write.text_field = o.read.text_field;
  write.id_field = o.read.id_field;
  std::unique_ptr<corpus::JsonlWriter> file;
  if (!o.output.empty()) file = std::make_unique<corpus::JsonlWriter>(o.output, write);
  LidPredictResult r;
  std::vector<LangGuess> top;
  std::string buffer;
  auto flush = [&] {
    if (buffer.empty()) return;
    if (std::fwrite(buffer.data(), 1, buffer.size(), stdout) != buffer.size())
      runtime_error("cannot write to standard output", "lid predict", errno_text(errno));
    buffer.clear();
  };
  r.read = for_each_document(files, o.read, [&](corpus::Document& doc) {
    detector.detect_top(doc.text, static_cast<int>(o.top_k), top);
    const LangGuess best = top.empty() ? LangGuess{"un", 0} : top[0];
    doc.set_string_field("lang", best.lang);
    doc.set_number_field("lang_score", rounded(best.score));
    if (o.top_k > 1) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const auto& g : top) list.push_back({{"lang", g.lang}, {"score", rounded(g.score)}});
      doc.set_field("lang_top", list.dump());
    }
    ++r.docs;
    ++r.langs[best.lang];
    if (file) {
      file->write(doc);
    } else {
      corpus::append_jsonl(buffer, doc, write);
      if (buffer.size() >= (1 << 16)) flush();
    }
  });
  if (file) file->commit();
  flush();
  std::fflush(stdout);
  return r;
}

LidEvalResult lid_eval(const std::vector<std::string>& files, const LidEvalOptions& o) {
  LanguageDetector detector(detector_options(o.model, o.max_bytes));
  const std::vector<std::string>& labels = detector.labels();
  LidEvalResult r;
  r.lid = detector.name();
  // Each label as the data writes it: its class (how the table names it) and the identifier's
  // labels that count as right for it.
  struct Gold {
    std::string cls;
    std::vector<std::string> accepts;
  };
  std::map<std::string, Gold> golds;
  std::map<std::pair<std::string, std::string>, uint64_t> pairs;  // (data label, predicted label)
  r.read = for_each_document(files, o.read, [&](corpus::Document& doc) {
    ++r.docs;
    auto label = doc.string_field(o.label_field);
    if (!label || label->empty()) {
      ++r.unlabelled;
      return;
    }
    auto gold = golds.find(*label);
    if (gold == golds.end()) {
      Gold g;
      g.accepts = labels.empty() ? std::vector<std::string>{*label} : match_lang_labels(*label, labels);
      // Named as the identifier names it when one label answers (es-ES and spa are es, eus is eu
      // even for a model that says eus), else in BCP 47 spelling (zh, which CLD2 splits in two).
      g.cls = canonical_lang_code(g.accepts.size() == 1 ? g.accepts[0] : *label);
      gold = golds.emplace(*label, std::move(g)).first;
    }
    std::string predicted = detector.detect(doc.text).lang;
    if (gold->second.accepts.empty()) {
      ++r.unsupported[gold->second.cls][predicted];
      return;
    }
    ++pairs[{*label, predicted}];
  });
  if (r.docs == r.unlabelled)
    usage_error("no document has a '" + o.label_field + "' label", "lid eval",
                "give each document its language in '" + o.label_field + "' (or set --label-field)");

  // A prediction counts for the class it was right for; a wrong one for the class that accepts
  // it most narrowly (zh-Hant rather than zh), else for itself in BCP 47 spelling.
  std::map<std::string, std::set<std::string>> class_accepts;
  for (const auto& [label, g] : golds) class_accepts[g.cls].insert(g.accepts.begin(), g.accepts.end());
  auto class_of_prediction = [&](const std::string& label) {
    std::string best;
    size_t width = SIZE_MAX;
    for (const auto& [cls, ok] : class_accepts)
      if (ok.count(label) && ok.size() < width) {
        best = cls;
        width = ok.size();
      }
    return best.empty() ? canonical_lang_code(label) : best;
  };
  std::map<std::string, LidLanguageScore> scores;
  std::map<std::pair<std::string, std::string>, uint64_t> confusions;
  for (const auto& [key, n] : pairs) {
    const Gold& g = golds.at(key.first);
    const std::string& predicted = key.second;
    bool right = std::find(g.accepts.begin(), g.accepts.end(), predicted) != g.accepts.end();
    std::string as = right ? g.cls : class_of_prediction(predicted);
    scores[g.cls].support += n;
    scores[as].predicted += n;
    r.scored += n;
    if (right) {
      scores[g.cls].correct += n;
      r.correct += n;
    } else {
      confusions[{g.cls, as}] += n;
    }
  }
  double f1_sum = 0;
  size_t with_support = 0;
  for (auto& [lang, s] : scores) {
    s.lang = lang;
    s.precision = s.predicted ? static_cast<double>(s.correct) / static_cast<double>(s.predicted) : 0;
    s.recall = s.support ? static_cast<double>(s.correct) / static_cast<double>(s.support) : 0;
    s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0;
    if (s.support) {
      f1_sum += s.f1;
      ++with_support;
    }
    r.languages.push_back(s);
  }
  std::sort(r.languages.begin(), r.languages.end(), [](const auto& a, const auto& b) {
    return a.support != b.support ? a.support > b.support : a.lang < b.lang;
  });
  r.accuracy = r.scored ? static_cast<double>(r.correct) / static_cast<double>(r.scored) : 0;
  r.macro_f1 = with_support ? f1_sum / static_cast<double>(with_support) : 0;
  for (const auto& [key, n] : confusions) r.confusions.push_back({key.first, key.second, n});
  std::stable_sort(r.confusions.begin(), r.confusions.end(),
                   [](const auto& a, const auto& b) { return a.count > b.count; });
  if (r.confusions.size() > static_cast<size_t>(o.top_confusions))
    r.confusions.resize(static_cast<size_t>(o.top_confusions));
  if (!o.json.empty()) write_file_atomic(o.json, r.to_json() + "\n");
  return r;
}

namespace {

std::string fixed(double x, int digits = 4) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, x);
  return b;
}

std::string padded(std::string s, size_t width, bool right = false) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

std::string named(const std::string& code) {
  std::string name = language_name(code);
  return name.empty() ? code : code + " (" + name + ")";
}

}  // namespace

std::string LidEvalResult::to_table() const {
  uint64_t unsupported_docs = 0;
  for (const auto& [cls, preds] : unsupported)
    for (const auto& [p, n] : preds) unsupported_docs += n;
  std::string t = "lid eval of " + lid + ": " + std::to_string(docs) + " documents, " + std::to_string(scored) +
                  " scored";
  if (unlabelled) t += ", " + std::to_string(unlabelled) + " without a label";
  if (unsupported_docs) t += ", " + std::to_string(unsupported_docs) + " in languages it cannot emit";
  t += read_problems(read) + "\n";
  t += "accuracy " + fixed(accuracy) + " (" + std::to_string(correct) + "/" + std::to_string(scored) +
       "), macro F1 " + fixed(macro_f1) + "\n\n";
  size_t name_width = 4;
  for (const auto& l : languages) name_width = std::max(name_width, language_name(l.lang).size());
  size_t code_width = 4;
  for (const auto& l : languages) code_width = std::max(code_width, l.lang.size());
  t += padded("lang", code_width) + "  " + padded("name", name_width) +
       "  support  predicted  precision  recall      f1\n";
  for (const auto& l : languages)
    t += padded(l.lang, code_width) + "  " + padded(language_name(l.lang), name_width) + "  " +
         padded(std::to_string(l.support), 7, true) + "  " + padded(std::to_string(l.predicted), 9, true) + "  " +
         padded(fixed(l.precision), 9, true) + "  " + padded(fixed(l.recall), 6, true) + "  " +
         padded(fixed(l.f1), 6, true) + "\n";
  if (!confusions.empty()) {
    t += "\ntop confusions (true -> predicted: documents)\n";
    for (const auto& c : confusions)
      t += "  " + named(c.gold) + " -> " + named(c.predicted) + ": " + std::to_string(c.count) + "\n";
  }
  if (!unsupported.empty()) {
    t += "\nlabels " + lid + " cannot emit (not scored; what it said instead)\n";
    for (const auto& [cls, preds] : unsupported) {
      t += "  " + named(cls) + ":";
      for (const auto& [p, n] : preds) t += " " + p + " " + std::to_string(n);
      t += "\n";
    }
  }
  return t;
}

std::string LidEvalResult::to_json() const {
  nlohmann::ordered_json j;
  j["lid"] = lid;
  j["documents"] = docs;
  j["unlabelled"] = unlabelled;
  j["scored"] = scored;
  j["correct"] = correct;
  j["accuracy"] = accuracy;
  j["macro_f1"] = macro_f1;
  nlohmann::ordered_json per = nlohmann::ordered_json::object();
  for (const auto& l : languages)
    per[l.lang] = {{"name", language_name(l.lang)}, {"support", l.support},     {"predicted", l.predicted},
                   {"correct", l.correct},          {"precision", l.precision}, {"recall", l.recall},
                   {"f1", l.f1}};
  j["languages"] = per;
  nlohmann::ordered_json conf = nlohmann::ordered_json::array();
  for (const auto& c : confusions) conf.push_back({{"gold", c.gold}, {"predicted", c.predicted}, {"count", c.count}});
  j["confusions"] = conf;
  nlohmann::ordered_json unsup = nlohmann::ordered_json::object();
  for (const auto& [cls, preds] : unsupported) unsup[cls] = preds;
  j["unsupported"] = unsup;
  j["read"] = {{"malformed", read.skipped()},
               {"invalid_utf8_documents", read.invalid_utf8_docs},
               {"truncated_files", read.truncated_files}};
  return j.dump(2);
}

}  // namespace nlm::curate
