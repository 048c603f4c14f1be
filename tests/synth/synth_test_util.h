// Helpers the synth tests share: options pointed at a scripted stub endpoint, and the text of a
// run's shards for byte-for-byte comparisons.
#pragma once
#include <string>

#include "synth/synth_options.h"
#include "test_util.h"

namespace nlm::synth::testing_util {

// Options for `task` against the stub at `url`, writing to `out`, with short retry waits.
inline SynthOptions stub_options(SynthTask task, const std::string& url, const std::string& out,
                                 const std::string& lang) {
  SynthOptions o;
  o.task = task;
  o.endpoint = url;
  o.model = "stub";
  o.lang = lang;
  o.output = out;
  o.retry_wait = 0.01;
  o.timeout = 10;
  return o;
}

// part-00000.jsonl .. part-0000{n-1}.jsonl of `folder`, concatenated.
inline std::string all_parts(const std::string& folder, int n = 3) {
  std::string s;
  for (int k = 0; k < n; ++k) s += testing::read_text(folder + "/part-0000" + std::to_string(k) + ".jsonl");
  return s;
}

}  // namespace nlm::synth::testing_util
