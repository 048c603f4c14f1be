// `nativelm plan`: flags come from plan::declare (src/plan/plan.cc); one library call makes the
// plan, which is printed, and its train YAML is written when --output is given.
#include <cstdio>

#include "cli/option_flags.h"
#include "core/atomic_file.h"
#include "plan/plan.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand(
      "plan", "Size a pretraining run for a GPU/CPU budget and a dataset: shape, batch, memory, time, a train YAML");
  auto c = std::make_shared<cli::Bound<plan::PlanOptions>>("plan");
  plan::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c] {
    if (!c->flags->apply()) return 0;
    const auto& o = c->options;
    auto p = c->run([&] { return plan::make_plan(o); });
    std::string text = plan::plan_text(p);
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (!o.output.empty()) {
      write_file_atomic(o.output, plan::train_yaml(p, o));
      std::printf("train config written to %s (run: nativelm train %s)\n", o.output.c_str(), o.output.c_str());
    }
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(49, setup);
