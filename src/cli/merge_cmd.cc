// `nativelm merge BASE_DIR ADAPTER_DIR -o OUT`: a LoRA adapter folded into its base model, as an
// HF model folder. Flags come from model::declare (MergeOptions); the work is model::merge_adapter.
#include <cstdio>

#include "cli/option_flags.h"
#include "model/peft_merge.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("merge", "Fold a LoRA adapter (PEFT's or nativelm's) into its base model");
  auto c = std::make_shared<cli::Bound<model::MergeOptions>>("merge");
  auto base = std::make_shared<std::string>();
  sub->add_option("base", *base, "Base model's HF folder (the one the adapter was trained on)")->required();
  sub->add_option("adapter", c->options.adapter, "LoRA adapter folder (adapter_config.json + adapter_model.safetensors)")
      ->required();
  model::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, base] {
    if (!c->flags->apply()) return 0;
    auto r = c->run([&] { return model::merge_adapter(*base, c->options); });
    std::string line = r.summary();
    std::fwrite(line.data(), 1, line.size(), stdout);
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(52, setup);
