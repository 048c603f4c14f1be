// Token sampling for generation, applied in the usual order: logit bias (OpenAI's logit_bias:
// a per-token value added to the raw logit), repetition penalty (CTRL style:
// positive logits of seen tokens divided, negative multiplied), presence and frequency penalties
// (OpenAI's), temperature, top-k, top-p
// (nucleus), min-p (relative to the most likely token), then a draw from a seeded RNG.
// Temperature 0 is greedy decoding.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "model/llama.h"

namespace nlm::opt {
class Schema;
}

namespace nlm::model {

struct SamplingOptions {
  double temperature = 0.8;        // 0 = greedy
  int top_k = 40;                  // 0 = off
  double top_p = 0.95;             // 1 = off
  double min_p = 0.0;              // 0 = off
  double repetition_penalty = 1.0; // 1 = off
  double presence_penalty = 0.0;   // OpenAI's: logit −= p for each token seen (0 = off)
  double frequency_penalty = 0.0;  // OpenAI's: logit −= f·count (0 = off)
  uint64_t seed = 0;
  int max_tokens = 128;            // new tokens at most
  std::vector<int32_t> stop_ids;   // e.g. the EOS id; generation ends after emitting one
  // OpenAI's logit_bias: (token id, bias in [-100, 100]) added to that token's raw logit before
  // the penalties and sampling; -100 in effect bans a token, +100 in effect forces it. Ids at or
  // past the logits' size are ignored here (front ends refuse them).
  std::vector<std::pair<int32_t, float>> logit_bias;
  // Ids at or above this are never sampled (0 = no limit): a model's embedding rows past the
  // tokenizer's vocabulary (padding) have no text. Set by callers, not a user option.
  int64_t vocab_limit = 0;
};

// The sampling keys, each once (`nativelm generate` flags, the pipeline's eval stage keys; the
// defaults also go to generation_config.json). max_tokens is spelled max_new_tokens, as in HF.
void declare(opt::Schema& schema, SamplingOptions& options);
// One logit_bias item "ID=BIAS" (BIAS from -100 to 100); throws OptionError naming logit_bias.
std::pair<int32_t, float> parse_logit_bias(const std::string& item);

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& o) : o_(o), rng_(o.seed) {}
  // Picks the next token from logits [V] given the tokens so far (for the repetition penalty).
  int32_t sample(std::vector<float> logits, const std::vector<int32_t>& history) {
    return sample_in_place(logits, history);
  }
  // The same on the caller's buffer, which it changes (penalties, masking). The ordering buffers
  // are the sampler's own and reused, so a token costs no allocation once the first is drawn.
  int32_t sample_in_place(std::span<float> logits, const std::vector<int32_t>& history);

 private:
  double uniform();
  SamplingOptions o_;
  uint64_t rng_;
  std::vector<int32_t> idx_;  // ids ordered by logit (the head that truncation needs)
  std::vector<double> p_;     // their probabilities
  std::vector<std::pair<int32_t, int>> counts_;  // (token, times seen) for the penalties
};

class SlotDecoder;

// Feeds the prompt, then samples up to max_tokens tokens, calling on_token for each; stops at a
// stop id or when on_token returns false. Returns the new tokens.
std::vector<int32_t> generate(Llama& model, const std::vector<int32_t>& prompt,
                              const SamplingOptions& options,
                              const std::function<bool(int32_t)>& on_token);
// The same on an inference engine's `slot`; cached tokens that begin the prompt are reused.
std::vector<int32_t> generate(SlotDecoder& decoder, int slot, const std::vector<int32_t>& prompt,
                              const SamplingOptions& options, const std::function<bool(int32_t)>& on_token);

}  // namespace nlm::model
