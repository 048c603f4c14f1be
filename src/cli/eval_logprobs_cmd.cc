// `nativelm eval logprobs MODEL FILE.jsonl`: per-token log-probabilities of text and of
// (context, continuation) requests as JSONL on stdout. Flags come from eval::declare
// (LogprobsOptions); the work is one eval::run_logprobs call.
#include <iostream>

#include "cli/option_flags.h"
#include "eval/logprobs.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto& group = cli::group(root, "eval", "Evaluate models");
  auto* sub = group.add_subcommand(
      "logprobs", "Per-token log-probabilities of JSONL requests (lm-eval loglikelihood / rolling)");
  auto c = std::make_shared<cli::Bound<eval::LogprobsOptions>>("eval logprobs");
  auto model_dir = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  sub->add_option("model", *model_dir, "HF model directory (with tokenizer.json)")->required();
  sub->add_option("requests", *file, "JSONL: {\"text\"} or {\"context\", \"continuation\"} per line")->required();
  eval::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, model_dir, file] {
    if (!c->flags->apply()) return 0;
    c->run([&] { eval::run_logprobs(*model_dir, *file, c->options, std::cout); });
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(62, setup);
