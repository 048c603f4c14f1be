// YAML training configs → TrainOptions (see trainer.h and docs/train.md for the keys). Unknown
// keys are errors, so a typo never silently falls back to a default.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "core/error.h"
#include "train/trainer.h"

namespace nlm::train {

namespace {

namespace fs = std::filesystem;

struct Ctx {
  std::string file;
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    usage_error("config key '" + key + "': " + what, file, "see docs/train.md");
  }
  void check_keys(const YAML::Node& n, const std::string& prefix, std::set<std::string> allowed) const {
    if (!n.IsMap()) fail(prefix, "must be a mapping");
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string k = it->first.as<std::string>();
      if (!allowed.count(k)) fail(prefix.empty() ? k : prefix + "." + k, "unknown key");
    }
  }
  template <class T>
  void get(const YAML::Node& n, const char* key, T& out, const std::string& prefix = "") const {
    if (!n[key]) return;
    try {
      out = n[key].as<T>();
    } catch (const YAML::Exception&) {
      fail(prefix + key, "has the wrong type");
    }
  }
};

// A shard entry may be a .tok file or a folder of them (sorted by name).
std::vector<std::string> expand_shards(const std::vector<std::string>& items, const Ctx& ctx,
                                       const std::string& key) {
  std::vector<std::string> out;
  for (auto& s : items) {
    if (fs::is_directory(s)) {
      std::vector<std::string> found;
      for (auto& e : fs::directory_iterator(s))
        if (e.path().extension() == ".tok") found.push_back(e.path().string());
      std::sort(found.begin(), found.end());
      if (found.empty()) ctx.fail(key, "folder " + s + " holds no .tok shards");
      out.insert(out.end(), found.begin(), found.end());
    } else {
      out.push_back(s);
    }
  }
  return out;
}

std::vector<std::string> string_list(const YAML::Node& n, const Ctx& ctx, const std::string& key) {
  std::vector<std::string> out;
  if (n.IsScalar()) out.push_back(n.as<std::string>());
  else if (n.IsSequence())
    for (auto x : n) out.push_back(x.as<std::string>());
  else ctx.fail(key, "must be a path or a list of paths");
  return expand_shards(out, ctx, key);
}

}  // namespace

