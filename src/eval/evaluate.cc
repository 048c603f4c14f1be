// The `eval ppl` command's and the eval stage's work (see evaluate.h).
#include "eval/evaluate.h"

#include <nlohmann/json.hpp>

#include "model/hf_checkpoint.h"
#include "model/text_generation.h"
#include "tensor/backend.h"
#include "tokenizer/tokenizer.h"

namespace nlm::eval {

PerplexityResult perplexity_of_files(const std::string& model_dir, const std::vector<std::string>& files,
                                     const corpus::ReadOptions& read, const PerplexityOptions& options) {
  auto model = model::load_hf_model(model_dir, tensor::backend_for(options.device));
  auto docs = read_eval_documents(model_dir, files, read, options.max_docs, model->config().vocab_size);
  return rolling_perplexity(*model, docs.tokens, docs.bytes, options);
}

std::string evaluate_model(const std::string& model_dir, const std::vector<std::string>& val_shards,
                           const std::string& tokenizer, const EvalOptions& o) {
  using nlohmann::json;
  auto model = model::load_hf_model(model_dir, tensor::backend_for(o.ppl.device));
  json j = json::object();
  if (!val_shards.empty()) {
    auto docs = read_shard_documents(val_shards, o.ppl.max_docs, model->config().vocab_size);
    auto bytes = document_bytes(model_dir, docs);
    auto r = rolling_perplexity(*model, docs, bytes, o.ppl);
    j["bits_per_byte"] = r.bytes ? r.bits_per_byte() : -1.0;
    j["byte_perplexity"] = r.bytes ? r.byte_perplexity() : -1.0;
    j["token_perplexity"] = r.token_perplexity();
    j["documents"] = r.documents;
    j["tokens"] = r.tokens;
    j["bytes"] = r.bytes;
  }
  if (!tokenizer.empty() && !o.samples.empty()) {
    auto tok = tokenizer::Tokenizer::load(tokenizer);
    json samples = json::array();
    model::SamplingOptions s = o.sampling;
    if (model->config().eos_token_id >= 0) s.stop_ids.push_back(static_cast<int32_t>(model->config().eos_token_id));
    for (const auto& p : o.samples) {
      std::string text;
      model::generate_text(*model, tok, p, model->config().bos_token_id >= 0, s, {},
                           [&](const std::string& piece) { text += piece; });
      samples.push_back({{"prompt", p}, {"completion", text}});
    }
    j["samples"] = samples;
  }
  return j.dump();
}

}  // namespace nlm::eval
