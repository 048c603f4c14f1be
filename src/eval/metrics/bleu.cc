// sacreBLEU-compatible BLEU (see bleu.h).
#include "eval/metrics/bleu.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "core/options.h"
#include "eval/metrics/pystr.h"
#include "eval/metrics/references.h"

namespace nlm::eval::metrics {

void declare(opt::Schema& s, BleuOptions& o) {
  s.add("tokenize", o.tokenize, "Tokenizer: 13a (WMT default), intl, zh, char or none (sacreBLEU names)")
      .flag("-t,--tokenize");
  s.choice("smooth", o.smooth,
           {{"exp", BleuSmooth::Exp}, {"floor", BleuSmooth::Floor}, {"add-k", BleuSmooth::AddK},
            {"none", BleuSmooth::None}},
           "Smoothing: exp (sacreBLEU default), floor, add-k or none")
      .flag("-s,--smooth");
  s.add("smooth_value", o.smooth_value, "Value for floor (default 0.1) and add-k (default 1); -1 = default");
  s.add("lowercase", o.lowercase, "Case-insensitive BLEU").flag("--lowercase,--lc");
  s.add("effective_order", o.effective_order, "Average over the n-gram orders present only (sentence BLEU)")
      .flag("--effective-order");
  s.add("max_ngram_order", o.max_ngram_order, "Highest n-gram order").range(1, 16);
  s.check([&o] { parse_bleu_tokenize(o.tokenize); });
}

std::string BleuScore::verbose() const {
  std::string out;
  char buf[64];
  for (size_t i = 0; i < precisions.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%.1f", i ? "/" : "", precisions[i]);
    out += buf;
  }
  char tail[256];
  std::snprintf(tail, sizeof tail, " (BP = %.3f ratio = %.3f hyp_len = %llu ref_len = %llu)", bp, ratio(),
                static_cast<unsigned long long>(sys_len), static_cast<unsigned long long>(ref_len));
  return out + tail;
}

namespace {

double default_smooth_value(BleuSmooth s) { return s == BleuSmooth::Floor ? 0.1 : s == BleuSmooth::AddK ? 1.0 : 0.0; }

double my_log(double x) { return x == 0 ? -9999999999.0 : std::log(x); }

const char* smooth_name(BleuSmooth s) {
  switch (s) {
    case BleuSmooth::Exp: return "exp";
    case BleuSmooth::Floor: return "floor";
    case BleuSmooth::AddK: return "add-k";
    case BleuSmooth::None: return "none";
  }
  return "?";
}

// N-gram counts keyed by the n token ids' bytes (the order is the key length / 4).
using Counts = std::unordered_map<std::string, double>;

struct Vocab {
  std::unordered_map<std::u32string, uint32_t> ids;
  std::vector<uint32_t> encode(const std::vector<std::u32string>& tokens) {
    std::vector<uint32_t> out;
    out.reserve(tokens.size());
    for (const auto& t : tokens) out.push_back(ids.emplace(t, static_cast<uint32_t>(ids.size())).first->second);
    return out;
  }
};

Counts ngrams(const std::vector<uint32_t>& ids, int max_order) {
  Counts c;
  for (int n = 1; n <= max_order; ++n)
    for (size_t i = 0; i + n <= ids.size(); ++i)
      c[std::string(reinterpret_cast<const char*>(ids.data() + i), sizeof(uint32_t) * n)] += 1;
  return c;
}

}  // namespace

BleuScore compute_bleu(std::vector<double> correct, std::vector<double> total, uint64_t sys_len,
                       uint64_t ref_len, BleuSmooth smooth, double smooth_value, bool effective_order,
                       int max_order) {
  if (smooth_value < 0) smooth_value = default_smooth_value(smooth);
  correct.resize(max_order, 0.0);
  total.resize(max_order, 0.0);
  BleuScore r;
  r.sys_len = sys_len;
  r.ref_len = ref_len;
  r.bp = sys_len < ref_len ? (sys_len > 0 ? std::exp(1.0 - double(ref_len) / double(sys_len)) : 0.0) : 1.0;
  r.precisions.assign(max_order, 0.0);
  bool any = false;
  for (double c : correct) any = any || c != 0;
  if (!any) {  // no match at all: 0 whatever the smoothing (sacreBLEU #141)
    r.counts = correct;
    r.totals = total;
    return r;
  }
  double smooth_mteval = 1.0;
  int eff_order = max_order;
  for (int n = 1; n <= max_order; ++n) {
    if (smooth == BleuSmooth::AddK && n > 1) {
      correct[n - 1] += smooth_value;
      total[n - 1] += smooth_value;
    }
    if (total[n - 1] == 0) break;
    if (effective_order) eff_order = n;
    if (correct[n - 1] == 0) {
      if (smooth == BleuSmooth::Exp) {
        smooth_mteval *= 2;
        r.precisions[n - 1] = 100.0 / (smooth_mteval * total[n - 1]);
      } else if (smooth == BleuSmooth::Floor) {
        r.precisions[n - 1] = 100.0 * smooth_value / total[n - 1];
      }
    } else {
      r.precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1];
    }
  }
  double sum = 0;
  for (int n = 0; n < eff_order; ++n) sum += my_log(r.precisions[n]);
  r.score = r.bp * std::exp(sum / eff_order);
  r.counts = std::move(correct);
  r.totals = std::move(total);
  return r;
}

