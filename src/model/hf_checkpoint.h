// HF model directories both ways: config.json + model.safetensors, or shards
// model-0000i-of-0000n.safetensors with model.safetensors.index.json. Tensor names, shapes and
// dtypes are those transformers' LlamaForCausalLM / Qwen2ForCausalLM / MistralForCausalLM use,
// so a saved directory loads there, and HF checkpoints load here for continued pretraining.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/llama.h"

namespace nlm::model {

struct SaveOptions {
  // Storage dtype of the weights: F32 (exact for an F32 model), BF16 or F16 (half the size).
  // Unset: the model's own dtype when it is BF16 (exact, and what it computes in), else F32.
  std::optional<tensor::DType> dtype;
  // Split into shards of at most this many bytes (0 = one model.safetensors).
  uint64_t max_shard_bytes = 0;
};

// Writes config.json and the weights into dir (created if needed); each file is published
// atomically. Tied models store no lm_head.weight, as transformers does.
void save_hf_model(const std::string& dir, const Llama& model, const SaveOptions& options = {});

// Rows to add when a tokenizer was extended: new token id → the old-vocabulary ids it was made
// from. New rows of the embedding and LM head start as the mean of those rows.
struct VocabExtension {
  std::map<int64_t, std::vector<int64_t>> pieces;
};
// Reads new_tokens.json from `nativelm tokenizer extend` ([{"id", "token", "pieces"}, ...]) or
// an object {"<new id>": [old ids...]}; throws a usage error naming the file.
VocabExtension read_vocab_extension(const std::string& path);

// Loads the weights of dir into `model`. Every model tensor must be present with the model's
// shape, except that the vocabulary dimension may be smaller in the checkpoint when `extension`
// covers every missing row. Stored F32/BF16/F16/F64 convert to the model's dtype (a BF16 model
// rounds F32 weights to nearest even; BF16 weights load into an F32 model exactly).
void load_hf_weights(const std::string& dir, Llama& model, const VocabExtension* extension = nullptr);

// Reads config.json (vocab_size raised to cover `extension`), builds the model, loads weights.
std::unique_ptr<Llama> load_hf_model(const std::string& dir, tensor::Backend& backend,
                                     ModelOptions options = {},
                                     const VocabExtension* extension = nullptr);

// The ids of generation_config.json's eos_token_id (a number or a list, as transformers writes
// it) in `dir`; empty when the file or the key is absent. A malformed file is a usage error.
// Chat models list their end-of-turn token there beside config.json's EOS.
std::vector<int64_t> load_generation_eos_ids(const std::string& dir);

// Files of a model directory: the weight files in order (single or sharded).
std::vector<std::string> hf_weight_files(const std::string& dir);

}  // namespace nlm::model
