// The synth task table and the synth stage's declaration (synth_stage_options.h).
#include "pipeline/synth_stage_options.h"

#include <set>
#include <utility>

#include "core/options.h"

namespace nlm::pipeline {

const std::vector<SynthTaskKind>& synth_task_kinds() {
  static const std::vector<SynthTaskKind> kinds = {
      {"qa", synth::SynthTask::Qa, SynthOutput::SftData, true},
      {"rephrase", synth::SynthTask::Rephrase, SynthOutput::Documents, true},
      {"translate", synth::SynthTask::Translate, SynthOutput::SftData, false},
      {"prefs", synth::SynthTask::Prefs, SynthOutput::DpoData, false},
  };
  return kinds;
}

const SynthTaskKind& synth_task_kind(synth::SynthTask task) {
  for (const auto& k : synth_task_kinds())
    if (k.task == task) return k;
  return synth_task_kinds().front();  // unreachable: every task the stage can parse is in the table
}

std::string synth_task_names(SynthOutput output) {
  std::string names;
  for (const auto& k : synth_task_kinds())
    if (k.output == output) names += (names.empty() ? "" : " or ") + std::string(k.name);
  return names;
}

void declare(opt::Schema& s, SynthStageOptions& o) {
  std::vector<std::pair<std::string, synth::SynthTask>> names;
  for (const auto& k : synth_task_kinds()) names.emplace_back(k.name, k.task);
  // The description follows the table, so a new task needs no edit here.
  std::string doc = "What the stage makes:";
  const std::pair<SynthOutput, const char*> uses[] = {
      {SynthOutput::SftData, "chats for a from_synth sft stage"},
      {SynthOutput::Documents, "documents added to those later stages read"},
      {SynthOutput::DpoData, "preference pairs for a from_synth dpo stage"}};
  for (const auto& [output, use] : uses)
    if (const std::string tasks = synth_task_names(output); !tasks.empty())
      doc += std::string(doc.back() == ':' ? " " : "; ") + tasks + " → " + use;
  s.choice("task", o.synth.task, names, doc);
  synth::declare(s, o.synth);
  s.add("inputs", o.inputs,
        "Files, folders or globs to read: instead of the curate or dedup stage's documents (qa, rephrase); the "
        "instruction set (translate) or the prompts (prefs), required");
  // How the endpoint is reached and what it costs do not change the records (run_synth's run.json
  // leaves them out too): changing them must not rerun, or clear, a paid-for stage.
  const std::set<std::string> not_in_fingerprint = {
      "endpoint", "judge_endpoint", "api_key_env", "concurrency",  "requests_per_minute", "tokens_per_minute",
      "retries",  "retry_wait",     "timeout",     "price_prompt", "price_completion"};
  for (auto& f : s.fields()) {
    if (f.key == "output") f.no_yaml().no_json().no_flag();  // the stage folder's data/
    if (not_in_fingerprint.count(f.key)) f.no_json();
  }
}

}  // namespace nlm::pipeline
