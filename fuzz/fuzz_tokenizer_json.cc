// Fuzzes tokenizer.json loading (tokenizer::Tokenizer::from_json), then uses whatever loaded:
// encodes a short mixed-script string (with and without special tokens), decodes the ids back and
// serialises the tokenizer again, so a file that loads cannot leave a model that crashes later.
#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlm::fuzz::expect_only_nlm_errors([&] {
    auto tok = nlm::tokenizer::Tokenizer::from_json(nlm::fuzz::as_view(data, size), "fuzz.json");
    static const std::string_view kTexts[] = {
        "Hello wörld 123!", "  Tá mé anseo\n\tagus 日本語 ", "\xff\xfe broken \xc3", "<s>a</s>"};
    for (std::string_view text : kTexts) {
      for (bool special : {false, true}) {
        std::vector<uint32_t> ids = tok.encode(text, special);
        for (uint32_t id : ids)
          if (id >= tok.vocab_size()) std::abort();  // encode only gives ids the model has
        tok.decode(ids, special);
      }
    }
    tok.to_json();
  });
  return 0;
}
