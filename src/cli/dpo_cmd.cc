// `nativelm dpo MODEL_DIR DATA.jsonl... -o OUT`: flags come from train::declare(DpoTrainOptions)
// (src/train/dpo.cc); this file adds the positionals, an optional YAML config applied first, and
// makes one library call, train::run_dpo.
#include <cstdio>

#include "cli/option_flags.h"
#include "cli/training_run.h"
#include "train/dpo.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("dpo", "Direct Preference Optimization of an HF model folder on prompt/chosen/rejected JSONL");
  auto c = std::make_shared<cli::Bound<train::DpoTrainOptions>>("dpo");
  sub->add_option("model", c->options.model_dir, "HF model folder to train")->required();
  cli::literal_list(sub->add_option("data", c->options.data, "Training JSONL files (.gz/.zst/.bz2 ok)")->required());
  train::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c] {
    if (!c->flags->apply()) return 0;
    const auto& o = c->options;
    return cli::run_training([&] {
      auto r = c->run([&] { return train::run_dpo(o); });
      if (r.train.rank != 0) return;  // data parallel: rank 0 reports for all
      std::printf("trained %lld steps on %llu pairs of %llu records (%llu bad, %llu truncated, %llu dropped)",
                  static_cast<long long>(r.train.steps), static_cast<unsigned long long>(r.pairs),
                  static_cast<unsigned long long>(r.records), static_cast<unsigned long long>(r.bad),
                  static_cast<unsigned long long>(r.truncated), static_cast<unsigned long long>(r.dropped));
      std::printf(": loss %.4f", r.train.last_loss);
      if (r.train.last_eval_loss >= 0) std::printf(", eval loss %.4f", r.train.last_eval_loss);
      for (const auto& [name, v] : r.last_eval)
        if (name == "rewards/accuracies") std::printf(", eval reward accuracy %.3f", v);
      std::printf("; %s\n", train::outputs_text(r.train).c_str());
    });
  };
}

}  // namespace

NLM_REGISTER_COMMAND(56, setup);
