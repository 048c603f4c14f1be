// `nativelm synth translate`: SFT records (chat `messages`, or `prompt`/`completion`) translated
// message by message into --lang through an OpenAI-compatible model, keeping their structure,
// their code (masked, never sent) and their placeholders and URLs (checked), each translation
// passing the quality funnel, into resumable JSONL shards `nativelm sft` reads.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "synth/run_synth.h"

namespace nlm::synth {

SynthTotals run_translate(const std::vector<std::string>& inputs, const SynthOptions& options, std::ostream& out);

}  // namespace nlm::synth
