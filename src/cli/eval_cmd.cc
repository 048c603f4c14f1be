// `nativelm eval ppl`: rolling-window perplexity of an HF model directory over the documents of
// .tok shards or of text/JSONL files (encoded with the model's tokenizer.json). Flags come from
// eval::declare (PerplexityOptions) and the reader's declaration; one library call per step.
#include <cstdio>

#include "cli/option_flags.h"
#include "cli/read_flags.h"
#include "corpus/inputs.h"
#include "eval/evaluate.h"

namespace {

using namespace nlm;

struct PplCommand {
  eval::PerplexityOptions ppl;
  corpus::ReadOptions read;
};

void declare(opt::Schema& s, PplCommand& c) {
  eval::declare(s, c.ppl);
  cli::add_read_options(s, c.read);
}

void setup(CLI::App& root, cli::Actions& actions) {
  auto& group = cli::group(root, "eval", "Evaluate models");
  auto* sub = group.add_subcommand("ppl", "Perplexity (bits per byte, byte and token perplexity), lm-eval-harness rolling windows");
  auto c = std::make_shared<cli::Bound<PplCommand>>("eval ppl");
  auto model_dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  sub->add_option("-m,--model", *model_dir, "HF model directory")->required();
  sub->add_option("inputs", c->inputs,
                  ".tok shards, or documents (JSONL or text; .gz/.zst/.bz2 ok) encoded with the model's "
                  "tokenizer.json; files, folders or globs; each document is scored separately")
      ->required();
  sub->add_flag("--json", *json, "Print JSON");
  declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, model_dir, json] {
    if (!c->flags->apply()) return 0;
    const auto& o = c->options;
    auto res = c->run(
        [&] { return eval::perplexity_of_files(*model_dir, corpus::expand_inputs(c->inputs), o.read, o.ppl); });
    std::string out = *json ? res.to_json() : res.to_table();
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(60, setup);
