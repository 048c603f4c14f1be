// Publishing a tokenizer folder: tokenizer.json + tokenizer_config.json (atomically) and a
// manifest.json recording the stage, its options, the inputs and the outputs.
#pragma once
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace nlm::tokenizer {

// `inputs` are described (size + hash) in the manifest; `extra_outputs` are file names already
// written in `dir` that the manifest should list too.
void publish_tokenizer(const Tokenizer& tok, const std::string& dir, const std::string& stage,
                       const std::string& options_json, const std::vector<std::string>& inputs,
                       const std::string& stats_json, double seconds,
                       const std::vector<std::string>& extra_outputs = {});

}  // namespace nlm::tokenizer
