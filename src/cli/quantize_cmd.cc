// `nativelm quantize MODEL_DIR CALIBRATION... --format int8|int4|fp8 -o OUT`: post-training
// quantisation with a report. Flags come from compress::declare (QuantizeOptions); the work is
// compress::quantize_model.
#include "cli/calibrated_model_command.h"
#include "compress/quantize.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  cli::add_calibrated_model_command<compress::QuantizeOptions>(
      root, actions, "quantize",
      "Quantise a model's linears to int8, int4 (optionally AWQ) or FP8 using calibration text, and report the "
      "perplexity, size and speed cost",
      "HF model folder to quantise",
      [](const std::string& model_dir, const compress::QuantizeOptions& o) {
        return compress::quantize_model(model_dir, o);
      });
}

}  // namespace

NLM_REGISTER_COMMAND(78, setup);
