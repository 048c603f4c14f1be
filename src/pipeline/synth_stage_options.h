// The `synth` stage's keys (every key of `nativelm synth` but the output folder, plus `task` and
// `inputs`) and the table of synth tasks: which SynthTask each `task:` name runs and which
// artifact its records become for later stages. A new synth task is one row of that table.
#pragma once
#include <string>
#include <vector>

#include "synth/synth_options.h"

namespace nlm::opt {
class Schema;
}

namespace nlm::pipeline {

// What a synth task's kept records are for the stages after it.
enum class SynthOutput {
  SftData,    // chats ("messages"): the sft stage's data with from_synth
  Documents,  // texts ("text"): joined to the documents that tokenizer, tokenize and train read
  DpoData,    // preference pairs: the dpo stage's data with from_synth
};

struct SynthTaskKind {
  const char* name;  // the `task:` value
  synth::SynthTask task;
  SynthOutput output;
  bool reads_documents;  // reads the curated documents by default; else only `inputs:` (instructions, prompts)
};

// Every task a synth stage can run, in the order the docs list them.
const std::vector<SynthTaskKind>& synth_task_kinds();
const SynthTaskKind& synth_task_kind(synth::SynthTask task);
// The `task:` values whose records become `output`, e.g. "qa" (for hints in errors).
std::string synth_task_names(SynthOutput output);

struct SynthStageOptions {
  synth::SynthOptions synth;        // `task` is synth.task; `output` is the stage folder
  std::vector<std::string> inputs;  // documents to read instead of the previous stage's
};
// The stage's keys: `task`, synth::declare's keys without `output` (and the CLI-only `force`),
// and `inputs`.
void declare(opt::Schema& schema, SynthStageOptions& options);

}  // namespace nlm::pipeline
