// `nativelm eval compare RUN...`: a leaderboard across `eval run --output` folders (docs/eval.md).
// Flags come from eval::declare (CompareOptions); the work is one run_eval_compare call.
#include <iostream>

#include "cli/option_flags.h"
#include "pipeline/compare_report.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto& group = cli::group(root, "eval", "Evaluate models");
  auto* sub = group.add_subcommand("compare", "Leaderboard of eval run results across models and tasks (docs/eval.md)");
  auto c = std::make_shared<cli::Bound<eval::CompareOptions>>("eval compare");
  auto runs = std::make_shared<std::vector<std::string>>();
  sub->add_option("runs", *runs, "eval run --output folders or results.json files")->required();
  eval::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, runs] {
    if (!c->flags->apply()) return 0;
    c->run([&] { pipeline::run_eval_compare(*runs, c->options, std::cout); });
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(64, setup);
