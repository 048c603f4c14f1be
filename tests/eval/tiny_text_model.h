// A tiny random Llama with a BPE tokenizer trained on a few words, for the eval tests that score
// text (loglikelihood, task files). Random weights with a wide initializer give peaked
// distributions, so greedy choices are clear.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/llama.h"
#include "tensor/backend.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/trainer.h"

namespace nlm::testing {

inline model::ModelConfig tiny_config(int64_t vocab, int64_t bos, int64_t max_positions = 64) {
  model::ModelConfig c;
  c.vocab_size = vocab;
  c.hidden_size = 16;
  c.intermediate_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = max_positions;
  c.bos_token_id = bos;
  c.eos_token_id = bos;
  c.initializer_range = 0.5;  // peaked distributions, so greedy choices are clear
  return c;
}

struct TextModel {
  tokenizer::Tokenizer tok;
  std::unique_ptr<model::Llama> model;
};

inline TextModel text_model(int64_t max_positions = 64, uint64_t seed = 7) {
  tokenizer::TrainOptions o;
  o.vocab_size = 300;
  o.min_frequency = 1;
  o.special_tokens = {"<|begin_of_text|>"};
  std::vector<std::pair<std::string, uint64_t>> counts = {
      {"The", 9}, {" cat", 7}, {" sat", 6}, {" on", 5}, {" the", 8}, {" mat", 4}, {"Tá", 3}, {" sé", 3}};
  TextModel t{tokenizer::train_bpe_from_counts(counts, o), nullptr};
  const uint32_t bos = t.tok.token_id("<|begin_of_text|>");
  t.model = std::make_unique<model::Llama>(tiny_config(t.tok.vocab_size(), bos, max_positions),
                                           tensor::backend_for("cpu"));
  t.model->init_random(seed);
  return t;
}

}  // namespace nlm::testing
