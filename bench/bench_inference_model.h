// The models the inference benchmarks share (bench_decode, bench_serve): a ~10M and a ~110M
// Llama with random weights (speed does not depend on them), saved as an HF folder with a small
// byte-level tokenizer and exported to GGUF with `nativelm export gguf`'s code, so nativelm and
// llama.cpp run the very same weights; and the decode rate measured as llama-bench's tg128.
#pragma once
#include <algorithm>
#include <fstream>
#include <string>

#include "harness.h"
#include "model/config.h"
#include "model/decoder.h"
#include "model/gguf_export.h"
#include "model/hf_checkpoint.h"
#include "model/llama.h"
#include "tokenizer/trainer.h"

namespace nlm::bench {

inline model::ModelConfig inference_config(const std::string& size) {
  model::ModelConfig c;
  c.tie_word_embeddings = true;
  c.max_position_embeddings = 2048;
  c.bos_token_id = 1;
  c.eos_token_id = 2;
  if (size == "10m") {  // 10.1M: vocab 8192, d=320, 6 layers, 5 heads of 64
    c.vocab_size = 8192;
    c.hidden_size = 320;
    c.intermediate_size = 864;
    c.num_hidden_layers = 6;
    c.num_attention_heads = 5;
    c.num_key_value_heads = 5;
  } else {  // 110M: vocab 32000, d=768, 12 layers, 12 heads of 64 (GPT-2 small's shape)
    c.vocab_size = 32000;
    c.hidden_size = 768;
    c.intermediate_size = 2048;
    c.num_hidden_layers = 12;
    c.num_attention_heads = 12;
    c.num_key_value_heads = 12;
  }
  return c;
}

// A 300-token byte-level BPE (GGUF pads the vocabulary to the model's embedding rows).
inline tokenizer::Tokenizer small_tokenizer(const std::string& scratch) {
  {
    std::ofstream t(scratch + "/corpus.txt");
    for (int i = 0; i < 50; ++i) t << "Euskara Euskal Herrian hitz egiten den hizkuntza da. Tá an aimsir go hálainn inniu.\n";
  }
  tokenizer::TrainOptions to;
  to.vocab_size = 300;
  return tokenizer::train_bpe({scratch + "/corpus.txt"}, to);
}

inline void save_model_folder(const std::string& dir, const model::Llama& m, const tokenizer::Tokenizer& tok) {
  model::save_hf_model(dir, m);
  tok.save(dir);
}

// Exports dir's model as dir/<name>.gguf and returns the path.
inline std::string export_gguf_file(const std::string& dir, model::GgufOutType type, const std::string& name) {
  model::ExportGgufOptions eo;
  eo.type = type;
  eo.output = dir + "/" + name + ".gguf";
  model::export_gguf(dir, eo);
  return eo.output;
}

// Tokens/s of decoding 128 tokens from an empty context, as llama-bench's tg test measures it:
// the first token is fed as a one-token prefill, and each next one is a pseudo-random id rather
// than a sampled one (llama-bench feeds std::rand() % n_vocab and never reads the logits, so
// picking the argmax here — ~2 % of a 10M step — would time work the peer does not do).
inline double tg128(model::Decoder& d, int reps) {
  std::vector<double> rates;
  std::vector<float> z(static_cast<size_t>(d.vocab_size()));
  uint32_t state = 12345;
  for (int r = 0; r <= reps; ++r) {
    d.truncate(0, 0);
    int32_t tok = 1;
    const double t0 = bench::now_seconds();
    d.prefill(0, &tok, 1, z.data());
    for (int i = 1; i < 128; ++i) {
      state = state * 1664525u + 1013904223u;
      tok = static_cast<int32_t>((state >> 8) % static_cast<uint32_t>(d.vocab_size()));
      const int32_t slot = 0;
      d.step(&slot, &tok, 1, z.data());
    }
    if (r > 0) rates.push_back(128 / (bench::now_seconds() - t0));  // the first run warms up
  }
  return bench::sample_of(rates).median;
}

}  // namespace nlm::bench
