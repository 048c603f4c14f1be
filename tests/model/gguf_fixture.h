// A tiny nativelm model folder for the GGUF export tests: a byte-level BPE tokenizer trained on
// Irish and Thai text, and a randomly initialised Llama-family model of that vocabulary with
// weights large enough that the logits spread over several units (so agreement checks have
// signal), saved as nativelm train saves a model (config.json, model.safetensors, tokenizer).
#pragma once
#include <random>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/gguf_export.h"
#include "model/hf_checkpoint.h"
#include "model/llama.h"
#include "tensor/backend.h"
#include "test_util.h"
#include "tokenizer/trainer.h"

namespace nlm::testing {

inline const char* kIrishThaiText =
    "Is maith liom caife ar maidin agus tae tráthnóna.\n"
    "Tá an aimsir go hálainn inniu, ach beidh báisteach ann amárach.\n"
    "Níl aon tinteán mar do thinteán féin.\n"
    "Ar scáth a chéile a mhaireann na daoine.\n"
    "Is fearr Gaeilge bhriste ná Béarla cliste.\n"
    "Tús maith leath na hoibre, agus 2024 an bhliain.\n"
    "ภาษาไทยเป็นภาษาที่มีเสียงวรรณยุกต์ คนไทยพูดภาษาไทยทุกวัน\n"
    "ฉันชอบกินข้าวผัดและต้มยำกุ้ง วันนี้อากาศดีมาก\n"
    "เด็กๆ เรียนหนังสือที่โรงเรียนใกล้บ้าน 123 คน\n";

// Trains the tokenizer on kIrishThaiText (repeated) in `scratch`: byte-level with `rule`, or
// SentencePiece style (▁ and byte fallback).
inline tokenizer::Tokenizer gguf_test_tokenizer(const std::string& scratch,
                                                tokenizer::SplitRule rule = tokenizer::SplitRule::Llama3,
                                                tokenizer::TrainMode mode = tokenizer::TrainMode::ByteLevel) {
  std::string text;
  for (int i = 0; i < 20; ++i) text += kIrishThaiText;
  write_text(scratch + "/corpus.txt", text);
  tokenizer::TrainOptions o;
  o.vocab_size = 400;
  o.rule = rule;
  o.mode = mode;
  return tokenizer::train_bpe({scratch + "/corpus.txt"}, o);
}

// llama, `layers` layers (2), GQA 4:2 heads of 16, hidden `hidden` (64: rows are whole Q8_0/Q4_0
// blocks) and a SwiGLU width of 1.5 × hidden.
inline model::ModelConfig gguf_test_config(int64_t vocab, int64_t hidden = 64, int64_t layers = 2) {
  model::ModelConfig c;
  c.vocab_size = vocab;
  c.hidden_size = hidden;
  c.intermediate_size = hidden * 3 / 2;
  c.num_hidden_layers = layers;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 16;
  c.max_position_embeddings = 128;
  c.initializer_range = 0.4;
  c.bos_token_id = -1;
  return c;
}

// Saves a model of config `c` (random weights from `seed`) and the tokenizer into dir. Norm
// weights and biases are random too (1 ± 0.3 and ± 0.3), so a swapped or misplaced 1-D tensor
// changes the logits.
inline void save_gguf_test_model(const std::string& dir, const model::ModelConfig& c,
                                 const tokenizer::Tokenizer& tok, uint64_t seed = 7) {
  model::Llama m(c, tensor::backend_for("cpu"));
  m.init_random(seed);
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> u(-0.3f, 0.3f);
  for (model::Param& p : m.params()) {
    if (p.value.shape().size() != 1) continue;
    std::vector<float> v(static_cast<size_t>(p.value.numel()));
    const bool bias = p.name.ends_with(".bias");
    for (float& x : v) x = (bias ? 0.0f : 1.0f) + u(rng);
    m.backend().upload(p.value, v.data(), tensor::DType::F32);
  }
  model::save_hf_model(dir, m);
  tok.save(dir);
}

// Exports model_dir to `out` as `type`; returns out.
inline std::string export_gguf_file(const std::string& model_dir, const std::string& out, model::GgufOutType type) {
  model::ExportGgufOptions o;
  o.output = out;
  o.type = type;
  model::export_gguf(model_dir, o);
  return out;
}

}  // namespace nlm::testing
