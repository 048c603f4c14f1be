// `nativelm synth prefs`: preference pairs for DPO. Each prompt gets --samples answers from one
// or two OpenAI-compatible endpoints; answers that pass the quality checks are judged by the
// `eval judge` prompts and rules (pairwise in both orders, or 1-10 ratings), and clear wins are
// written as prompt/chosen/rejected records `nativelm dpo` reads, into resumable JSONL shards.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "synth/run_synth.h"

namespace nlm::synth {

SynthTotals run_prefs(const std::vector<std::string>& inputs, const SynthOptions& options, std::ostream& out);

}  // namespace nlm::synth
