// Sampling and the generation loop (see sampler.h).
#include "model/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "model/slot_decoder.h"

namespace nlm::model {

void declare(opt::Schema& s, SamplingOptions& o) {
  s.add("temperature", o.temperature, "Sampling temperature; 0 = greedy").min(0);
  s.add("top_k", o.top_k, "Keep the k most likely tokens (0 = off)").min(0);
  s.add("top_p", o.top_p, "Nucleus: keep the most likely tokens up to this probability mass (1 = off)").range(0, 1);
  s.add("min_p", o.min_p, "Drop tokens below min_p times the top probability (0 = off)").range(0, 1);
  s.add("repetition_penalty", o.repetition_penalty, "CTRL-style penalty of tokens already seen (1 = off)").min(0);
  s.add("presence_penalty", o.presence_penalty,
        "Subtract this from the logit of every token already seen (OpenAI's presence_penalty; 0 = off)")
      .range(-2, 2);
  s.add("frequency_penalty", o.frequency_penalty,
        "Subtract this times its count so far from each token's logit (OpenAI's frequency_penalty; 0 = off)")
      .range(-2, 2);
  s.add("seed", o.seed, "Sampling seed");
  s.add("max_new_tokens", o.max_tokens, "New tokens at most").flag("--max-tokens,--max-new-tokens").min(1);
  opt::Field& stop = s.custom(
      "stop_ids",
      [&o] {
        std::string t;
        for (int32_t id : o.stop_ids) t += (t.empty() ? "" : " ") + std::to_string(id);
        return t;
      },
      [&o](const std::string& v) { o.stop_ids = {static_cast<int32_t>(opt::parse_uint(v, "stop_ids"))}; }, "ID...",
      "Stop after any of these token ids (the model's EOS is added unless told otherwise)");
  stop.type = opt::Type::List;
  stop.set_list = [&o](const std::vector<std::string>& items) {
    o.stop_ids.clear();
    for (const auto& v : items) {
      uint64_t id = opt::parse_uint(v, "stop_ids");
      if (id > 0x7fffffff) opt::fail("stop_ids", "holds an id out of range, got " + echoed(v));
      o.stop_ids.push_back(static_cast<int32_t>(id));
    }
  };
  stop.json = [&o] {
    std::string t = "[";
    for (size_t i = 0; i < o.stop_ids.size(); ++i) t += (i ? "," : "") + std::to_string(o.stop_ids[i]);
    return t + "]";
  };
  stop.flag("--stop-id");
  opt::Field& bias = s.custom(
      "logit_bias",
      [&o] {
        std::string t;
        for (auto [id, b] : o.logit_bias) t += (t.empty() ? "" : " ") + std::to_string(id) + "=" + opt::real_text(b);
        return t;
      },
      [&o](const std::string& v) { o.logit_bias = {parse_logit_bias(v)}; }, "ID=BIAS...",
      "Add BIAS (-100 to 100) to token ID's logit before sampling (OpenAI's logit_bias; -100 bans, 100 forces)");
  bias.type = opt::Type::List;
  bias.set_list = [&o](const std::vector<std::string>& items) {
    o.logit_bias.clear();
    for (const auto& v : items) o.logit_bias.push_back(parse_logit_bias(v));
  };
  bias.json = [&o] {
    std::string t = "{";
    for (size_t i = 0; i < o.logit_bias.size(); ++i)
      t += (i ? ",\"" : "\"") + std::to_string(o.logit_bias[i].first) + "\":" + opt::real_text(o.logit_bias[i].second);
    return t + "}";
  };
}

std::pair<int32_t, float> parse_logit_bias(const std::string& item) {
  const size_t eq = item.find('=');
  if (eq == std::string::npos) opt::fail("logit_bias", "wants ID=BIAS, got " + echoed(item));
  const uint64_t id = opt::parse_uint(item.substr(0, eq), "logit_bias");
  if (id > 0x7fffffff) opt::fail("logit_bias", "holds an id out of range, got " + echoed(item));
  const double b = opt::parse_real(item.substr(eq + 1), "logit_bias");
  if (!(b >= -100 && b <= 100)) opt::fail("logit_bias", "wants a bias from -100 to 100, got " + echoed(item));
  return {static_cast<int32_t>(id), static_cast<float>(b)};
}


double Sampler::uniform() { return uniform01(rng_); }

int32_t Sampler::sample_in_place(std::span<float> logits, const std::vector<int32_t>& history) {
  const int V = static_cast<int>(logits.size());
  if (o_.vocab_limit > 0 && o_.vocab_limit < V)
    std::fill(logits.begin() + o_.vocab_limit, logits.end(), -std::numeric_limits<float>::infinity());
  for (auto [t, b] : o_.logit_bias)  // -inf (masked, past the vocabulary) stays -inf
    if (t >= 0 && t < V) logits[t] += b;
  if (o_.repetition_penalty != 1.0 || o_.presence_penalty != 0 || o_.frequency_penalty != 0) {
    // Each distinct token of the history once, with its count.
    counts_.clear();
    for (int32_t t : history)
      if (t >= 0 && t < V) counts_.push_back({t, 1});
    std::sort(counts_.begin(), counts_.end());
    size_t n = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      if (n > 0 && counts_[n - 1].first == counts_[i].first) ++counts_[n - 1].second;
      else counts_[n++] = counts_[i];
    }
    counts_.resize(n);
    for (auto [t, c] : counts_) {
      if (o_.repetition_penalty != 1.0)
        logits[t] = logits[t] > 0 ? logits[t] / o_.repetition_penalty : logits[t] * o_.repetition_penalty;
      if (o_.presence_penalty != 0 || o_.frequency_penalty != 0)
        logits[t] -= static_cast<float>(o_.presence_penalty + o_.frequency_penalty * c);
    }
  }
  if (o_.temperature <= 0)
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  const double T = o_.temperature;
  const double mx = *std::max_element(logits.begin(), logits.end());
  // No truncation: draw from the whole softmax in one pass, no ordering needed.
  if (o_.top_k <= 0 && o_.top_p >= 1.0 && o_.min_p <= 0) {
    double z = 0;
    for (float l : logits) z += std::exp((l - mx) / T);
    double u = uniform() * z;
    int32_t last = 0;
    for (int i = 0; i < V; ++i) {
      const double p = std::exp((logits[i] - mx) / T);
      if (p <= 0) continue;
      last = i;
      u -= p;
      if (u <= 0) return i;
    }
    return last;
  }
  // Truncation needs the most likely tokens in order (ties by id): order a head of k and grow
  // it only when top-p or min-p reach its end, instead of sorting the whole vocabulary.
  const int head = o_.top_k > 0 ? std::min(V, o_.top_k) : V;  // the distribution's support
  double z = 0;
  std::vector<int32_t>& idx = idx_;
  idx.resize(static_cast<size_t>(V));
  std::iota(idx.begin(), idx.end(), 0);
  auto by_logit = [&](int32_t a, int32_t b) { return logits[a] != logits[b] ? logits[a] > logits[b] : a < b; };
  int k = o_.top_k > 0 ? head : std::min(V, 256);
  std::vector<double>& p = p_;
  int keep = 0;
  for (;;) {
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), by_logit);
    z = 0;
    if (head == V)
      for (float l : logits) z += std::exp((l - mx) / T);
    else
      for (int i = 0; i < head; ++i) z += std::exp((logits[idx[i]] - mx) / T);
    p.resize(static_cast<size_t>(k));
    for (int i = 0; i < k; ++i) p[i] = std::exp((logits[idx[i]] - mx) / T) / z;
    keep = k;
    bool grow = false;
    if (o_.top_p < 1.0) {
      double cum = 0;
      int n = 0;
      while (n < keep && cum < o_.top_p) cum += p[n++];
      if (cum < o_.top_p && n == k && k < head) grow = true;
      keep = std::max(1, n);
    }
    if (!grow && o_.min_p > 0) {
      int n = 1;
      while (n < keep && p[n] >= o_.min_p * p[0]) ++n;
      if (n == k && k < head) grow = true;
      keep = n;
    }
    if (!grow) break;
    k = static_cast<int>(std::min<int64_t>(head, int64_t(k) * 8));
  }
  double total = 0;
  for (int i = 0; i < keep; ++i) total += p[i];
  double u = uniform() * total;
  for (int i = 0; i < keep; ++i) {
    u -= p[i];
    if (u <= 0) return idx[i];
  }
  return idx[keep - 1];
}

