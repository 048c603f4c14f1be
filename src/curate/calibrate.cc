// Measures a clean sample document by document and turns the measurements into thresholds.
#include "curate/calibrate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/options.h"
#include "curate/doc_context.h"
#include "curate/lang_codes.h"
#include "curate/source.h"
#include "curate/text_util.h"

namespace nlm::curate {

void declare(opt::Schema& s, CalibrateOptions& o) {
  s.add("lang", o.lang, "Language code of the sample; the profile's key under profiles:").flag("--lang");
  s.add("output", o.output, "YAML file to write (a curate config with the profile); empty prints it")
      .flag("-o,--output");
  s.add("stop_words", o.stop_words, "Stop words to keep: the words found in the most documents").range(0, 1000);
  s.add("min_docs", o.min_docs, "Fewest documents of at least --min-words words the sample must hold").min(1);
  s.add("min_words", o.min_words, "Documents with fewer words are not measured").min(1);
  s.check([&o] {
    if (o.lang.empty()) opt::fail("lang", "is required", "name the sample's language, e.g. --lang eu");
  });
}

namespace {
double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}
double round_to(double x, double step) { return std::round(x / step) * step; }
std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}
std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }
}  // namespace

// The rules. Each is set so that clean English text (Debian's gettext catalogues and man pages)
// gives back the published English default; see docs/curate.md, "Calibrating a profile".
Profile profile_from_figures(const CalibrationFigures& f) {
  Profile p;
  auto& g = p.gopher_quality;
  // Gopher's window of 3..10 code points sits at 0.68x the 2nd percentile and 1.8x the 98th
  // percentile of English documents' mean word length.
  g.min_avg_word_length = std::max(0.5, round_to(0.68 * f.word_length_p2, 0.1));
  g.max_avg_word_length = std::max(g.min_avg_word_length + 1, round_to(1.8 * f.word_length_p98, 0.1));
  // 0.8 of words holding a letter, unless the language's clean text itself has fewer.
  g.min_alpha_words_ratio = std::min(0.8, round_to(0.9 * f.alpha_p2, 0.01));
  g.stop_words.clear();
  for (const auto& [w, share] : f.stop_words) g.stop_words.push_back(w);
  // Two stop words, as Gopher asks, when the commonest one is in most documents; one when the
  // language's function words are rarer (or glued to words, as in agglutinative scripts).
  g.min_stop_words = g.stop_words.empty() ? 0 : (!f.stop_words.empty() && f.stop_words[0].second >= 0.5 ? 2 : 1);
  // Languages whose clean lines mostly end without a mark (Thai, Lao) get no punctuation rule.
  if (f.line_punct_p50 < 0.3) p.fineweb.min_line_punct_ratio = 0;
  // FineWeb's 30 code points is about 4.8 English words (6.2 code points a word, with the spaces
  // and punctuation between words); the same number of words here.
  p.fineweb.short_line_length = std::max<int64_t>(5, std::lround(4.8 * f.chars_per_word));
  return p;
}

