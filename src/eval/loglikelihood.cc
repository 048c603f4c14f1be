// lm-eval's loglikelihood primitives on the model's forward pass (see loglikelihood.h).
#include "eval/loglikelihood.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/options.h"
#include "eval/metrics/pystr.h"
#include "model/llama.h"
#include "tokenizer/tokenizer.h"

namespace nlm::eval {

void declare(opt::Schema& s, ScoringOptions& o) {
  s.add("max_length", o.max_length, "Tokens a window sees (0 = the model's context)").min(0);
  s.add("batch_size", o.batch_size, "Windows per forward pass, sorted by length").range(1, 4096);
  s.add("top_k", o.top_k, "Most likely alternatives printed per token (0 = none)").range(0, 1000);
  s.add("add_bos", o.add_bos, "Start every sequence with the BOS token (lm-eval's add_bos_token)").flag("--bos");
  s.add("prefix_token", o.prefix_token, "Token before an empty context or a rolling text (-1 = BOS, else EOS)")
      .min(-1);
}

namespace {

struct Window {
  size_t request;
  size_t start;  // first input position
  size_t first;  // first scored token
  size_t end;    // one past the last scored token
  size_t length() const { return end - 1 - start; }
};

}  // namespace

std::vector<std::vector<TokenScore>> score_tokens(model::Llama& model, const std::vector<TokenRequest>& requests,
                                                  const ScoringOptions& o) {
  const auto& c = model.config();
  const int64_t V = c.vocab_size;
  const size_t L = o.max_length > 0 ? size_t(o.max_length) : size_t(c.max_position_embeddings);
  if (L > size_t(c.max_position_embeddings))
    opt::fail("max_length", "(" + std::to_string(L) + ") exceeds the model's context (" +
                                std::to_string(c.max_position_embeddings) + " tokens)");
  if (L < 1) opt::fail("max_length", "must be at least 1");
  std::vector<std::vector<TokenScore>> out(requests.size());
  std::vector<Window> windows;
  for (size_t r = 0; r < requests.size(); ++r) {
    const auto& q = requests[r];
    if (q.n_context < 1 || q.n_context > q.tokens.size())
      usage_error("request " + std::to_string(r) + " has " + std::to_string(q.n_context) + " context tokens of " +
                      std::to_string(q.tokens.size()),
                  "scoring", "every scored token needs at least one token before it");
    for (int32_t id : q.tokens)
      if (id < 0 || id >= V)
        usage_error("token id " + std::to_string(id) + " is outside the model's vocabulary of " + std::to_string(V),
                    "scoring", "encode with the model's own tokenizer");
    out[r].resize(q.tokens.size() - q.n_context);
    // Windows of at most L predicted tokens; each sees the L tokens before its last prediction.
    for (size_t p = q.n_context; p < q.tokens.size();) {
      const size_t e = std::min(q.tokens.size(), p + L);
      const size_t s = e - 1 >= L ? e - 1 - L : 0;
      windows.push_back({r, s, p, e});
      p = e;
    }
  }
  // Longest first (as lm-eval's collator), stable so equal lengths keep request order.
  std::vector<size_t> order(windows.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return windows[a].length() > windows[b].length(); });
  const size_t bs = size_t(std::max(1, o.batch_size));
  std::vector<double> row(static_cast<size_t>(V));
  for (size_t b0 = 0; b0 < order.size(); b0 += bs) {
    const size_t nb = std::min(bs, order.size() - b0);
    const size_t T = windows[order[b0]].length();
    model::Batch batch;
    batch.B = static_cast<int>(nb);
    batch.T = static_cast<int>(T);
    batch.inputs.assign(nb * T, 0);
    batch.targets.assign(nb * T, -1);
    for (size_t k = 0; k < nb; ++k) {
      const Window& w = windows[order[b0 + k]];
      const auto& tok = requests[w.request].tokens;
      for (size_t j = w.start; j + 1 < w.end; ++j) {
        batch.inputs[k * T + (j - w.start)] = tok[j];
        if (j + 1 >= w.first) batch.targets[k * T + (j - w.start)] = tok[j + 1];
      }
    }
    batch.set_default_positions();
    std::vector<float> logits;
    model.forward(batch, &logits);
    for (size_t k = 0; k < nb; ++k) {
      const Window& w = windows[order[b0 + k]];
      const auto& tok = requests[w.request].tokens;
      for (size_t j = std::max(w.start, w.first - 1); j + 1 < w.end; ++j) {
        const float* z = logits.data() + (k * T + (j - w.start)) * size_t(V);
        // log-softmax in double: log p(i) = z_i − max − log Σ exp(z − max).
        size_t arg = 0;
        for (int64_t i = 1; i < V; ++i)
          if (z[i] > z[arg]) arg = size_t(i);
        const double mx = z[arg];
        double sum = 0;
        for (int64_t i = 0; i < V; ++i) sum += std::exp(double(z[i]) - mx);
        const double lse = mx + std::log(sum);
        TokenScore& ts = out[w.request][j + 1 - requests[w.request].n_context];
        ts.id = tok[j + 1];
        ts.logprob = double(z[ts.id]) - lse;
        ts.greedy = arg == size_t(ts.id);
        if (o.top_k > 0) {
          const size_t k_top = std::min<size_t>(size_t(o.top_k), size_t(V));
          std::vector<int32_t> ids(static_cast<size_t>(V));
          std::iota(ids.begin(), ids.end(), 0);
          std::partial_sort(ids.begin(), ids.begin() + std::ptrdiff_t(k_top), ids.end(),
                            [&](int32_t a, int32_t b) { return z[a] > z[b] || (z[a] == z[b] && a < b); });
          for (size_t t = 0; t < k_top; ++t) ts.top.emplace_back(ids[t], double(z[ids[t]]) - lse);
        }
      }
    }
  }
  return out;
}

