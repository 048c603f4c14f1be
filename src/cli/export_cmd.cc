// `nativelm export gguf MODEL_DIR -o FILE.gguf`: an HF model folder as a GGUF file for llama.cpp.
// Flags come from model::declare (ExportGgufOptions); the work is model::export_gguf.
#include <cstdio>

#include "cli/option_flags.h"
#include "model/gguf_export.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto& group = cli::group(root, "export", "Write models in other tools' formats");
  auto* sub = group.add_subcommand("gguf", "An HF model folder as one GGUF file that llama.cpp runs");
  auto c = std::make_shared<cli::Bound<model::ExportGgufOptions>>("export gguf");
  auto model_dir = std::make_shared<std::string>();
  sub->add_option("model", *model_dir, "HF model folder (config.json, safetensors, tokenizer.json)")->required();
  model::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, model_dir] {
    if (!c->flags->apply()) return 0;
    auto res = c->run([&] { return model::export_gguf(*model_dir, c->options); });
    std::string line = res.summary();
    std::fwrite(line.data(), 1, line.size(), stdout);
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(75, setup);
