// The `eval ppl` command's and the eval stage's work (see evaluate.h).
#include "eval/evaluate.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/error.h"
#include "eval/tasks/run_tasks.h"
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
  if (!o.tasks.empty()) {
    std::vector<tasks::TaskConfig> configs;
    for (const auto& f : o.tasks) configs.push_back(tasks::load_task(f));
    const std::string tok_path = model_dir + "/tokenizer.json";
    if (!std::filesystem::exists(tok_path))
      usage_error("the model folder has no tokenizer.json for the eval tasks", model_dir);
    auto tok = tokenizer::Tokenizer::load(tok_path);
    json rows = json::array(), by_shots = json::object();
    for (const auto& shots : o.task_shots) {
      tasks::TaskRunOptions to;
      to.num_fewshot = std::stoi(shots);
      to.limit = o.task_limit;
      to.device = o.ppl.device;
      std::vector<tasks::TaskResult> results;
      for (const auto& c : configs) {
        results.push_back(tasks::run_task(*model, tok, c, to));
        const auto& r = results.back();
        for (auto it = r.metrics.begin(); it != r.metrics.end(); ++it) {
          const std::string& k = it.key();
          if (k == "alias" || k.find("_stderr,") != std::string::npos || !it->is_number()) continue;
          const std::string stderr_key = k.substr(0, k.find(',')) + "_stderr" + k.substr(k.find(','));
          const auto& se = r.metrics.contains(stderr_key) ? r.metrics[stderr_key] : nlohmann::ordered_json();
          rows.push_back({{"task", r.task},
                          {"n_shot", r.n_shot},
                          {"metric", k},
                          {"value", it->get<double>()},
                          {"stderr", se.is_number() ? json(se.get<double>()) : json(nullptr)},
                          {"docs", r.n_docs}});
        }
      }
      by_shots[shots] = json::parse(tasks::results_json(configs, results, model_dir, to).dump());
    }
    j["leaderboard"] = rows;
    j["task_results"] = by_shots;
  }
  return j.dump();
}

}  // namespace nlm::eval
