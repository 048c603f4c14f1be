// `nativelm tokenize`: documents -> .tok token shards. The flags come from data::declare
// (src/data/tokenize_shards.cc); this file adds the positional inputs and makes one library call.
#include <cstdio>
#include <memory>

#include "cli/option_flags.h"
#include "cli/read_flags.h"
#include "corpus/inputs.h"
#include "data/tokenize_shards.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("tokenize", "Tokenize documents into .tok shards (train/val) for training");
  auto c = std::make_shared<cli::Bound<data::TokenizeOptions>>("tokenize");
  sub->add_option("inputs", c->inputs, "Files, folders or globs (JSONL or text; .gz/.zst/.bz2 ok)")->required();
  data::declare(c->schema, c->options);
  cli::add_read_options(c->schema, c->options.read);
  c->bind(*sub);
  sub->get_option("--tokenizer")->required();
  sub->get_option("--output")->required();
  actions[sub] = [c] {
    if (!c->flags->apply()) return 0;
    auto r = c->run([&] { return data::tokenize_to_shards(corpus::expand_inputs(c->inputs), c->options); });
    std::printf("%s\n", r.summary().c_str());
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(40, setup);
