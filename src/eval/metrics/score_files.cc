// Corpus scoring of line-aligned files for the eval bleu/chrf/rouge commands (see score_files.h).
#include "eval/metrics/score_files.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/compressed_stream.h"
#include "core/error.h"
#include "core/line_reader.h"

namespace nlm::eval::metrics {

using nlohmann::json;

std::vector<std::string> read_segments(const std::string& path) {
  if (!std::filesystem::is_regular_file(path))
    usage_error("cannot read " + path, path, "give an existing text file with one segment per line");
  auto in = InputStream::open(path);
  LineReader lines(*in);
  std::vector<std::string> out;
  std::string_view line;
  while (lines.next(line)) out.emplace_back(line);
  return out;
}

namespace {

struct Loaded {
  std::vector<std::string> hyps;
  std::vector<std::vector<std::string>> refs;
};

Loaded load(const MetricInputs& in) {
  if (in.refs.empty()) usage_error("no reference file", "--ref", "give at least one --ref FILE");
  Loaded l;
  l.hyps = read_segments(in.hyp);
  for (const auto& r : in.refs) {
    l.refs.push_back(read_segments(r));
    if (l.refs.back().size() != l.hyps.size())
      usage_error("the reference has " + std::to_string(l.refs.back().size()) + " lines, the hypotheses " +
                      std::to_string(l.hyps.size()),
                  r, "give line-aligned files (line i of each file is segment i)");
  }
  return l;
}

// The signature as sacreBLEU's JSON spells it out: one member per "key:value" pair.
void add_signature_fields(json& j, const std::string& signature) {
  size_t i = 0;
  while (i <= signature.size()) {
    size_t bar = signature.find('|', i);
    std::string pair = signature.substr(i, bar == std::string::npos ? std::string::npos : bar - i);
    size_t colon = pair.find(':');
    if (colon != std::string::npos) j[pair.substr(0, colon)] = pair.substr(colon + 1);
    if (bar == std::string::npos) break;
    i = bar + 1;
  }
}

std::string fixed(double v, int width) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", width, v);
  return buf;
}

// Sentence scores of every segment (a fresh metric, so the corpus signature is untouched):
// "segment i<TAB>score" lines for the text output, or a JSON array.
template <class Metric, class Options>
void sentence_scores(const Loaded& l, const Options& options, bool as_json, std::string& text, json& array) {
  Metric metric(options);
  for (size_t i = 0; i < l.hyps.size(); ++i) {
    std::vector<std::string> refs;
    for (const auto& stream : l.refs) refs.push_back(stream[i]);
    const double v = metric.sentence_score(l.hyps[i], refs).score;
    if (as_json) array.push_back(v);
    else text += "segment " + std::to_string(i + 1) + "\t" + fixed(v, 2) + "\n";
  }
}

// The JSON of a scored corpus: the metric's own members, the signature's fields, the sentences.
std::string with_signature(json j, const std::string& signature, const MetricInputs& in, const json& sentences) {
  j["signature"] = signature;
  add_signature_fields(j, signature);
  if (in.sentence_level) j["sentence_scores"] = sentences;
  return j.dump(1) + "\n";
}

}  // namespace

std::string score_bleu_files(const MetricInputs& in, const BleuOptions& options) {
  Bleu bleu(options);
  const Loaded l = load(in);
  const BleuScore s = bleu.corpus_score(l.hyps, l.refs);
  std::string out;
  json sentences = json::array();
  if (in.sentence_level) sentence_scores<Bleu>(l, options, in.json, out, sentences);
  if (!in.json) return out + bleu.format(s) + "\n";
  return with_signature({{"name", "BLEU"}, {"score", s.score}, {"verbose_score", s.verbose()}, {"counts", s.counts},
                         {"totals", s.totals}, {"precisions", s.precisions}, {"bp", s.bp}, {"sys_len", s.sys_len},
                         {"ref_len", s.ref_len}, {"segments", l.hyps.size()}},
                        bleu.signature(), in, sentences);
}

std::string score_chrf_files(const MetricInputs& in, const ChrfOptions& options) {
  Chrf chrf(options);
  const Loaded l = load(in);
  const ChrfScore s = chrf.corpus_score(l.hyps, l.refs);
  std::string out;
  json sentences = json::array();
  if (in.sentence_level) sentence_scores<Chrf>(l, options, in.json, out, sentences);
  if (!in.json) return out + chrf.format(s) + "\n";
  return with_signature({{"name", s.name}, {"score", s.score}, {"segments", l.hyps.size()}}, chrf.signature(), in,
                        sentences);
}

std::string score_rouge_files(const MetricInputs& in, const RougeOptions& options) {
  Rouge rouge(options);
  const Loaded l = load(in);
  const auto scores = rouge.corpus_score(l.hyps, l.refs);
  const char* tok = options.tokenizer == RougeTokenizer::Unicode ? "unicode" : "rouge-score";
  if (in.json) {
    json j = {{"name", "ROUGE"}, {"tokenizer", tok}, {"segments", l.hyps.size()}};
    for (const auto& t : rouge.options().types) {
      const auto& v = scores.at(t);
      j[t] = {{"precision", v.precision}, {"recall", v.recall}, {"fmeasure", v.fmeasure}};
    }
    return j.dump(1) + "\n";
  }
  std::string out;
  for (const auto& t : rouge.options().types) {
    const auto& v = scores.at(t);
    out += t + "|tok:" + tok + " = " + fixed(100 * v.fmeasure, 2) + " (P = " + fixed(100 * v.precision, 2) +
           " R = " + fixed(100 * v.recall, 2) + ")\n";
  }
  return out;
}

}  // namespace nlm::eval::metrics