void load_train_yaml(const std::string& path, TrainOptions& o) {
  std::ifstream in(path, std::ios::binary);
  if (!in) usage_error("cannot read config file", path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  apply_train_yaml(text, path, o);
}

void apply_train_yaml(const std::string& text, const std::string& where, TrainOptions& o) {
  const std::string& path = where;
  Ctx ctx{where};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    usage_error(std::string("invalid YAML: ") + e.what(), path);
  }
  if (!root || root.IsNull()) return;
  ctx.check_keys(root, "",
                 {"out_dir", "init_from", "vocab_extension", "tokenizer", "model", "data", "batch_size",
                  "seq_len", "grad_accum", "doc_masking", "steps", "schedule", "optimizer", "eval_every",
                  "eval_batches", "checkpoint_every", "keep_checkpoints", "log_every", "seed",
                  "recompute", "save_dtype", "shuffle_documents"});
  ctx.get(root, "out_dir", o.out_dir);
  ctx.get(root, "init_from", o.init_from);
  ctx.get(root, "vocab_extension", o.vocab_extension);
  ctx.get(root, "tokenizer", o.tokenizer);
  ctx.get(root, "batch_size", o.batch_size);
  ctx.get(root, "seq_len", o.seq_len);
  ctx.get(root, "grad_accum", o.grad_accum);
  ctx.get(root, "doc_masking", o.doc_masking);
  ctx.get(root, "steps", o.steps);
  ctx.get(root, "eval_every", o.eval_every);
  ctx.get(root, "eval_batches", o.eval_batches);
  ctx.get(root, "checkpoint_every", o.checkpoint_every);
  ctx.get(root, "keep_checkpoints", o.keep_checkpoints);
  ctx.get(root, "log_every", o.log_every);
  ctx.get(root, "seed", o.seed);
  ctx.get(root, "recompute", o.recompute);
  ctx.get(root, "shuffle_documents", o.shuffle_documents);
  if (root["save_dtype"]) {
    std::string d = root["save_dtype"].as<std::string>();
    if (d == "float32") o.save_dtype = tensor::DType::F32;
    else if (d == "bfloat16") o.save_dtype = tensor::DType::BF16;
    else if (d == "float16") o.save_dtype = tensor::DType::F16;
    else ctx.fail("save_dtype", "must be float32, bfloat16 or float16");
  }
  if (auto m = root["model"]) {
    ctx.check_keys(m, "model",
                   {"model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                    "num_attention_heads", "num_key_value_heads", "head_dim", "max_position_embeddings",
                    "rope_theta", "rms_norm_eps", "tie_word_embeddings", "attention_bias",
                    "initializer_range", "bos_token_id", "eos_token_id"});
    auto& c = o.model;
    ctx.get(m, "model_type", c.model_type, "model.");
    ctx.get(m, "vocab_size", c.vocab_size, "model.");
    ctx.get(m, "hidden_size", c.hidden_size, "model.");
    ctx.get(m, "intermediate_size", c.intermediate_size, "model.");
    ctx.get(m, "num_hidden_layers", c.num_hidden_layers, "model.");
    ctx.get(m, "num_attention_heads", c.num_attention_heads, "model.");
    c.num_key_value_heads = c.num_attention_heads;
    ctx.get(m, "num_key_value_heads", c.num_key_value_heads, "model.");
    ctx.get(m, "head_dim", c.head_dim, "model.");
    ctx.get(m, "max_position_embeddings", c.max_position_embeddings, "model.");
    ctx.get(m, "rope_theta", c.rope_theta, "model.");
    ctx.get(m, "rms_norm_eps", c.rms_norm_eps, "model.");
    ctx.get(m, "tie_word_embeddings", c.tie_word_embeddings, "model.");
    ctx.get(m, "attention_bias", c.attention_bias, "model.");
    ctx.get(m, "initializer_range", c.initializer_range, "model.");
    ctx.get(m, "bos_token_id", c.bos_token_id, "model.");
    ctx.get(m, "eos_token_id", c.eos_token_id, "model.");
    c.validate(path + " (model)");
  }
  if (auto d = root["data"]) {
    ctx.check_keys(d, "data", {"train", "eval"});
    if (auto t = d["train"]) {
      o.train_data.clear();
      if (!t.IsSequence()) ctx.fail("data.train", "must be a list of {shards, weight}");
      for (auto src : t) {
        DataSource ds;
        if (src.IsMap()) {
          ctx.check_keys(src, "data.train[]", {"shards", "weight"});
          if (!src["shards"]) ctx.fail("data.train[].shards", "is required");
          ds.shards = string_list(src["shards"], ctx, "data.train[].shards");
          ctx.get(src, "weight", ds.weight, "data.train[].");
        } else {
          ds.shards = string_list(src, ctx, "data.train[]");
        }
        o.train_data.push_back(ds);
      }
    }
    if (auto e = d["eval"]) o.eval_shards = string_list(e, ctx, "data.eval");
  }
  if (auto s = root["schedule"]) {
    ctx.check_keys(s, "schedule", {"type", "lr", "min_lr", "warmup_steps", "decay_fraction"});
    ctx.get(s, "type", o.schedule.type, "schedule.");
    ctx.get(s, "lr", o.schedule.lr, "schedule.");
    ctx.get(s, "min_lr", o.schedule.min_lr, "schedule.");
    ctx.get(s, "warmup_steps", o.schedule.warmup_steps, "schedule.");
    ctx.get(s, "decay_fraction", o.schedule.decay_fraction, "schedule.");
  }
  if (auto s = root["optimizer"]) {
    ctx.check_keys(s, "optimizer",
                   {"beta1", "beta2", "eps", "weight_decay", "decay_norms_and_biases", "grad_clip"});
    ctx.get(s, "beta1", o.optimizer.beta1, "optimizer.");
    ctx.get(s, "beta2", o.optimizer.beta2, "optimizer.");
    ctx.get(s, "eps", o.optimizer.eps, "optimizer.");
    ctx.get(s, "weight_decay", o.optimizer.weight_decay, "optimizer.");
    ctx.get(s, "decay_norms_and_biases", o.optimizer.decay_norms_and_biases, "optimizer.");
    ctx.get(s, "grad_clip", o.optimizer.grad_clip, "optimizer.");
  }
}

}  // namespace nlm::train