namespace {

// Checks the prompt against the vocabulary and the context; returns the positions needed.
int check_prompt(const std::vector<int32_t>& prompt, const SamplingOptions& options, int64_t vocab,
                 int64_t context) {
  if (prompt.empty()) usage_error("empty prompt", "generate", "give a prompt or a BOS id");
  for (int32_t t : prompt)
    if (t < 0 || t >= vocab) usage_error("prompt token " + std::to_string(t) + " is outside the vocabulary", "generate");
  const int64_t cap = int64_t(prompt.size()) + std::max(0, options.max_tokens);
  if (cap > context)
    usage_error("prompt plus max_tokens (" + std::to_string(cap) + ") exceeds the model's context of " +
                    std::to_string(context),
                "generate", "lower --max-tokens");
  return static_cast<int>(cap);
}

// The sampling loop over any model: `logits` are the prompt's last, feed(t) returns the next.
template <class Feed>
std::vector<int32_t> sample_loop(const std::vector<int32_t>& prompt, const SamplingOptions& options,
                                 std::vector<float> logits, Feed&& feed, const std::function<bool(int32_t)>& on_token) {
  Sampler sampler(options);
  std::vector<int32_t> history = prompt, out;
  for (int i = 0; i < options.max_tokens; ++i) {
    int32_t next = sampler.sample_in_place(logits, history);  // feed() refills the logits
    out.push_back(next);
    history.push_back(next);
    bool go_on = on_token(next);
    if (!go_on || std::find(options.stop_ids.begin(), options.stop_ids.end(), next) != options.stop_ids.end())
      break;
    if (i + 1 < options.max_tokens) feed(next, logits);
  }
  return out;
}

}  // namespace

std::vector<int32_t> generate(Llama& model, const std::vector<int32_t>& prompt,
                              const SamplingOptions& options,
                              const std::function<bool(int32_t)>& on_token) {
  const int cap = check_prompt(prompt, options, model.config().vocab_size, model.config().max_position_embeddings);
  model.reset_cache(cap);
  return sample_loop(prompt, options, model.decode(prompt),
                     [&](int32_t t, std::vector<float>& logits) { logits = model.decode({t}); }, on_token);
}

std::vector<int32_t> generate(SlotDecoder& decoder, int slot, const std::vector<int32_t>& prompt,
                              const SamplingOptions& options, const std::function<bool(int32_t)>& on_token) {
  check_prompt(prompt, options, decoder.vocab_size(), decoder.context());
  const int reused = decoder.reuse_prefix(slot, prompt);
  std::vector<float> logits(static_cast<size_t>(decoder.vocab_size()));
  decoder.prefill(slot, prompt.data() + reused, static_cast<int>(prompt.size()) - reused, logits.data());
  return sample_loop(prompt, options, std::move(logits),
                     [&](int32_t t, std::vector<float>& z) { decoder.step(&slot, &t, 1, z.data()); }, on_token);
}

}  // namespace nlm::model
