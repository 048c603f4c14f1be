// `nativelm export hf`: a complete HF model folder from any model folder nativelm loads —
// config.json, safetensors in the requested dtype (sharded with an index above a size), the
// tokenizer and its config with the chat template, and generation_config.json — with a LoRA
// adapter merged in on the way when one is given. What transformers' save_pretrained writes, so a
// model trained here is published or handed to other tools in one command.
#pragma once
#include <cstdint>
#include <string>

#include "tensor/dtype.h"

namespace nlm::opt {
class Schema;
}

namespace nlm::model {

struct ExportHfOptions {
  std::string output;                        // the folder to write
  tensor::DType dtype = tensor::DType::BF16;  // storage dtype of the weights
  uint64_t max_shard_bytes = uint64_t{5} << 30;  // shard above this (transformers' default 5 GB); 0 = one file
  std::string adapter;                       // a LoRA adapter folder to merge in first ("" = none)
  std::string chat_template;                 // a Jinja file that replaces the folder's template ("" = keep)
};
void declare(opt::Schema& schema, ExportHfOptions& options);

struct ExportHfResult {
  std::string output;
  int shards = 0;
  uint64_t bytes = 0;        // weight bytes written
  bool merged = false;       // an adapter was merged
  int adapters = 0;          // its LoRA projections
  int full_modules = 0;      // its fully trained modules (embeddings, LM head)
  bool chat_template = false;
  std::string summary() const;
};

// Copies the tokenizer and generation files of an HF folder (tokenizer.json, tokenizer_config.json,
// special_tokens_map.json, generation_config.json, chat_template.jinja, tokenizer.model) that
// exist into `to`, replacing what is there; each published atomically.
void copy_model_files(const std::string& from, const std::string& to);

// Usage errors name the folder: no config.json, output = input, an unreadable adapter or template.
ExportHfResult export_hf(const std::string& model_dir, const ExportHfOptions& options);

}  // namespace nlm::model
