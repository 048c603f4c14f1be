// `nativelm export gguf MODEL_DIR -o FILE.gguf`: an HF model folder as a GGUF file for llama.cpp;
// `nativelm export hf MODEL_DIR -o DIR`: a complete HF folder (dtype, shards, template, adapter).
// Flags come from model::declare (ExportGgufOptions, ExportHfOptions); the work is
// model::export_gguf and model::export_hf.
#include <cstdio>

#include "cli/option_flags.h"
#include "model/gguf_export.h"
#include "model/hf_export.h"

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

  auto* hf = group.add_subcommand("hf", "A complete HF model folder: dtype, shards, tokenizer and chat template, "
                                        "optionally with a LoRA adapter merged");
  auto h = std::make_shared<cli::Bound<model::ExportHfOptions>>("export hf");
  auto hf_dir = std::make_shared<std::string>();
  hf->add_option("model", *hf_dir, "HF model folder to export")->required();
  model::declare(h->schema, h->options);
  h->bind(*hf);
  actions[hf] = [h, hf_dir] {
    if (!h->flags->apply()) return 0;
    auto res = h->run([&] { return model::export_hf(*hf_dir, h->options); });
    std::string line = res.summary();
    std::fwrite(line.data(), 1, line.size(), stdout);
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(75, setup);
