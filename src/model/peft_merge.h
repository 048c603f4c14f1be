// `nativelm merge`: a LoRA adapter folder (PEFT's, or one nativelm wrote without --merge) folded
// into its base model, written as a plain HF model folder that every tool loads — what PEFT's
// merge_and_unload() + save_pretrained() give, without Python.
#pragma once
#include <string>

#include "tensor/dtype.h"

namespace nlm::opt {
class Schema;
}

namespace nlm::model {

struct MergeOptions {
  std::string adapter;  // folder with adapter_config.json and adapter_model.safetensors
  std::string output;   // the merged HF model folder
  tensor::DType dtype = tensor::DType::F32;  // storage dtype of the merged weights
};
void declare(opt::Schema& schema, MergeOptions& options);

struct MergeResult {
  std::string output;
  int adapters = 0;         // projections merged
  int full_modules = 0;     // fully trained modules replaced (embeddings, LM head)
  std::string summary() const;
};

// Loads base_dir, the adapter, merges, and writes options.output as export_hf does (one
// safetensors file): weights and config.json plus the tokenizer and generation files of the base,
// the adapter folder's own copies winning (a chat template that SFT wrote travels along).
MergeResult merge_adapter(const std::string& base_dir, const MergeOptions& options);

}  // namespace nlm::model
