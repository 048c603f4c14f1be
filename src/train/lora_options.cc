// The one declaration of the LoRA options (see lora_options.h).
#include "train/lora_options.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "core/options.h"

namespace nlm::train {

void declare(opt::Schema& s, LoraOptions& o) {
  s.add("lora.rank", o.rank, "LoRA rank r; 0 trains every weight (full fine-tuning)").flag("--lora-rank").range(0, 65536);
  s.add("lora.alpha", o.alpha, "LoRA alpha; the adapters' output is scaled by alpha/rank").flag("--lora-alpha").min(1e-9);
  s.add("lora.dropout", o.dropout, "Dropout on the adapters' input while training (PEFT's lora_dropout)")
      .flag("--lora-dropout")
      .range(0, 0.99);
  s.add("lora.targets", o.targets,
        "Projections that get adapters: q_proj k_proj v_proj o_proj gate_proj up_proj down_proj (names or commas), "
        "or all-linear")
      .flag("--lora-targets");
  s.add("lora.train_embeddings", o.train_embeddings,
        "Also train the embeddings fully (needed when the tokenizer gained new tokens)")
      .flag("--lora-train-embeddings");
  s.add("lora.train_lm_head", o.train_lm_head, "Also train the LM head fully (tied models: the embeddings)")
      .flag("--lora-train-lm-head");
  s.add("lora.merge", o.merge, "Fold the adapters into the weights at the end: model/ is a plain HF model "
                               "(adapter/ holds the PEFT adapter either way)")
      .flag("--merge");
  // "q_proj,v_proj" and "all-linear" as users of PEFT write them.
  s.derive([&o] {
    std::vector<std::string> out;
    for (const auto& item : o.targets) {
      size_t start = 0;
      while (start <= item.size()) {
        size_t comma = item.find(',', start);
        std::string name = item.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (name == "all-linear") out.insert(out.end(), model::lora_target_names().begin(), model::lora_target_names().end());
        else if (!name.empty()) out.push_back(name);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    o.targets = out;
  });
  s.check([&o] {
    if (!o.enabled()) return;
    if (o.targets.empty()) opt::fail("lora.targets", "is empty", "name projections, e.g. q_proj,v_proj, or all-linear");
    const auto& known = model::lora_target_names();
    for (size_t i = 0; i < o.targets.size(); ++i) {
      if (std::find(known.begin(), known.end(), o.targets[i]) == known.end())
        opt::fail("lora.targets", "names " + echoed(o.targets[i]) + ", which is not a projection of a Llama layer",
                  "known: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, or all-linear");
      if (std::find(o.targets.begin(), o.targets.begin() + static_cast<std::ptrdiff_t>(i), o.targets[i]) !=
          o.targets.begin() + static_cast<std::ptrdiff_t>(i))
        opt::fail("lora.targets", "names " + o.targets[i] + " twice");
    }
  });
}

std::string lora_fingerprint(const LoraOptions& o) {
  if (!o.enabled()) return "";
  std::string targets;
  for (const auto& t : o.targets) targets += (targets.empty() ? "" : ",") + t;
  char alpha[32];
  std::snprintf(alpha, sizeof alpha, "%g", o.alpha);
  return " lora=r" + std::to_string(o.rank) + "/a" + alpha + "/" + targets + (o.train_embeddings ? "/emb" : "") +
         (o.train_lm_head ? "/head" : "");
}

}  // namespace nlm::train
