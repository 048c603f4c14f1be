// The `train` and `eval` stages. train runs `nativelm train` with the pipeline's mapping as its
// YAML config (every key of docs/train.md except the data, tokenizer and output folder, which
// come from the earlier stages); a killed train stage resumes from its newest checkpoint. eval
// measures rolling perplexity (bits per byte first) of the final model on the held-out shards and
// generates sample continuations for the report.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/perplexity.h"
#include "model/hf_checkpoint.h"
#include "model/text_generation.h"
#include "pipeline/stages.h"
#include "tensor/backend.h"
#include "tokenizer/tokenizer.h"
#include "train/trainer.h"

namespace nlm::pipeline {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// The id of the first of `names` that the tokenizer has as a single token, or -1.
int64_t special_id(const tokenizer::Tokenizer& tok, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    auto ids = tok.encode(n);
    if (ids.size() == 1) return ids[0];
  }
  return -1;
}

class TrainStage : public Stage {
 public:
  explicit TrainStage(const Fields& f) : where_(f.where()) {
    for (const char* managed : {"out_dir", "data", "tokenizer"})
      if (f.has(managed))
        f.fail(managed, "is set by the pipeline", "the train stage reads the tokenize stage's shards and tokenizer");
    YAML::Emitter out;
    out << (f.node().IsMap() ? f.node() : YAML::Node(YAML::NodeType::Map));
    yaml_ = out.c_str();
    vocab_given_ = f.node().IsMap() && f.get("model").IsMap() && f.get("model")["vocab_size"].IsDefined();
    load(options_);  // validates the keys now, so a bad file fails before any stage runs
  }
  std::string name() const override { return "train"; }
  std::string options_json() const override { return json{{"config", yaml_}}.dump(); }

  std::string run(const std::string& dir, const Artifacts& in, bool resume) override {
    if (in.train_shards.empty())
      usage_error("the train stage has no token shards", where_, "add tokenizer and tokenize stages before it");
    train::TrainOptions o;
    load(o);
    o.out_dir = dir;
    o.train_data = {train::DataSource{in.train_shards, 1.0}};
    o.eval_shards = in.val_shards;
    o.tokenizer = in.tokenizer;
    if (!in.tokenizer.empty() && o.init_from.empty()) {
      auto tok = tokenizer::Tokenizer::load(in.tokenizer);
      if (!vocab_given_) o.model.vocab_size = tok.vocab_size();
      if (o.model.bos_token_id < 0) o.model.bos_token_id = special_id(tok, {"<|begin_of_text|>", "<s>", "<bos>"});
      if (o.model.eos_token_id < 0)
        o.model.eos_token_id = special_id(tok, {"<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>"});
    }
    if (!o.init_from.empty() && o.vocab_extension.empty()) o.vocab_extension = in.vocab_extension;
    o.resume = resume && fs::exists(fs::path(dir) / "checkpoints");
    train::TrainResult r = train::run_train(o);
    return summary(dir, r);
  }

  Artifacts outputs(const std::string& dir, const Artifacts& in) const override {
    Artifacts a = in;
    a.model_dir = (fs::path(dir) / "model").string();
    return a;
  }

 private:
  void load(train::TrainOptions& o) const { train::apply_train_yaml(yaml_, where_ + " (train)", o); }

  static std::string summary(const std::string& dir, const train::TrainResult& r) {
    json curves = {{"train loss", json::array()}, {"eval loss", json::array()}};
    json bpb = json::array();
    std::ifstream in(fs::path(dir) / "metrics.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      json m = json::parse(line, nullptr, false);
      if (m.is_discarded() || !m.contains("step")) continue;
      if (m.contains("loss")) curves["train loss"].push_back({m["step"], m["loss"]});
      if (m.contains("eval_loss")) curves["eval loss"].push_back({m["step"], m["eval_loss"]});
      if (m.contains("eval_bits_per_byte")) bpb.push_back({m["step"], m["eval_bits_per_byte"]});
    }
    json j = {{"steps", r.steps},
              {"final_train_loss", r.last_loss},
              {"final_eval_loss", r.last_eval_loss},
              {"final_eval_bits_per_byte", r.last_eval_bpb},
              {"tokens_per_second", r.tokens_per_second},
              {"mfu", r.mfu},
              {"curves", curves}};
    if (!bpb.empty()) j["eval_bits_per_byte_curve"] = bpb;
    return j.dump();
  }

