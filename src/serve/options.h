// `nativelm serve`'s options: where the server listens, who may call it, and the limits that keep
// one request from taking the process down. One struct, declared once (docs/options.md).
#pragma once
#include <cstdint>
#include <string>

namespace nlm::opt {
class Schema;
}

namespace nlm::serve {

struct ServeOptions {
  std::string model_dir;            // HF model folder with tokenizer.json
  std::string model_name;           // id in /v1/models and responses; "" = the folder's name
  std::string host = "127.0.0.1";   // loopback only unless asked otherwise
  int port = 8080;                  // 0 picks a free port (the URL is printed)
  std::string api_key;              // "" = no key; else requests need `Authorization: Bearer KEY`
  uint64_t max_body = 1u << 20;     // request bodies above this get 413
  int max_tokens = 512;             // ceiling on a request's max_tokens
  int default_max_tokens = 128;     // max_tokens when a request gives none
  int max_prompt_tokens = 0;        // 0 = the model's context length
  int max_n = 8;                    // ceiling on a request's n (choices per prompt)
  int queue = 64;                   // generation requests waiting or running at once; more get 429
  int parallel = 4;                 // slots: sequences decoded together (continuous batching)
  int context = 0;                  // KV-cache positions per slot; 0 = the model's, at most 4096
  std::string weights = "f32";      // inference weights: f32, bf16, int8
  bool add_bos = true;              // BOS before a /v1/completions prompt (as `nativelm generate`)
  std::string device = "cpu";       // compute device, as tensor::backend_for() names it
};
void declare(opt::Schema& schema, ServeOptions& options);

// Loads the model, listens until SIGINT or SIGTERM, then finishes the requests in flight and
// returns. Prints `nativelm serve: listening on http://HOST:PORT` on stdout once it accepts
// connections, and one access-log line per request on stderr.
void run_serve(const ServeOptions& options);

}  // namespace nlm::serve