LmScorer::LmScorer(model::Llama& model, const tokenizer::Tokenizer& tok, const ScoringOptions& options)
    : model_(model), tok_(tok), o_(options) {
  const auto& c = model.config();
  bos_ = c.bos_token_id >= 0 ? static_cast<int32_t>(c.bos_token_id) : -1;
  if (o_.add_bos && bos_ < 0)
    opt::fail("add_bos", "is set but the model's config.json has no bos_token_id", "leave --bos off");
  prefix_ = o_.prefix_token >= 0 ? o_.prefix_token
            : bos_ >= 0          ? bos_
                                 : static_cast<int32_t>(std::max<int64_t>(0, c.eos_token_id));
}

std::vector<int32_t> LmScorer::encode(const std::string& text) const {
  auto ids = tok_.encode(text, /*add_special_tokens=*/false);
  return std::vector<int32_t>(ids.begin(), ids.end());
}

TokenRequest LmScorer::encode_pair(const std::string& context, const std::string& continuation) const {
  TokenRequest r;
  if (context.empty()) {
    r.tokens.push_back(prefix_);
    r.n_context = 1;
    for (int32_t id : encode(continuation)) r.tokens.push_back(id);
    return r;
  }
  // lm-eval: trailing whitespace of the context (Python's str.rstrip) belongs to the continuation.
  const std::u32string u = metrics::to_u32(context);
  const size_t kept = metrics::py_rstrip(u).size();
  const size_t cut = context.size() - metrics::to_utf8(std::u32string_view(u).substr(kept)).size();
  const std::string ctx = context.substr(0, cut);
  const std::string cont = context.substr(cut) + continuation;
  auto whole = encode(ctx + cont);
  auto ctx_ids = encode(ctx);
  const size_t n_ctx = std::min(ctx_ids.size(), whole.size());
  if (o_.add_bos) r.tokens.push_back(bos_);
  r.tokens.insert(r.tokens.end(), whole.begin(), whole.end());
  r.n_context = n_ctx + (o_.add_bos ? 1 : 0);
  if (r.n_context == 0) {  // a context of whitespace only encodes to nothing: predict from the prefix
    r.tokens.insert(r.tokens.begin(), prefix_);
    r.n_context = 1;
  }
  return r;
}

TokenRequest LmScorer::encode_rolling(const std::string& text) const {
  TokenRequest r;
  r.tokens.push_back(o_.add_bos ? bos_ : prefix_);
  for (int32_t id : encode(text)) r.tokens.push_back(id);
  r.n_context = 1;
  return r;
}

std::vector<Loglikelihood> LmScorer::loglikelihood(const std::vector<std::pair<std::string, std::string>>& requests) {
  std::vector<TokenRequest> reqs;
  for (const auto& [ctx, cont] : requests) reqs.push_back(encode_pair(ctx, cont));
  auto scores = score_tokens(model_, reqs, o_);
  std::vector<Loglikelihood> out(requests.size());
  for (size_t i = 0; i < scores.size(); ++i)
    for (const auto& t : scores[i]) {
      out[i].logprob += t.logprob;
      out[i].is_greedy = out[i].is_greedy && t.greedy;
    }
  return out;
}

std::vector<double> LmScorer::loglikelihood_rolling(const std::vector<std::string>& texts) {
  std::vector<TokenRequest> reqs;
  for (const auto& t : texts) reqs.push_back(encode_rolling(t));
  auto scores = score_tokens(model_, reqs, o_);
  std::vector<double> out(texts.size(), 0.0);
  for (size_t i = 0; i < scores.size(); ++i)
    for (const auto& t : scores[i]) out[i] += t.logprob;
  return out;
}

}  // namespace nlm::eval
