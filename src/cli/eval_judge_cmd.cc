// `nativelm eval judge RECORDS.jsonl --endpoint URL -o DIR`: LLM-as-judge against an
// OpenAI-compatible endpoint. Flags come from eval::judge::declare (JudgeOptions); the work is
// one run_judge call.
#include <iostream>

#include "cli/option_flags.h"
#include "eval/judge/run_judge.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  auto& group = cli::group(root, "eval", "Evaluate models");
  auto* sub = group.add_subcommand(
      "judge", "Grade answers (or compare two) with a judge model behind an OpenAI-compatible API (docs/judge.md)");
  auto c = std::make_shared<cli::Bound<eval::judge::JudgeOptions>>("eval judge");
  auto input = std::make_shared<std::string>();
  sub->add_option("records", *input, "JSONL records: question + answer, or question + answer_a + answer_b")->required();
  eval::judge::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, input] {
    if (!c->flags->apply()) return 0;
    c->run([&] { return eval::judge::run_judge(*input, c->options, std::cout); });
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(64, setup);
