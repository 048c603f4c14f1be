// `nativelm synth qa|rephrase`: documents → chunks → an OpenAI-compatible generator → parsed
// outputs → quality filters (length, format, language, grounding, dedup) → JSONL shards that a
// rerun resumes, with every rejection counted by reason.
#pragma once
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "synth/synth_options.h"

namespace nlm::synth {

struct SynthTotals {
  // The funnel: "chunks", "chunks_too_short", "requests", "request_failed", "candidates",
  // "malformed", "truncated", "too_short", "too_long", "wrong_language", "ungrounded",
  // "copies_source", "contaminated", "duplicate", "kept".
  std::map<std::string, uint64_t> counts;
  int64_t prompt_tokens = 0, completion_tokens = 0;
  double cost = 0;              // USD from --price-prompt / --price-completion
  uint64_t shards = 0, shards_resumed = 0;
  uint64_t count(const std::string& k) const {
    auto it = counts.find(k);
    return it == counts.end() ? 0 : it->second;
  }
};

// Runs the task over `inputs` (JSONL or text documents, optionally compressed) into
// options.output: part-NNNNN.jsonl shards (each published atomically with its .stats.json;
// finished shards of an earlier run with the same options are kept, not regenerated), run.json
// and summary.json. An endpoint that cannot be reached or keeps failing is a runtime error naming
// its URL; finished shards stay. Prints the funnel to `out`.
SynthTotals run_synth(const std::vector<std::string>& inputs, const SynthOptions& options, std::ostream& out);

}  // namespace nlm::synth
