// `nativelm prune MODEL_DIR CALIBRATION... -o OUT`: depth and width pruning by importance on
// calibration text. Flags come from compress::declare (PruneOptions); the work is
// compress::prune_model.
#include "cli/calibrated_model_command.h"
#include "compress/prune.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  cli::add_calibrated_model_command<compress::PruneOptions>(
      root, actions, "prune",
      "Remove the least important layers, FFN neurons or KV groups of a model, measured on calibration text "
      "(Minitron-style)",
      "HF model folder to prune",
      [](const std::string& model_dir, const compress::PruneOptions& o) { return compress::prune_model(model_dir, o); });
}

}  // namespace

NLM_REGISTER_COMMAND(77, setup);
