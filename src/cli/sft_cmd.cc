// `nativelm sft MODEL_DIR DATA.jsonl... -o OUT`: flags come from train::declare(SftTrainOptions)
// (src/train/sft.cc); this file adds the positionals, an optional YAML config applied first, and
// makes one library call, train::run_sft.
#include <cstdio>

#include "cli/option_flags.h"
#include "cli/training_run.h"
#include "train/sft.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto* sub = root.add_subcommand("sft", "Supervised fine-tuning of an HF model folder on chat or prompt/completion JSONL");
  auto c = std::make_shared<cli::Bound<train::SftTrainOptions>>("sft");
  sub->add_option("model", c->options.model_dir, "HF model folder to fine-tune")->required();
  cli::literal_list(sub->add_option("data", c->options.data, "Training JSONL files (.gz/.zst/.bz2 ok)")->required());
  train::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c] {
    if (!c->flags->apply()) return 0;
    const auto& o = c->options;
    return cli::run_training([&] {
      auto r = c->run([&] { return train::run_sft(o); });
      if (r.train.rank != 0) return;  // data parallel: rank 0 reports for all
      std::printf("fine-tuned %lld steps on %llu of %llu records (%llu bad, %llu truncated, %llu dropped)",
                  static_cast<long long>(r.train.steps), static_cast<unsigned long long>(r.examples),
                  static_cast<unsigned long long>(r.records), static_cast<unsigned long long>(r.bad),
                  static_cast<unsigned long long>(r.truncated), static_cast<unsigned long long>(r.dropped));
      std::printf(": loss %.4f", r.train.last_loss);
      if (r.train.last_eval_loss >= 0) std::printf(", eval loss %.4f", r.train.last_eval_loss);
      std::printf(", %.0f tokens/s; %s\n", r.train.tokens_per_second, train::outputs_text(r.train).c_str());
    });
  };
}

}  // namespace

NLM_REGISTER_COMMAND(55, setup);
