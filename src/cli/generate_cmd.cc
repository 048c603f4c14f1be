// `nativelm generate`: KV-cache sampling from an HF model directory: text in and streamed text
// out through the directory's tokenizer.json, or token ids with --prompt-ids. Flags come from
// model::declare (GenerateOptions, with the sampling keys the pipeline's eval stage shares); the
// work is model::run_generate.
#include <iostream>

#include "cli/option_flags.h"
#include "model/text_generation.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("generate", "Generate tokens from a model with a KV cache");
  auto c = std::make_shared<cli::Bound<model::GenerateOptions>>("generate");
  auto prompt = std::make_shared<std::string>();
  sub->add_option("prompt", *prompt, "Prompt text (read from stdin when absent)");
  model::declare(c->schema, c->options);
  c->bind(*sub);
  sub->get_option("--model")->required();
  actions[sub] = [c, prompt] {
    if (!c->flags->apply()) return 0;
    c->run([&] { model::run_generate(c->options, *prompt, std::cin, std::cout); });
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(70, setup);
