// `nativelm chat MODEL_DIR`: an interactive conversation in the terminal through the model's chat
// template, one user line at a time from stdin. Flags come from serve::declare (ChatOptions); the
// work is serve::run_chat.
#include <unistd.h>

#include <iostream>

#include "cli/option_flags.h"
#include "serve/chat.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("chat", "Chat with a model in the terminal through its chat template");
  auto c = std::make_shared<cli::Bound<serve::ChatOptions>>("chat");
  auto dir = std::make_shared<std::string>();
  sub->add_option("model_dir", *dir, "HF model folder (config.json, safetensors, tokenizer.json)");
  serve::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, dir] {
    if (!c->flags->apply()) return 0;
    if (!dir->empty()) c->options.model_dir = *dir;
    if (c->options.model_dir.empty()) usage_error("no model folder", "chat", "give MODEL_DIR or --model");
    c->run([&] { serve::run_chat(c->options, std::cin, std::cout, std::cerr, isatty(STDIN_FILENO) != 0); });
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(76, setup);