CalibrationResult calibrate_profile(const std::vector<std::string>& files, const CalibrateOptions& o) {
  if (o.lang.empty()) opt::fail("lang", "is required", "name the sample's language, e.g. --lang eu");
  ProfileMap profiles = {{"default", Profile{}}};
  DocContext ctx(profiles);
  corpus::Diagnostics diag(o.read.max_reported, o.read.strict);
  const HtmlOptions html;
  const auto& marks = default_terminal_punctuation();
  CalibrationResult r;
  r.lang = canonical_lang_code(o.lang);  // the code the lid step writes (tha → th), which profiles are keyed by
  CalibrationFigures& f = r.figures;
  std::vector<double> word_length, alpha, punct;
  std::unordered_map<std::string, uint32_t> doc_freq;
  uint64_t chars = 0, words_total = 0;
  std::string lower;
  for (const auto& file : files) {
    auto source = open_source(file, o.read, html, &diag);
    corpus::Document doc;
    while (source->next(doc)) {
      if (source->rejection()) continue;
      ctx.reset(doc);
      const auto& words = ctx.words();
      if (static_cast<int64_t>(words.size()) < o.min_words) {
        ++f.short_docs;
        continue;
      }
      ++f.docs;
      uint64_t word_chars = 0, alpha_words = 0;
      std::vector<std::string> seen;
      for (const auto& w : words) {
        word_chars += w.chars;
        if (w.kind == text::WordKind::Number) continue;
        ++alpha_words;
        lower.assign(ctx.word(w));
        ascii_lower_inplace(lower);
        seen.push_back(lower);
      }
      std::sort(seen.begin(), seen.end());
      seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
      for (auto& w : seen) ++doc_freq[std::move(w)];
      double n = static_cast<double>(words.size());
      word_length.push_back(static_cast<double>(word_chars) / n);
      alpha.push_back(static_cast<double>(alpha_words) / n);
      const auto& lines = ctx.nonblank_lines();
      uint64_t ended = 0, line_chars = 0;
      for (const auto& line : lines) {
        line_chars += line.chars;
        for (const auto& m : marks)
          if (ends_with(line.text, m)) {
            ++ended;
            break;
          }
      }
      if (!lines.empty()) punct.push_back(static_cast<double>(ended) / static_cast<double>(lines.size()));
      chars += line_chars;
      words_total += words.size();
    }
  }
  if (static_cast<int64_t>(f.docs) < o.min_docs)
    usage_error("the calibration sample holds " + std::to_string(f.docs) + " documents of at least " +
                    std::to_string(o.min_words) + " words; at least " + std::to_string(o.min_docs) + " are needed",
                "curate calibrate", "give more clean text of the language (a few hundred documents is better)");
  f.word_length_p2 = quantile(word_length, 0.02);
  f.word_length_p50 = quantile(word_length, 0.5);
  f.word_length_p98 = quantile(word_length, 0.98);
  f.alpha_p2 = quantile(alpha, 0.02);
  f.line_punct_p50 = quantile(punct, 0.5);
  f.chars_per_word = words_total ? static_cast<double>(chars) / static_cast<double>(words_total) : 0;
  std::vector<std::pair<std::string, uint32_t>> ranked(doc_freq.begin(), doc_freq.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (size_t i = 0; i < ranked.size() && static_cast<int64_t>(i) < o.stop_words; ++i)
    f.stop_words.push_back({ranked[i].first, static_cast<double>(ranked[i].second) / static_cast<double>(f.docs)});
  r.profile = profile_from_figures(f);
  if (!o.output.empty()) write_file_atomic(o.output, r.yaml());
  return r;
}

std::string CalibrationResult::yaml() const {
  const auto& g = profile.gopher_quality;
  const auto& w = profile.fineweb;
  std::string stops;
  for (const auto& s : g.stop_words) stops += (stops.empty() ? "" : ", ") + quoted(s);
  std::string y = "# nativelm curate calibrate --lang " + lang + ": " + std::to_string(figures.docs) +
                  " documents measured (" + std::to_string(figures.short_docs) + " too short).\n";
  y += "# mean word length p2/p50/p98: " + num(round_to(figures.word_length_p2, 0.01)) + "/" +
       num(round_to(figures.word_length_p50, 0.01)) + "/" + num(round_to(figures.word_length_p98, 0.01)) +
       "; words with a letter p2: " + num(round_to(figures.alpha_p2, 0.001)) + "; punctuated lines p50: " +
       num(round_to(figures.line_punct_p50, 0.001)) + "; code points per word: " +
       num(round_to(figures.chars_per_word, 0.01)) + "\n";
  y += "# Use it with: nativelm curate --config THIS_FILE ... (or copy the entry into your config)\n";
  y += "profiles:\n  " + quoted(lang) + ":\n";
  y += "    gopher_quality: {min_avg_word_length: " + num(g.min_avg_word_length) +
       ", max_avg_word_length: " + num(g.max_avg_word_length) + ", min_alpha_words_ratio: " +
       num(g.min_alpha_words_ratio) + ", min_stop_words: " + std::to_string(g.min_stop_words) +
       ", stop_words: [" + stops + "]}\n";
  y += "    fineweb: {min_line_punct_ratio: " + num(w.min_line_punct_ratio) +
       ", short_line_length: " + std::to_string(w.short_line_length) + "}\n";
  return y;
}

std::string CalibrationResult::summary() const {
  const auto& g = profile.gopher_quality;
  return "calibrated '" + lang + "' from " + std::to_string(figures.docs) + " documents: mean word length " +
         num(g.min_avg_word_length) + ".." + num(g.max_avg_word_length) + ", " + std::to_string(g.stop_words.size()) +
         " stop words (min " + std::to_string(g.min_stop_words) + "), short line <= " +
         std::to_string(profile.fineweb.short_line_length) + " code points, line punctuation " +
         (profile.fineweb.min_line_punct_ratio > 0 ? "checked" : "not checked");
}

}  // namespace nlm::curate