  std::string where_;
  std::string yaml_;
  bool vocab_given_ = false;
  train::TrainOptions options_;
};

class EvalStage : public Stage {
 public:
  explicit EvalStage(const Fields& f) {
    f.only({"max_docs", "max_length", "samples", "max_new_tokens", "temperature", "seed"});
    f.read("max_docs", max_docs_);
    f.read("max_length", max_length_);
    f.read("samples", prompts_);
    f.read("max_new_tokens", max_new_tokens_);
    f.read("temperature", temperature_);
    f.read("seed", seed_);
    if (max_new_tokens_ < 1) f.fail("max_new_tokens", "must be at least 1");
  }
  std::string name() const override { return "eval"; }
  std::string options_json() const override {
    return json{{"max_docs", max_docs_},       {"max_length", max_length_},
                {"samples", prompts_},         {"max_new_tokens", max_new_tokens_},
                {"temperature", temperature_}, {"seed", seed_}}
        .dump();
  }
  std::string run(const std::string& dir, const Artifacts& in, bool) override {
    if (in.model_dir.empty()) usage_error("the eval stage needs a model", "pipeline stages", "add a train stage before it");
    auto model = model::load_hf_model(in.model_dir, tensor::backend_for("cpu"));
    json j = json::object();
    std::unique_ptr<tokenizer::Tokenizer> tok;
    if (!in.tokenizer.empty()) tok = std::make_unique<tokenizer::Tokenizer>(tokenizer::Tokenizer::load(in.tokenizer));
    if (!in.val_shards.empty()) {
      auto docs = eval::read_shard_documents(in.val_shards, max_docs_, model->config().vocab_size);
      std::vector<uint64_t> bytes;
      if (tok)
        for (const auto& d : docs) {
          std::vector<uint32_t> ids(d.begin(), d.end());
          bytes.push_back(tok->decode(ids, true).size());
        }
      eval::PerplexityOptions po;
      po.max_length = max_length_;
      auto r = eval::rolling_perplexity(*model, docs, bytes, po);
      j["bits_per_byte"] = r.bytes ? r.bits_per_byte() : -1.0;
      j["byte_perplexity"] = r.bytes ? r.byte_perplexity() : -1.0;
      j["token_perplexity"] = r.token_perplexity();
      j["documents"] = r.documents;
      j["tokens"] = r.tokens;
      j["bytes"] = r.bytes;
    }
    if (tok && !prompts_.empty()) {
      json samples = json::array();
      model::SamplingOptions s;
      s.temperature = temperature_;
      s.seed = seed_;
      s.max_tokens = max_new_tokens_;
      if (model->config().eos_token_id >= 0) s.stop_ids.push_back(static_cast<int32_t>(model->config().eos_token_id));
      for (const auto& p : prompts_) {
        std::string text;
        model::generate_text(*model, *tok, p, model->config().bos_token_id >= 0, s, {},
                             [&](const std::string& piece) { text += piece; });
        samples.push_back({{"prompt", p}, {"completion", text}});
      }
      j["samples"] = samples;
    }
    write_file_atomic((fs::path(dir) / "eval.json").string(), j.dump(2) + "\n");
    return j.dump();
  }
  Artifacts outputs(const std::string&, const Artifacts& in) const override { return in; }

 private:
  uint64_t max_docs_ = 500;
  int max_length_ = 0;
  std::vector<std::string> prompts_;
  int max_new_tokens_ = 48;
  double temperature_ = 0.7;
  uint64_t seed_ = 1;
};

}  // namespace

std::unique_ptr<Stage> make_train_stage(const Fields& options) { return std::make_unique<TrainStage>(options); }
std::unique_ptr<Stage> make_eval_stage(const Fields& options) { return std::make_unique<EvalStage>(options); }

}  // namespace nlm::pipeline
