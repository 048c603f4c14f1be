// generate_text's streamed pieces add up to the text it returns, also when an untrained model
// samples byte tokens that form invalid or unfinished UTF-8 (decoding shows those as U+FFFD,
// which a later byte can turn into a real character).
#include <gtest/gtest.h>

#include "model/text_generation.h"
#include "tensor/backend.h"
#include "tokenizer/trainer.h"
#include "model_helpers.h"

namespace nlm::testing {
namespace {

TEST(TextGeneration, StreamedPiecesAddUpToTheText) {
  tokenizer::TrainOptions o;
  o.vocab_size = 300;
  o.min_frequency = 1;
  auto tok = tokenizer::train_bpe_from_counts({{"The", 5}, {" cat", 4}, {"Tá", 3}, {" 我們", 3}}, o);
  model::ModelConfig c = tiny_config(/*tied=*/false);
  c.vocab_size = tok.vocab_size();
  model::Llama m(c, tensor::backend_for("cpu"));
  m.init_random(5);
  int with_replacement = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    model::SamplingOptions s;
    s.temperature = 1.5;
    s.top_k = 0;
    s.top_p = 1;
    s.seed = seed;
    s.max_tokens = 40;  // with the prompt, within the 64-position context
    std::string streamed;
    auto r = model::generate_text(m, tok, "The", false, s, {}, [&](const std::string& p) { streamed += p; });
    EXPECT_EQ(streamed, r.text) << "seed " << seed;
    with_replacement += r.text.find("\xEF\xBF\xBD") != std::string::npos;
  }
  EXPECT_GT(with_replacement, 0) << "no sample exercised invalid UTF-8";
}

}  // namespace
}  // namespace nlm::testing
