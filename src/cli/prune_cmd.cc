// `nativelm prune MODEL_DIR CALIBRATION... -o OUT`: depth and width pruning by importance on
// calibration text. Flags come from compress::declare (PruneOptions); the work is
// compress::prune_model.
#include <cstdio>

#include "cli/option_flags.h"
#include "compress/prune.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("prune", "Remove the least important layers, FFN neurons or KV groups of a model, "
                                           "measured on calibration text (Minitron-style)");
  auto c = std::make_shared<cli::Bound<compress::PruneOptions>>("prune");
  auto model_dir = std::make_shared<std::string>();
  sub->add_option("model", *model_dir, "HF model folder to prune")->required();
  cli::literal_list(sub->add_option("calibration", c->options.calibration,
                                    "Calibration text, JSONL or .tok files in the model's language")
                        ->required());
  compress::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, model_dir] {
    if (!c->flags->apply()) return 0;
    auto r = c->run([&] { return compress::prune_model(*model_dir, c->options); });
    std::string text = r.summary();
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(77, setup);
