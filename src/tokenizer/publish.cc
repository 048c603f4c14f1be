// Tokenizer folder publication with a manifest.
#include "tokenizer/publish.h"

#include "core/stage_output.h"

namespace nlm::tokenizer {

void publish_tokenizer(const Tokenizer& tok, const std::string& dir, const std::string& stage,
                       const std::string& options_json, const std::vector<std::string>& inputs,
                       const std::string& stats_json, double seconds,
                       const std::vector<std::string>& extra_outputs) {
  tok.save(dir);
  Manifest m = plan_stage(stage, options_json, inputs);
  for (const char* name : {"tokenizer.json", "tokenizer_config.json"})
    m.outputs.push_back(describe_file(dir + "/" + name, name));
  m.outputs.front().records = tok.vocab_size();
  for (auto& name : extra_outputs) m.outputs.push_back(describe_file(dir + "/" + name, name));
  publish_stage(dir, std::move(m), seconds, stats_json);
}

}  // namespace nlm::tokenizer
