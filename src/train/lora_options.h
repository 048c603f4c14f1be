// The LoRA options of `train`, `sft` and `dpo` (keys lora.*, flags --lora-*), declared once for
// all three, and what a run does with them: adapters on the loaded model, the run fingerprint,
// and the adapter/ and (with merge) model/ folders at the end. docs/lora.md explains them.
#pragma once
#include <string>

#include "model/lora.h"

namespace nlm::opt {
class Schema;
}
namespace nlm::model {
class Llama;
}

namespace nlm::train {

struct LoraOptions : model::LoraConfig {
  // Fold the adapters into the weights at the end, so model/ is a plain HF model (adapter/ is
  // written either way).
  bool merge = false;
};

// Declares lora.rank (0 = off), lora.alpha, lora.dropout, lora.targets (names, commas or
// all-linear), lora.train_embeddings, lora.train_lm_head and lora.merge.
void declare(opt::Schema& schema, LoraOptions& options);

// "" without LoRA, else " lora=r8/a16/q_proj,v_proj[/emb][/head]": a checkpoint of another
// adapter shape is not resumed.
std::string lora_fingerprint(const LoraOptions& options);

}  // namespace nlm::train
