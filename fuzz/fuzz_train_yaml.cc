// Fuzzes train config files (train::load_train_yaml): every declared key, the data sources (a
// list of paths or {shards, weight} mappings) and the resolve step that checks them together.
#include "fuzz_util.h"
#include "train/trainer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlm::fuzz::expect_only_nlm_errors([&] {
    std::string path = nlm::fuzz::write_input("train.yaml", nlm::fuzz::as_view(data, size));
    nlm::train::TrainOptions options;
    nlm::train::load_train_yaml(path, options);
    nlm::train::config_json(options);
  });
  return 0;
}
