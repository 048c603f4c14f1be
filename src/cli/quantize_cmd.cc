// `nativelm quantize MODEL_DIR CALIBRATION... --format int8|int4|fp8 -o OUT`: post-training
// quantisation with a report. Flags come from compress::declare (QuantizeOptions); the work is
// compress::quantize_model.
#include <cstdio>

#include "cli/option_flags.h"
#include "compress/quantize.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("quantize", "Quantise a model's linears to int8, int4 (optionally AWQ) or FP8 "
                                              "using calibration text, and report the perplexity, size and speed cost");
  auto c = std::make_shared<cli::Bound<compress::QuantizeOptions>>("quantize");
  auto model_dir = std::make_shared<std::string>();
  sub->add_option("model", *model_dir, "HF model folder to quantise")->required();
  cli::literal_list(sub->add_option("calibration", c->options.calibration,
                                    "Calibration text, JSONL or .tok files in the model's language")
                        ->required());
  compress::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, model_dir] {
    if (!c->flags->apply()) return 0;
    auto r = c->run([&] { return compress::quantize_model(*model_dir, c->options); });
    std::string text = r.summary();
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(78, setup);
