// ROUGE with rouge-score's definitions and a Unicode-aware default tokenizer (see rouge.h).
#include "eval/metrics/rouge.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <unordered_map>

#include "core/options.h"
#include "eval/metrics/porter.h"
#include "eval/metrics/pystr.h"
#include "eval/metrics/references.h"
#include "text/words.h"

namespace nlm::eval::metrics {

void declare(opt::Schema& s, RougeOptions& o) {
  s.add("types", o.types, "ROUGE types (a list, or comma-separated): rouge1 .. rouge9, rougeL, rougeLsum").flag("--types");
  s.choice("tokenizer", o.tokenizer, {{"unicode", RougeTokenizer::Unicode}, {"rouge-score", RougeTokenizer::RougeScore}},
           "unicode (letters and digits of any script, ICU words) or rouge-score (its [a-z0-9] rule)");
  s.add("use_stemmer", o.use_stemmer, "Porter-stem ASCII words longer than 3 letters (NLTK's stemmer, as rouge-score)");
  s.derive([&o] {  // "rouge1,rougeL" is two types
    std::vector<std::string> split;
    for (const auto& t : o.types)
      for (size_t i = 0; i <= t.size();) {
        size_t j = std::min(t.find(',', i), t.size());
        if (j > i) split.push_back(t.substr(i, j - i));
        i = j + 1;
      }
    o.types = std::move(split);
  });
  s.check([&o] {
    if (o.types.empty()) opt::fail("types", "must name at least one ROUGE type");
    for (const auto& t : o.types) {
      const bool n = t.size() == 6 && t.starts_with("rouge") && t[5] >= '1' && t[5] <= '9';
      if (!n && t != "rougeL" && t != "rougeLsum")
        opt::fail("types", "has '" + t + "'; valid types are rouge1 .. rouge9, rougeL, rougeLsum");
    }
  });
}

namespace {

using Tokens = std::vector<std::string>;

double fmeasure(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

// The full LCS table (rougeLsum reads one LCS back from it, so which LCS it finds matches
// rouge-score's backtracking); 32-bit cells: a sentence pair of n and m tokens takes 4·n·m bytes.
std::vector<std::vector<uint32_t>> lcs_table(const Tokens& ref, const Tokens& can) {
  std::vector<std::vector<uint32_t>> t(ref.size() + 1, std::vector<uint32_t>(can.size() + 1, 0));
  for (size_t i = 1; i <= ref.size(); ++i)
    for (size_t j = 1; j <= can.size(); ++j)
      t[i][j] = ref[i - 1] == can[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
  return t;
}

RougeScore score_ngrams(const Tokens& target, const Tokens& prediction, int n) {
  auto grams = [n](const Tokens& t) {
    std::unordered_map<std::string, double> c;
    for (size_t i = 0; i + n <= t.size(); ++i) {
      std::string key;
      for (int k = 0; k < n; ++k) {
        key += std::to_string(t[i + k].size());
        key += ':';
        key += t[i + k];
      }
      c[key] += 1;
    }
    return c;
  };
  auto tg = grams(target), pg = grams(prediction);
  double inter = 0, tcount = 0, pcount = 0;
  for (auto& [k, v] : tg) {
    tcount += v;
    auto it = pg.find(k);
    if (it != pg.end()) inter += std::min(v, it->second);
  }
  for (auto& [k, v] : pg) pcount += v;
  RougeScore s;
  s.precision = inter / std::max(pcount, 1.0);
  s.recall = inter / std::max(tcount, 1.0);
  s.fmeasure = fmeasure(s.precision, s.recall);
  return s;
}

RougeScore score_lcs(const Tokens& target, const Tokens& prediction) {
  if (target.empty() || prediction.empty()) return {};
  const double lcs = double(lcs_length(target, prediction));
  RougeScore s;
  s.precision = lcs / double(prediction.size());
  s.recall = lcs / double(target.size());
  s.fmeasure = fmeasure(s.precision, s.recall);
  return s;
}

// Sentences of a summary: newline-separated, empty ones dropped (rouge-score without nltk).
std::vector<std::string_view> sentences(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (true) {
    size_t j = text.find('\n', i);
    std::string_view s = text.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
    if (!s.empty()) out.push_back(s);
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

}  // namespace

size_t lcs_length(const Tokens& a, const Tokens& b) {
  if (a.empty() || b.empty()) return 0;
  // Two rows are enough for the length.
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::vector<size_t> lcs_indices(const Tokens& ref, const Tokens& can) {
  auto t = lcs_table(ref, can);
  std::vector<size_t> out;
  size_t i = ref.size(), j = can.size();
  while (i > 0 && j > 0) {
    if (ref[i - 1] == can[j - 1]) {
      out.push_back(i - 1);
      --i;
      --j;
    } else if (t[i][j - 1] > t[i - 1][j]) {
      --j;
    } else {
      --i;
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

RougeScore summary_level_lcs(const std::vector<Tokens>& ref_sents, const std::vector<Tokens>& can_sents) {
  if (ref_sents.empty() || can_sents.empty()) return {};
  size_t m = 0, n = 0;
  std::unordered_map<std::string, int64_t> cnt_r, cnt_c;
  for (const auto& s : ref_sents) {
    m += s.size();
    for (const auto& t : s) ++cnt_r[t];
  }
  for (const auto& s : can_sents) {
    n += s.size();
    for (const auto& t : s) ++cnt_c[t];
  }
  if (!m || !n) return {};
  size_t hits = 0;
  for (const auto& r : ref_sents) {
    std::set<size_t> uni;  // union of the LCS indices into r over all candidate sentences
    for (const auto& c : can_sents)
      for (size_t i : lcs_indices(r, c)) uni.insert(i);
    for (size_t i : uni) {
      const auto& t = r[i];
      auto& cc = cnt_c[t];
      auto& cr = cnt_r[t];
      if (cc > 0 && cr > 0) {  // each token counts at most as often as both sides have it
        ++hits;
        --cc;
        --cr;
      }
    }
  }
  RougeScore s;
  s.recall = double(hits) / double(m);
  s.precision = double(hits) / double(n);
  s.fmeasure = fmeasure(s.precision, s.recall);
  return s;
}

Rouge::Rouge(const RougeOptions& options) : o_(options), seg_(std::make_unique<text::WordSegmenter>()) {
  opt::Schema s("rouge");
  declare(s, o_);
  s.resolve();  // the same derivations and checks as the front ends
}

Rouge::~Rouge() = default;

std::vector<std::string> Rouge::tokenize(std::string_view text) const {
  const std::u32string lower = py_lower(to_u32(text));
  std::vector<std::string> out;
  if (o_.tokenizer == RougeTokenizer::RougeScore) {
    std::string cur;  // lower(); runs outside [a-z0-9] become spaces; split
    for (char32_t c : lower) {
      if ((c >= U'a' && c <= U'z') || (c >= U'0' && c <= U'9')) {
        cur.push_back(static_cast<char>(c));
      } else if (!cur.empty()) {
        out.push_back(std::move(cur));
        cur.clear();
      }
    }
    if (!cur.empty()) out.push_back(std::move(cur));
  } else {
    const std::string utf8 = to_utf8(lower);
    std::vector<std::string_view> words;
    seg_->segment(utf8, text::AsciiWordRule::AlnumRuns, words);
    out.assign(words.begin(), words.end());
  }
  if (o_.use_stemmer) {  // rouge-score stems tokens of more than 3 characters; ASCII words only
    auto ascii = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    for (auto& t : out)
      if (t.size() > 3 && std::all_of(t.begin(), t.end(), ascii)) t = porter_stem(t);
  }
  return out;
}

std::map<std::string, RougeScore> Rouge::score(std::string_view target, std::string_view prediction) const {
  std::map<std::string, RougeScore> out;
  const auto tt = tokenize(target), pt = tokenize(prediction);
  for (const auto& type : o_.types) {
    if (type == "rougeL") {
      out[type] = score_lcs(tt, pt);
    } else if (type == "rougeLsum") {
      std::vector<Tokens> ts, ps;
      for (auto s : sentences(target)) ts.push_back(tokenize(s));
      for (auto s : sentences(prediction)) ps.push_back(tokenize(s));
      out[type] = summary_level_lcs(ts, ps);
    } else {
      out[type] = score_ngrams(tt, pt, type[5] - '0');
    }
  }
  return out;
}

std::map<std::string, RougeScore> Rouge::score_multi(const std::vector<std::string>& targets,
                                                     std::string_view prediction) const {
  std::map<std::string, RougeScore> best;
  bool first = true;
  for (const auto& t : targets) {
    auto s = score(t, prediction);
    for (auto& [type, v] : s)
      if (first || v.fmeasure > best[type].fmeasure) best[type] = v;
    first = false;
  }
  return best;
}

std::map<std::string, RougeScore> Rouge::corpus_score(const std::vector<std::string>& predictions,
                                                      const std::vector<std::vector<std::string>>& refs) const {
  auto seg = gather_references(predictions.size(), refs, "ROUGE");
  std::map<std::string, RougeScore> sum;
  for (const auto& t : o_.types) sum[t] = {};
  for (size_t i = 0; i < predictions.size(); ++i)
    for (auto& [type, v] : score_multi(seg.refs[i], predictions[i])) {
      sum[type].precision += v.precision;
      sum[type].recall += v.recall;
      sum[type].fmeasure += v.fmeasure;
    }
  const double n = predictions.empty() ? 1.0 : double(predictions.size());
  for (auto& [type, v] : sum) {
    v.precision /= n;
    v.recall /= n;
    v.fmeasure /= n;
  }
  return sum;
}

}  // namespace nlm::eval::metrics
