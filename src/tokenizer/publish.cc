// Tokenizer folder publication with a manifest.
#include "tokenizer/publish.h"

#include "core/manifest.h"

namespace nlm::tokenizer {

void publish_tokenizer(const Tokenizer& tok, const std::string& dir, const std::string& stage,
                       const std::string& options_json, const std::vector<std::string>& inputs,
                       const std::string& stats_json, double seconds,
                       const std::vector<std::string>& extra_outputs) {
  tok.save(dir);
  Manifest m;
  m.stage = stage;
  m.options_json = options_json;
  m.stats_json = stats_json;
  m.seconds = seconds;
  for (auto& f : inputs) m.inputs.push_back(describe_file(f));
  for (const char* name : {"tokenizer.json", "tokenizer_config.json"})
    m.outputs.push_back(describe_file(dir + "/" + name, name));
  m.outputs.front().records = tok.vocab_size();
  for (auto& name : extra_outputs) m.outputs.push_back(describe_file(dir + "/" + name, name));
  write_manifest(dir, m);
}

}  // namespace nlm::tokenizer
