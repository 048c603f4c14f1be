// Fuzzes the .tok token shard reader (data::TokShardReader): the 64-byte header and the document
// offset table are validated on open, so afterwards every document and token must be readable;
// the harness walks them all (bounded) to let ASan check that promise.
#include "data/token_shard.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlm::fuzz::expect_only_nlm_errors([&] {
    std::string path = nlm::fuzz::write_input("shard.tok", nlm::fuzz::as_view(data, size));
    nlm::data::TokShardReader reader(path);
    auto offsets = reader.doc_offsets();
    if (offsets.front() != 0 || offsets.back() != reader.size()) std::abort();
    uint64_t sum = 0;
    for (uint64_t d = 0; d < reader.docs() && d < 4096; ++d) {
      for (uint32_t t : reader.document(d)) sum += t;
    }
    for (uint64_t i = 0; i < reader.size() && i < 65536; ++i) sum += reader.token(i);
    volatile uint64_t sink = sum;
    (void)sink;
  });
  return 0;
}
