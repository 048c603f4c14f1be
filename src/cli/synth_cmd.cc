// `nativelm synth qa|rephrase DOCS...`, `synth translate SFT.jsonl...` and `synth prefs
// PROMPTS.jsonl...` with --endpoint URL --lang L -o DIR: synthetic training data through an
// OpenAI-compatible model. Flags come from synth::declare (SynthOptions); the work is one
// run_synth call.
#include <iostream>

#include "cli/option_flags.h"
#include "corpus/inputs.h"
#include "synth/run_synth.h"

namespace {

using namespace nlm;

void add(CLI::App& group, cli::Actions& actions, const char* name, const char* help, synth::SynthTask task,
         const char* inputs_help) {
  auto* sub = group.add_subcommand(name, help);
  auto c = std::make_shared<cli::Bound<synth::SynthOptions>>(std::string("synth ") + name);
  auto inputs = std::make_shared<std::vector<std::string>>();
  sub->add_option("inputs", *inputs, inputs_help)->required();
  synth::declare(c->schema, c->options);
  c->bind(*sub);
  actions[sub] = [c, inputs, task] {
    if (!c->flags->apply()) return 0;
    c->options.task = task;
    c->run([&] { return synth::run_synth(corpus::expand_inputs(*inputs), c->options, std::cout); });
    return 0;
  };
}

const char* const kDocs = "Documents: JSONL or text files (optionally compressed) or folders";

void setup(CLI::App& root, cli::Actions& actions) {
  auto& group =
      cli::group(root, "synth",
                 "Synthetic data through an OpenAI-compatible model: Q/A, rephrasings, translations, preference pairs");
  add(group, actions, "qa", "Question-answer pairs grounded in document chunks, as SFT JSONL (docs/synth.md)",
      synth::SynthTask::Qa, kDocs);
  add(group, actions, "rephrase", "Wikipedia-style rephrasings of noisy documents, as documents JSONL (docs/synth.md)",
      synth::SynthTask::Rephrase, kDocs);
  add(group, actions, "translate",
      "Instruction sets (SFT JSONL) translated into --lang, code and placeholders kept (docs/synth.md)",
      synth::SynthTask::Translate,
      "SFT JSONL files (messages, or prompt/completion; optionally compressed) or folders");
  add(group, actions, "prefs", "DPO preference pairs: sampled answers judged by an LLM judge (docs/synth.md)",
      synth::SynthTask::Prefs, "JSONL files of prompts (prompt, or messages; optionally compressed) or folders");
}

}  // namespace

NLM_REGISTER_COMMAND(66, setup);
