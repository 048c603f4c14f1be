// Fuzzes the server's request handling past HTTP: the fuzzed bytes are the body of a request to
// one of the OpenAI endpoints (first byte: 0 /v1/completions, 1 /v1/chat/completions,
// 2 /tokenize, 3 /detokenize), answered by serve::Api over a tiny real model folder (a trained
// byte-level BPE, a ChatML template, a random Llama) exactly as `nativelm serve` answers it:
// strict field parsing, template rendering, tokenizing, a few sampled tokens, the reply JSON and
// the SSE stream. ApiError is the documented answer to a bad request (the server turns it into a
// 4xx); anything else escaping, or a 200 whose body is not JSON, is a finding.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "model/hf_checkpoint.h"
#include "model/llama.h"
#include "serve/api.h"
#include "serve/api_error.h"
#include "serve/options.h"
#include "tensor/backend.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/trainer.h"

namespace {

const char* const kTemplate =
    "{% for m in messages %}{% if m['role'] not in ['system', 'user', 'assistant'] %}"
    "{{ raise_exception('unknown role ' ~ m['role']) }}{% endif %}"
    "<|im_start|>{{ m['role'] }}\n{% if m['content'] is string %}{{ m['content'] | trim }}"
    "{% else %}{% for p in m['content'] %}{{ p['text'] }}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

struct Fixture {
  nlm::serve::ServeOptions options;
  std::unique_ptr<nlm::serve::Engine> engine;
  std::unique_ptr<nlm::serve::Api> api;

  Fixture() {
    nlm::tokenizer::TrainOptions t;
    t.vocab_size = 300;
    t.min_frequency = 1;
    t.special_tokens = {"<|begin_of_text|>", "<|im_start|>", "<|im_end|>"};
    std::vector<std::pair<std::string, uint64_t>> counts = {
        {"The", 9}, {" cat", 7}, {" sat", 6}, {" the", 8}, {"Tá", 3}, {" sé", 3}, {"粵語", 2}};
    auto tok = nlm::tokenizer::train_bpe_from_counts(counts, t);
    nlm::model::ModelConfig c;
    c.vocab_size = tok.vocab_size();
    c.hidden_size = 16;
    c.intermediate_size = 24;
    c.num_hidden_layers = 1;
    c.num_attention_heads = 2;
    c.num_key_value_heads = 1;
    c.max_position_embeddings = 96;
    c.tie_word_embeddings = true;
    c.bos_token_id = tok.token_id("<|begin_of_text|>");
    c.eos_token_id = tok.token_id("<|im_end|>");
    nlm::model::Llama m(c, nlm::tensor::backend_for("cpu"));
    m.init_random(5);
    const std::string dir = nlm::fuzz::scratch_dir() + "/model";
    nlm::model::save_hf_model(dir, m);
    tok.save(dir);
    nlm::fuzz::write_input("model/chat_template.jinja", kTemplate);
    options.model_dir = dir;
    options.queue = 4;
    options.max_prompt_tokens = 64;
    engine = std::make_unique<nlm::serve::Engine>(options);
    // Small ceilings keep one execution to a few decode steps.
    api = std::make_unique<nlm::serve::Api>(*engine, nlm::serve::RequestLimits{4, 2, 2});
  }
};

void check_json(const std::string& body) {
  if (!nlohmann::json::accept(body)) {
    std::fprintf(stderr, "fuzz: a 200 reply is not JSON: %.200s\n", body.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  if (size == 0) return 0;
  const int endpoint = data[0] & 3;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  nlm::fuzz::expect_only_nlm_errors([&] {
    try {
      nlm::serve::Reply reply;
      switch (endpoint) {
        case 0: reply = fixture.api->generate(body, false); break;
        case 1: reply = fixture.api->generate(body, true); break;
        case 2: reply = fixture.api->tokenize(body); break;
        default: reply = fixture.api->detokenize(body); break;
      }
      if (reply.stream) {
        std::string events;
        reply.stream([&events](const std::string& event) {
          events += event;
          return events.size() < (1u << 20);
        });
        for (size_t p = 0; (p = events.find("data: ", p)) != std::string::npos;) {
          size_t end = events.find("\n\n", p);
          std::string payload = events.substr(p + 6, end == std::string::npos ? std::string::npos : end - p - 6);
          if (payload != "[DONE]") check_json(payload);
          p = end == std::string::npos ? events.size() : end;
        }
      } else if (reply.status == 200) {
        check_json(reply.body);
      }
    } catch (const nlm::serve::ApiError& e) {
      if (e.status < 400 || e.status >= 500) {
        std::fprintf(stderr, "fuzz: ApiError with status %d: %s\n", e.status, e.what());
        std::abort();
      }
    }
  });
  return 0;
}
