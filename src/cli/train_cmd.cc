// `nativelm train`: flags come from train::declare (src/train/options.cc); an optional YAML config
// file is applied first and flags override it; then one library call, train::run_train.
#include <cstdio>

#include "cli/option_flags.h"
#include "cli/training_run.h"
#include "train/trainer.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("train", "Pretrain or continue pretraining a Llama-family model on .tok shards");
  auto c = std::make_shared<cli::Bound<train::TrainOptions>>("train");
  auto config = std::make_shared<std::string>();
  sub->add_option("config", *config, "YAML config (keys in docs/train.md); flags override it");
  train::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, config] {
    if (!config->empty()) c->flags->set_config(train::apply_train_config(c->schema, c->options, *config));
    if (!c->flags->apply()) return 0;
    const auto& o = c->options;
    return cli::run_training([&] {
      auto r = c->run([&] { return train::run_train(o); });
      if (r.rank != 0) return;  // data parallel: rank 0 reports for all
      std::printf("trained %lld steps: loss %.4f", static_cast<long long>(r.steps), r.last_loss);
      if (r.last_eval_loss >= 0) std::printf(", eval loss %.4f", r.last_eval_loss);
      if (r.last_eval_bpb >= 0) std::printf(", eval bits/byte %.4f", r.last_eval_bpb);
      std::printf(", %.0f tokens/s, MFU %.1f%% of %.0f GFLOP/s sgemm; %s\n", r.tokens_per_second, 100 * r.mfu,
                  r.sgemm_gflops, train::outputs_text(r).c_str());
    });
  };
}

}  // namespace

NLM_REGISTER_COMMAND(50, setup);
