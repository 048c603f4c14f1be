// generate_text's streamed pieces add up to the text it returns, also when an untrained model
// samples byte tokens that form invalid or unfinished UTF-8 (decoding shows those as U+FFFD,
// which a later byte can turn into a real character).
#include <gtest/gtest.h>

#include "model/decoder.h"
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

// `generate` on the inference engine and on the training model's KV-cache path give the same
// tokens, greedy and sampled, and a second request on the same slot (its prefix reused) too.
TEST(TextGeneration, DecoderAndTrainingModelAgreeTokenForToken) {
  model::ModelConfig c = tiny_config(/*tied=*/true);
  c.vocab_size = 97;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.head_dim = 8;
  c.initializer_range = 0.3;
  model::Llama m(c, tensor::backend_for("cpu"));
  m.init_random(3);
  model::Decoder d(m, {tensor::cpu::WeightFormat::F32, 2, 1, 64, 256});
  const std::vector<int32_t> prompt = {5, 17, 42, 8, 1};
  for (double temperature : {0.0, 0.9}) {
    model::SamplingOptions s;
    s.temperature = temperature;
    s.seed = 11;
    s.max_tokens = 40;
    auto want = model::generate(m, prompt, s, [](int32_t) { return true; });
    for (int twice = 0; twice < 2; ++twice) {
      auto got = model::generate(d, 0, prompt, s, [](int32_t) { return true; });
      EXPECT_EQ(got, want) << "temperature " << temperature << " run " << twice;
    }
    EXPECT_EQ(d.length(0), 5 + 39);  // the last sampled token is never fed
  }
}

}  // namespace
}  // namespace nlm::testing
