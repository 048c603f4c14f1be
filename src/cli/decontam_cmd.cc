// `nativelm decontam`: flags come from dedup::declare(DecontamOptions) in
// src/curate/dedup/options.cc; this file adds the positional inputs and makes one library call.
#include "cli/option_flags.h"
#include "cli/read_flags.h"
#include "corpus/inputs.h"
#include "curate/dedup/decontam.h"
#include "curate/dedup/options.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("decontam", "Remove or flag training text that overlaps benchmark test items");
  auto c = std::make_shared<cli::Bound<dedup::DecontamOptions>>("decontam");
  sub->add_option("inputs", c->inputs, "Training corpus: files, folders or globs")->required();
  dedup::declare(c->schema, c->options);
  cli::add_read_options(c->schema, c->options.read, &c->options.shards);
  c->bind(*sub);
  sub->get_option("--output")->required();
  sub->get_option("--benchmark")->required();
  actions[sub] = [c] {
    if (!c->flags->apply()) return 0;
    auto result = c->run([&] { return dedup::run_decontam(corpus::expand_inputs(c->inputs), c->options); });
    std::printf("%s\n", result.summary().c_str());
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(31, setup);
