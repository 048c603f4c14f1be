// `nativelm distill --teacher T --student S DATA.tok... -o OUT`: flags come from
// train::declare(DistillOptions) (src/train/distill.cc); this file adds the positionals and makes
// one library call, train::run_distill.
#include <cstdio>

#include "cli/option_flags.h"
#include "cli/training_run.h"
#include "train/distill.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("distill", "Knowledge distillation of a frozen teacher model into a student on .tok shards");
  auto c = std::make_shared<cli::Bound<train::DistillOptions>>("distill");
  cli::literal_list(sub->add_option("data", c->options.data, "Training .tok shards or folders of them")->required());
  train::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c] {
    if (!c->flags->apply()) return 0;
    const auto& o = c->options;
    return cli::run_training([&] {
      auto r = c->run([&] { return train::run_distill(o); });
      if (r.train.rank != 0) return;  // data parallel: rank 0 reports for all
      std::printf("distilled %lld steps: loss %.4f", static_cast<long long>(r.train.steps), r.train.last_loss);
      if (r.train.last_eval_loss >= 0) std::printf(", eval loss %.4f", r.train.last_eval_loss);
      if (r.train.last_eval_bpb >= 0) std::printf(", eval bits/byte %.4f", r.train.last_eval_bpb);
      if (r.last_eval_kl >= 0) std::printf(", eval KL to teacher %.4f", r.last_eval_kl);
      std::printf("; %s\n", train::outputs_text(r.train).c_str());
    });
  };
}

}  // namespace

NLM_REGISTER_COMMAND(57, setup);
