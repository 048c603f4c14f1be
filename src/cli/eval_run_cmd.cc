// `nativelm eval run MODEL_DIR --tasks FILE.yaml[,...]`: lm-eval-style task files against a model.
// Flags come from eval::tasks::declare (TaskRunOptions); the work is one run_eval_tasks call.
#include <iostream>

#include "cli/option_flags.h"
#include "eval/tasks/run_tasks.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto& group = cli::group(root, "eval", "Evaluate models");
  auto* sub = group.add_subcommand("run", "Evaluate a model on lm-eval-style task YAML files (docs/eval.md)");
  auto c = std::make_shared<cli::Bound<eval::tasks::TaskRunOptions>>("eval run");
  auto model_dir = std::make_shared<std::string>();
  auto tasks = std::make_shared<std::vector<std::string>>();
  sub->add_option("model", *model_dir, "HF model directory (with tokenizer.json)")->required();
  sub->add_option("--tasks", *tasks, "Task YAML files, comma-separated")->required()->delimiter(',');
  eval::tasks::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, model_dir, tasks] {
    if (!c->flags->apply()) return 0;
    c->run([&] { eval::tasks::run_eval_tasks(*model_dir, *tasks, c->options, std::cout); });
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(63, setup);
