// Fuzzes HF config.json parsing (model::parse_hf_config), then writes the parsed config back to
// JSON and parses that again: a config the library accepts must survive its own round trip.
#include "fuzz_util.h"
#include "model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlm::fuzz::expect_only_nlm_errors([&] {
    std::string text(nlm::fuzz::as_view(data, size));
    nlm::model::ModelConfig config = nlm::model::parse_hf_config(text, "fuzz/config.json");
    config.parameter_count();
    nlm::model::parse_hf_config(nlm::model::to_hf_config_json(config), "round trip");
  });
  return 0;
}
