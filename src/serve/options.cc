// ServeOptions' declaration (see options.h).
#include "serve/options.h"

#include <algorithm>

#include "core/options.h"

namespace nlm::serve {

void declare(opt::Schema& s, ServeOptions& o) {
  s.add("model", o.model_dir, "HF model folder (config.json, safetensors, tokenizer.json)").no_yaml().no_json();
  s.add("model_name", o.model_name, "Model id reported by /v1/models and in responses (default: the folder's name)");
  s.add("host", o.host, "Address to listen on (127.0.0.1 = this machine only; 0.0.0.0 = every interface)");
  s.add("port", o.port, "TCP port; 0 picks a free one and prints it").range(0, 65535);
  s.add("api_key", o.api_key, "Require `Authorization: Bearer KEY` on every endpoint but /health and the chat page (/)")
      .no_yaml()
      .no_json();
  s.size("max_body", o.max_body, "Largest request body; larger ones get 413 (e.g. 64K, 1M)");
  s.add("max_tokens", o.max_tokens, "Largest max_tokens a request may ask for").range(1, 1 << 20);
  s.add("default_max_tokens", o.default_max_tokens, "max_tokens of a request that gives none").range(1, 1 << 20);
  s.add("max_prompt_tokens", o.max_prompt_tokens, "Longest prompt in tokens (0 = the model's context)")
      .range(0, 1 << 24);
  s.add("max_n", o.max_n, "Largest n (choices per prompt) a request may ask for").range(1, 128);
  s.add("queue", o.queue, "Generation requests running or waiting at once (slots included); more get 429")
      .range(1, 4096);
  s.add("parallel", o.parallel,
        "Slots: requests decoded together in one batch (continuous batching); more wait in the queue")
      .flag("--parallel,--n-parallel")
      .range(1, 256);
  s.add("context", o.context,
        "KV-cache positions per slot: prompt plus answer (0 = the model's context, at most 4096); "
        "the cache takes parallel x context positions")
      .flag("--context,--ctx-size")
      .range(0, 1 << 24);
  s.add("weights", o.weights, "Inference weights: f32, bf16 or int8 (per-row scales; about a quarter of the bytes)");
  s.add("add_bos", o.add_bos, "Put the tokenizer's BOS token before a /v1/completions prompt").flag("--no-bos");
  s.add("device", o.device, "Compute device: cpu, or cuda / cuda:N in builds with CUDA");
  s.derive([&s, &o] {
    if (!s.given("default_max_tokens")) o.default_max_tokens = std::min(o.default_max_tokens, o.max_tokens);
  });
  s.check([&o] {
    if (o.default_max_tokens > o.max_tokens) opt::fail("default_max_tokens", "must be at most max_tokens");
  });
}

}  // namespace nlm::serve
