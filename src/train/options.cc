// The one declaration of `nativelm train`'s options (TrainOptions with its nested model, schedule
// and optimizer), and the `data` part of a train config file: weighted shard sets are a list of
// mappings, which no flag or scalar key can hold, so it is read here with file:line errors.
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/options.h"
#include "core/options_yaml.h"
#include "train/run_fields.h"
#include "train/trainer.h"

namespace nlm::train {

void declare(opt::Schema& s, ScheduleOptions& o) {
  s.choice("schedule.type", o.type, {{"cosine", "cosine"}, {"wsd", "wsd"}, {"constant", "constant"}},
           "Learning-rate schedule after the linear warmup: cosine decay to min_lr, WSD (stable, then a "
           "linear decay over the last decay_fraction of the steps) or constant")
      .flag("--schedule");
  s.add("schedule.lr", o.lr, "Peak learning rate, reached at the end of warmup").flag("--lr");
  s.add("schedule.min_lr", o.min_lr, "Floor that cosine and WSD decay to (often lr/10)").flag("--min-lr");
  s.add("schedule.warmup_steps", o.warmup_steps, "Linear warmup from 0 over this many steps")
      .flag("--warmup-steps")
      .min(0);
  s.add("schedule.decay_fraction", o.decay_fraction, "WSD: fraction of the steps spent in the final decay")
      .flag("--decay-fraction")
      .range(0, 1);
  s.check([&o] { validate(o); });
}

void declare(opt::Schema& s, AdamWOptions& o) {
  s.add("optimizer.beta1", o.beta1, "AdamW decay of the first moment").flag("--beta1").range(0, 1);
  s.add("optimizer.beta2", o.beta2, "AdamW decay of the second moment").flag("--beta2").range(0, 1);
  s.add("optimizer.eps", o.eps, "AdamW epsilon in the denominator").flag("--adam-eps").min(0);
  s.add("optimizer.weight_decay", o.weight_decay, "Decoupled weight decay, applied as p -= lr*wd*p")
      .flag("--weight-decay")
      .min(0);
  s.add("optimizer.decay_norms_and_biases", o.decay_norms_and_biases,
        "Apply weight decay to RMSNorm weights and biases too (off, as is usual)")
      .flag("--decay-norms-and-biases");
  s.add("optimizer.grad_clip", o.grad_clip, "Clip the global gradient L2 norm to this (0 = off)")
      .flag("--grad-clip")
      .min(0);
}

void declare(opt::Schema& s, TrainOptions& o) {
  s.add("out_dir", o.out_dir, "Run directory: metrics.jsonl, checkpoints/step-NNNNNNNN/, and the final model in model/")
      .flag("-o,--out")
      .no_json();
  s.add("init_from", o.init_from, "HF model directory to continue pretraining from; empty = from scratch with model.*");
  s.add("vocab_extension", o.vocab_extension,
        "With init_from: JSON map {new id: [old ids]} from tokenizer extension (mean-initialised rows)");
  s.add("tokenizer", o.tokenizer,
        "tokenizer.json shipped in model/ and checkpoints (with tokenizer_config.json), and used for bits per byte");
  // Flags give one source of weight 1; a config file's data.train lists weighted sources.
  opt::Field& train = s.custom(
      "data.train",
      [&o] {
        std::string t;
        for (const auto& src : o.train_data)
          for (const auto& shard : src.shards) t += (t.empty() ? "" : " ") + shard;
        return t;
      },
      [&o](const std::string& v) { o.train_data = {DataSource{{v}, 1.0}}; }, "SHARDS...",
      "Training .tok shards or folders of them, as one source (a config file's data.train lists sources: a "
      "path, a list of paths, or {shards, weight})");
  train.type = opt::Type::List;
  train.set_list = [&o](const std::vector<std::string>& items) { o.train_data = {DataSource{items, 1.0}}; };
  train.flag("--train").no_yaml().no_json();
  s.add("data.eval", o.eval_shards, "Held-out .tok shards or folders of them (none = no eval)")
      .flag("--eval")
      .no_json();
  model::declare(s, o.model, "model.");
  s.add("batch_size", o.batch_size, "Rows per micro-batch (B)").min(1);
  s.add("seq_len", o.seq_len, "Tokens per row (T)").min(1);
  s.add("grad_accum", o.grad_accum, "Micro-batches per optimizer step").min(1);
  s.add("doc_masking", o.doc_masking, "Attention stays inside each document of a packed row; positions restart per document").flag("--no-doc-masking");
  s.add("shuffle_documents", o.shuffle_documents,
        "Read each source's documents in a seeded random order, a new one every epoch (resume stays bit-exact; "
        "8 bytes of memory per document)");
  s.add("steps", o.steps, "Optimizer steps in total").min(1);
  declare(s, o.schedule);
  declare(s, o.optimizer);
  s.add("eval_every", o.eval_every, "Steps between evals (0 = only at the end)").min(0);
  s.add("eval_batches", o.eval_batches, "Micro-batches per eval (from the start of the eval shards)").min(0);
  s.choice("precision", o.precision, {{"fp32", tensor::DType::F32}, {"bf16", tensor::DType::BF16}},
           "Weights and activations dtype: fp32, or bf16 with fp32 gradients, master weights and AdamW state "
           "(the choice for CUDA; needs a backend with bf16 ops)");
  declare_run_fields(s, o, "Seed of the initial weights and of data mixing");
}

namespace {

[[noreturn]] void data_error(const std::string& key, const std::string& what, const YAML::Node& at,
                             const std::string& file, const std::string& fix = {}) {
  usage_error("train.data" + key + " " + what, opt::yaml_where(at, file), fix);
}

std::vector<std::string> paths(const YAML::Node& n, const std::string& key, const std::string& file) {
  std::vector<std::string> out;
  if (n.IsScalar()) return {n.Scalar()};
  if (n.IsSequence())
    for (const auto& x : n) {
      if (!x.IsScalar()) data_error(key, "must hold only paths", x, file);
      out.push_back(x.Scalar());
    }
  if (out.empty()) data_error(key, "must be a path or a list of paths", n, file);
  return out;
}

// `data:` of a config file: {train: [source...], eval: paths}; data.eval is a declared field.
void apply_data(const YAML::Node& d, const std::string& file, TrainOptions& o) {
  if (!d.IsDefined() || d.IsNull()) return;
  if (!d.IsMap()) data_error("", "must be a mapping with train and eval", d, file);
  for (const auto& kv : d) {
    std::string k = kv.first.Scalar();
    if (k != "train" && k != "eval") data_error("." + k, "is an unknown key", kv.first, file, "known keys: train, eval");
  }
  const YAML::Node t = d["train"];
  if (!t.IsDefined() || t.IsNull()) return;
  if (!t.IsSequence())
    data_error(".train", "must be a list of shard sets (a path, a list of paths, or {shards, weight})", t, file);
  o.train_data.clear();
  for (const auto& item : t) {
    DataSource src;
    if (!item.IsMap()) {
      src.shards = paths(item, ".train[]", file);
      o.train_data.push_back(src);
      continue;
    }
    for (const auto& kv : item) {
      std::string k = kv.first.Scalar();
      if (k != "shards" && k != "weight")
        data_error(".train[]." + k, "is an unknown key", kv.first, file, "known keys: shards, weight");
    }
    const YAML::Node shards = item["shards"];
    if (!shards.IsDefined()) data_error(".train[].shards", "is required", item, file, "list the source's .tok shards");
    src.shards = paths(shards, ".train[].shards", file);
    if (const YAML::Node w = item["weight"]; w.IsDefined()) {
      try {
        if (!w.IsScalar()) opt::fail("weight", "must be a number");
        src.weight = opt::parse_real(w.Scalar(), "weight");
        if (!(src.weight > 0)) opt::fail("weight", "must be positive, got " + w.Scalar());
      } catch (const opt::OptionError& e) {
        data_error(".train[].weight", e.problem(), w, file);
      }
    }
    o.train_data.push_back(src);
  }
}

}  // namespace

opt::Namer apply_train_config(opt::Schema& schema, TrainOptions& options, const std::string& path) {
  // A user who passes shards where the config goes would otherwise read a YAML syntax error.
  if (std::filesystem::is_directory(path) ||
      (path.size() >= 4 && path.compare(path.size() - 4, 4, ".tok") == 0))
    usage_error(echoed(path) + " is token shards, not a YAML config", {},
                "pass shards with --train (and --eval); the positional argument is a config file");
  const YAML::Node root = opt::load_yaml_file(path);
  opt::apply_yaml(schema, root, opt::YamlSource{path, "train"}, {"data"});
  if (root.IsMap()) apply_data(root["data"], path, options);
  return opt::yaml_namer(root, opt::YamlSource{path, "train"});
}

void load_train_yaml(const std::string& path, TrainOptions& options) {
  opt::Schema schema("train");
  declare(schema, options);
  opt::Namer namer = apply_train_config(schema, options, path);
  opt::named(namer, [&] { schema.resolve(); });
}

std::string config_json(const TrainOptions& options) {
  nlohmann::json data = {{"train", nlohmann::json::array()}, {"eval", options.eval_shards}};
  for (const auto& src : options.train_data) data["train"].push_back({{"shards", src.shards}, {"weight", src.weight}});
  // Paths are bytes; one that is not UTF-8 is shown with U+FFFD rather than failing the dump.
  return opt::with_member(opt::json_of(options), "data",
                          data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace nlm::train
