// LoRA adapters as HF PEFT stores them, so an adapter trained here loads in PEFT
// (PeftModel.from_pretrained) and one trained with PEFT merges here: adapter_config.json
// (peft_type LORA, r, lora_alpha, lora_dropout, target_modules, modules_to_save) and
// adapter_model.safetensors with PEFT's names, e.g.
// base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight, and
// base_model.model.model.embed_tokens.weight / base_model.model.lm_head.weight for modules
// trained fully.
#pragma once
#include <string>

#include "model/llama.h"

namespace nlm::model {

// Writes dir/adapter_config.json and dir/adapter_model.safetensors (float32) for the model's
// adapters and fully trained modules; `base_model` goes into base_model_name_or_path. Each file
// is published atomically. A model without LoRA is a usage error.
void save_peft_adapter(const std::string& dir, const Llama& model, const std::string& base_model);

// adapter_config.json of `dir` as a LoraConfig. PEFT settings nativelm does not implement
// (DoRA, rsLoRA, rank/alpha patterns, layer subsets, biases, regex targets) are usage errors
// naming the key, never silently different weights.
LoraConfig read_peft_config(const std::string& dir);

// Loads the adapter in `dir` into `model`: adds adapters with its config when the model has
// none (otherwise the configs must agree), then every adapter tensor (and the fully trained
// modules it holds) with shapes checked. Stored F32/BF16/F16 convert to the model's dtype.
void load_peft_adapter(const std::string& dir, Llama& model);

// True when dir holds adapter_config.json.
bool is_peft_adapter(const std::string& dir);

}  // namespace nlm::model
