// Fuzzes safetensors reading (model::SafetensorsReader): the 8-byte length, the JSON header and
// every entry's bounds are validated on open, so afterwards each entry's bytes must be readable;
// the harness touches the first and last byte of each to let ASan check that promise.
#include "fuzz_util.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlm::fuzz::expect_only_nlm_errors([&] {
    std::string path = nlm::fuzz::write_input("model.safetensors", nlm::fuzz::as_view(data, size));
    nlm::model::SafetensorsReader reader(path);
    volatile uint8_t sink = 0;
    for (const auto& e : reader.entries()) {
      if (e.end < e.begin) std::abort();
      if (e.end > e.begin) sink = sink ^ reader.data(e)[0] ^ reader.data(e)[e.end - e.begin - 1];
      if (reader.find(e.name) == nullptr) std::abort();
    }
    (void)sink;
  });
  return 0;
}
