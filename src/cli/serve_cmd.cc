// `nativelm serve MODEL_DIR`: an OpenAI-compatible HTTP server for one model folder. Flags come
// from serve::declare (ServeOptions); the work is serve::run_serve.
#include "cli/option_flags.h"
#include "serve/options.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("serve", "Serve a model over the OpenAI HTTP API, decoding several requests in one batch (continuous batching)");
  auto c = std::make_shared<cli::Bound<serve::ServeOptions>>("serve");
  auto dir = std::make_shared<std::string>();
  sub->add_option("model_dir", *dir, "HF model folder (config.json, safetensors, tokenizer.json)");
  serve::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, dir] {
    if (!c->flags->apply()) return 0;
    if (!dir->empty()) c->options.model_dir = *dir;
    if (c->options.model_dir.empty()) usage_error("no model folder", "serve", "give MODEL_DIR or --model");
    c->run([&] { serve::run_serve(c->options); });
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(75, setup);
