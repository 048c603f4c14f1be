// Fuzzes GGUF reading (model::gguf::Reader): every count, length, type and offset is validated on
// open, so afterwards every known tensor must dequantise and every other tensor's stated bytes be
// readable; the harness reads them all to let ASan check that promise.
#include "fuzz_util.h"
#include "model/gguf_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlm::fuzz::expect_only_nlm_errors([&] {
    std::string path = nlm::fuzz::write_input("model.gguf", nlm::fuzz::as_view(data, size));
    nlm::model::gguf::Reader reader(path);
    volatile float sink = 0;
    for (const auto& t : reader.tensors()) {
      if (reader.find_tensor(t.name) == nullptr) std::abort();
      if (!nlm::model::gguf::known_tensor_type(t.type)) continue;
      std::vector<float> v = reader.read_f32(t);
      if (v.size() != static_cast<size_t>(t.elements())) std::abort();
      if (!v.empty()) sink = sink + v.front() + v.back();
    }
    for (const auto& [key, value] : reader.metadata())
      if (reader.find(key) != &value) std::abort();
    (void)sink;
  });
  return 0;
}
