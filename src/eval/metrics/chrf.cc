// sacreBLEU-compatible chrF and chrF++ (see chrf.h).
#include "eval/metrics/chrf.h"

#include <algorithm>
#include <cstdio>
#include <unordered_map>

#include "core/options.h"
#include "eval/metrics/pystr.h"
#include "eval/metrics/references.h"

namespace nlm::eval::metrics {

void declare(opt::Schema& s, ChrfOptions& o) {
  s.add("char_order", o.char_order, "Character n-gram order").range(1, 32).flag("--chrf-char-order,--char-order");
  s.add("word_order", o.word_order, "Word n-gram order (2 = chrF++)").range(0, 8).flag("--chrf-word-order,--word-order");
  s.add("beta", o.beta, "Recall weight beta of the F score").range(1, 100).flag("--chrf-beta,--beta");
  s.add("lowercase", o.lowercase, "Case-insensitive chrF").flag("--lowercase,--lc");
  s.add("whitespace", o.whitespace, "Keep whitespace in character n-grams").flag("--chrf-whitespace,--whitespace");
  s.add("eps_smoothing", o.eps_smoothing, "chrF++.py/NLTK epsilon smoothing instead of effective order")
      .flag("--chrf-eps-smoothing,--eps-smoothing");
}

namespace {

using Counts = std::unordered_map<std::u32string, double>;

// Orders 1..n of character n-grams (whitespace removed unless kept).
void char_ngrams(std::u32string_view text, int max_order, bool whitespace, std::vector<Counts>& out) {
  std::u32string s;
  s.reserve(text.size());
  for (char32_t c : text)
    if (whitespace || !py_isspace(c)) s.push_back(c);
  for (int n = 1; n <= max_order; ++n) {
    Counts c;
    for (size_t i = 0; i + n <= s.size(); ++i) c[s.substr(i, n)] += 1;
    out.push_back(std::move(c));
  }
}

bool is_ascii_punct(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

// Words with one trailing (else one leading) punctuation mark split off; '(hi)' gives '(hi', ')'.
std::vector<std::u32string> chrf_words(std::u32string_view text) {
  std::vector<std::u32string> out;
  for (auto& w : py_split(text)) {
    if (w.size() == 1) {
      out.push_back(w);
    } else if (is_ascii_punct(w.back())) {
      out.push_back(w.substr(0, w.size() - 1));
      out.push_back(w.substr(w.size() - 1));
    } else if (is_ascii_punct(w.front())) {
      out.push_back(w.substr(0, 1));
      out.push_back(w.substr(1));
    } else {
      out.push_back(w);
    }
  }
  return out;
}

// Word n-grams, keyed by each word prefixed with its length (words may hold any character).
void word_ngrams(const std::vector<std::u32string>& words, int max_order, std::vector<Counts>& out) {
  for (int n = 1; n <= max_order; ++n) {
    Counts c;
    for (size_t i = 0; i + n <= words.size(); ++i) {
      std::u32string key;
      for (int k = 0; k < n; ++k) {
        key.push_back(static_cast<char32_t>(words[i + k].size()));
        key += words[i + k];
      }
      c[key] += 1;
    }
    out.push_back(std::move(c));
  }
}

}  // namespace

Chrf::Chrf(const ChrfOptions& options) : o_(options) {
  if (o_.char_order < 1 && o_.word_order < 1) opt::fail("char_order", "and word_order cannot both be 0");
  if (o_.char_order < 0 || o_.word_order < 0) opt::fail("char_order", "orders must not be negative");
}

double Chrf::f_score(const std::vector<double>& stats) const {
  const double eps = 1e-16;
  const double factor = double(o_.beta) * double(o_.beta);
  const int order = o_.char_order + o_.word_order;
  double score = 0, avg_prec = 0, avg_rec = 0;
  int effective = 0;
  for (int i = 0; i < order; ++i) {
    const double n_hyp = stats[3 * i], n_ref = stats[3 * i + 1], n_match = stats[3 * i + 2];
    const double prec = n_hyp > 0 ? n_match / n_hyp : eps;
    const double rec = n_ref > 0 ? n_match / n_ref : eps;
    const double denom = factor * prec + rec;
    score += denom > 0 ? (1 + factor) * prec * rec / denom : eps;
    if (n_hyp > 0 && n_ref > 0) {
      avg_prec += prec;
      avg_rec += rec;
      ++effective;
    }
  }
  if (o_.eps_smoothing) return 100 * score / order;
  if (effective == 0) return 0.0;
  avg_prec /= effective;
  avg_rec /= effective;
  if (avg_prec + avg_rec == 0) return 0.0;
  return 100 * (1 + factor) * avg_prec * avg_rec / (factor * avg_prec + avg_rec);
}

std::vector<double> Chrf::segment_statistics(const std::string& hyp, const std::vector<std::string>& refs) const {
  auto ngrams = [&](const std::string& text) {
    std::u32string u = to_u32(text);
    if (o_.lowercase) u = py_lower(u);
    std::vector<Counts> all;
    char_ngrams(u, o_.char_order, o_.whitespace, all);
    if (o_.word_order > 0) word_ngrams(chrf_words(u), o_.word_order, all);
    return all;
  };
  const auto h = ngrams(hyp);
  std::vector<double> best;
  double best_f = -1;
  for (const auto& ref : refs) {
    const auto r = ngrams(ref);
    std::vector<double> stats;
    for (size_t k = 0; k < h.size(); ++k) {
      double hyp_count = 0, match = 0, ref_count = 0;
      for (const auto& [g, c] : h[k]) {
        hyp_count += c;
        auto it = r[k].find(g);
        if (it != r[k].end()) match += std::min(c, it->second);
      }
      for (const auto& [g, c] : r[k]) ref_count += c;
      stats.push_back(r[k].empty() ? 0 : hyp_count);  // no hits without a reference n-gram
      stats.push_back(ref_count);
      stats.push_back(match);
    }
    const double f = f_score(stats);
    if (f > best_f) {
      best_f = f;
      best = std::move(stats);
    }
  }
  return best;
}

ChrfScore Chrf::corpus_score(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs) {
  auto seg = gather_references(hyps.size(), refs, "chrF");
  nrefs_ = seg.nrefs;
  ChrfScore out;
  out.stats.assign(3 * (o_.char_order + o_.word_order), 0.0);
  for (size_t i = 0; i < hyps.size(); ++i) {
    auto st = segment_statistics(hyps[i], seg.refs[i]);
    for (size_t k = 0; k < st.size(); ++k) out.stats[k] += st[k];
  }
  out.score = f_score(out.stats);
  out.name = "chrF" + std::to_string(o_.beta) + std::string(static_cast<size_t>(o_.word_order), '+');
  return out;
}

ChrfScore Chrf::sentence_score(const std::string& hyp, const std::vector<std::string>& refs) {
  std::vector<std::vector<std::string>> streams;
  for (const auto& r : refs) streams.push_back({r});
  return corpus_score({hyp}, streams);
}

std::string Chrf::signature() const {
  return signature_text({{"nrefs", nrefs_text(nrefs_)},
                         {"case", o_.lowercase ? "lc" : "mixed"},
                         {"eff", o_.eps_smoothing ? "no" : "yes"},
                         {"nc", std::to_string(o_.char_order)},
                         {"nw", std::to_string(o_.word_order)},
                         {"space", o_.whitespace ? "yes" : "no"}});
}

std::string Chrf::format(const ChrfScore& s) const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", s.score);
  return s.name + "|" + signature() + " = " + buf;
}

}  // namespace nlm::eval::metrics