Bleu::Bleu(const BleuOptions& options) : o_(options), tok_(parse_bleu_tokenize(options.tokenize)) {
  if (o_.max_ngram_order < 1) opt::fail("max_ngram_order", "must be at least 1");
}

std::vector<double> Bleu::segment_statistics(const std::string& hyp, const std::vector<std::string>& refs) const {
  const int N = o_.max_ngram_order;
  auto prep = [&](const std::string& s) {
    std::u32string u = to_u32(s);
    if (o_.lowercase) u = py_lower(u);
    return bleu_tokenize(py_rstrip(u), tok_);
  };
  Vocab vocab;
  Counts ref_max;
  std::vector<uint64_t> ref_lens;
  for (const auto& ref : refs) {
    auto ids = vocab.encode(prep(ref));
    ref_lens.push_back(ids.size());
    for (auto& [k, v] : ngrams(ids, N)) {
      double& m = ref_max[k];
      if (v > m) m = v;
    }
  }
  auto hyp_ids = vocab.encode(prep(hyp));
  const uint64_t hyp_len = hyp_ids.size();
  // The closest reference length; on a tie, the shorter one.
  int64_t best_diff = -1;
  uint64_t ref_len = 0;
  for (uint64_t len : ref_lens) {
    int64_t diff = std::llabs(static_cast<long long>(hyp_len) - static_cast<long long>(len));
    if (best_diff < 0 || diff < best_diff) {
      best_diff = diff;
      ref_len = len;
    } else if (diff == best_diff && len < ref_len) {
      ref_len = len;
    }
  }
  std::vector<double> stats(2 + 2 * N, 0.0);
  stats[0] = double(hyp_len);
  stats[1] = double(ref_len);
  for (auto& [k, count] : ngrams(hyp_ids, N)) {
    const size_t n = k.size() / sizeof(uint32_t) - 1;
    stats[2 + N + n] += count;
    auto it = ref_max.find(k);
    if (it != ref_max.end()) stats[2 + n] += std::min(count, it->second);
  }
  return stats;
}

BleuScore Bleu::from_stats(const std::vector<double>& stats) const {
  const int N = o_.max_ngram_order;
  std::vector<double> correct(stats.begin() + 2, stats.begin() + 2 + N);
  std::vector<double> total(stats.begin() + 2 + N, stats.end());
  return compute_bleu(correct, total, static_cast<uint64_t>(stats[0]), static_cast<uint64_t>(stats[1]), o_.smooth,
                      o_.smooth_value, o_.effective_order, N);
}

BleuScore Bleu::corpus_score(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs) {
  auto seg = gather_references(hyps.size(), refs, "BLEU");
  nrefs_ = seg.nrefs;
  std::vector<double> sum(2 + 2 * o_.max_ngram_order, 0.0);
  for (size_t i = 0; i < hyps.size(); ++i) {
    auto st = segment_statistics(hyps[i], seg.refs[i]);
    for (size_t k = 0; k < sum.size(); ++k) sum[k] += st[k];
  }
  return from_stats(sum);
}

BleuScore Bleu::sentence_score(const std::string& hyp, const std::vector<std::string>& refs) {
  std::vector<std::vector<std::string>> streams;
  for (const auto& r : refs) streams.push_back({r});
  return corpus_score({hyp}, streams);
}

std::string Bleu::signature() const {
  std::string smooth = smooth_name(o_.smooth);
  if (o_.smooth == BleuSmooth::Floor || o_.smooth == BleuSmooth::AddK) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "[%.2f]", o_.smooth_value < 0 ? default_smooth_value(o_.smooth) : o_.smooth_value);
    smooth += buf;
  }
  return signature_text({{"nrefs", nrefs_text(nrefs_)},
                         {"case", o_.lowercase ? "lc" : "mixed"},
                         {"eff", o_.effective_order ? "yes" : "no"},
                         {"tok", bleu_tokenize_name(tok_)},
                         {"smooth", smooth}});
}

std::string Bleu::format(const BleuScore& s) const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", s.score);
  return "BLEU|" + signature() + " = " + buf + " " + s.verbose();
}

}  // namespace nlm::eval::metrics
