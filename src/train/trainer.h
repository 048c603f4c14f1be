// `nativelm train`: pretraining from scratch or continued pretraining of an HF checkpoint on
// token shards. Every option is a field below with its default; train::declare (options.cc)
// lists each once, and the YAML config keys, the CLI flags, the pipeline's train stage, the
// options JSON in trainer_state.json and the table in docs/train.md all come from it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"
#include "model/config.h"
#include "tensor/dtype.h"
#include "train/lora_options.h"
#include "train/adamw.h"
#include "train/lm_batches.h"
#include "train/loop.h"
#include "train/schedule.h"

namespace nlm::tokenizer {
class Tokenizer;
}
namespace nlm::opt {
class Schema;
}

namespace nlm::train {

struct TrainOptions {
  // Run directory: metrics.jsonl, checkpoints/step-NNNNNNNN/, and the final model in model/.
  std::string out_dir;
  // HF model directory to continue from; empty = from scratch with `model`.
  std::string init_from;
  // Architecture when training from scratch (ignored with init_from).
  model::ModelConfig model;
  // With init_from: JSON map {new id: [old ids]} from tokenizer extension (mean-initialised rows).
  std::string vocab_extension;
  // Training data: shard sets with mixing weights.
  std::vector<DataSource> train_data;
  // Held-out shards for eval (empty = no eval).
  std::vector<std::string> eval_shards;
  // Optional tokenizer.json: copied into model/ and checkpoints, and used for bits per byte.
  std::string tokenizer;
  // Bytes of each token id (for bits per byte); computed from `tokenizer` when left empty.
  std::vector<uint32_t> token_bytes;

  int batch_size = 8;          // rows per micro-batch (B)
  int seq_len = 256;           // tokens per row (T)
  int grad_accum = 1;          // micro-batches per optimizer step
  bool doc_masking = true;     // attend only within a document inside packed rows
  // Read each source's documents in a seeded random order, a new one every epoch (instead of
  // shard order); resume stays bit-exact. Costs 8 bytes per document of memory.
  bool shuffle_documents = false;
  int64_t steps = 1000;        // optimizer steps in total
  ScheduleOptions schedule;
  AdamWOptions optimizer;
  int64_t eval_every = 100;    // steps between evals (0 = only at the end)
  int eval_batches = 10;       // micro-batches per eval (from the start of the eval shards)
  int64_t checkpoint_every = 500;  // steps between checkpoints (0 = only at the end)
  int keep_checkpoints = 2;    // newest checkpoints kept; older ones are deleted
  int64_t log_every = 10;      // steps between progress lines
  uint64_t seed = 1234;        // weights init and data mixing
  bool recompute = false;      // activation recomputation (less memory, ~1/3 more compute)
  // Weights and activations dtype: F32 (the default, and what CPU runs use) or BF16 (mixed
  // precision: fp32 gradients, master weights and AdamW moments; the choice for CUDA runs).
  tensor::DType precision = tensor::DType::F32;
  bool resume = false;         // continue from the newest checkpoint in out_dir
  // Start from step 0 although out_dir holds checkpoints (they are deleted). Without it, such a
  // folder is a usage error that offers resume, so a rerun never silently trains over a run.
  bool force = false;
  tensor::DType save_dtype = tensor::DType::F32;  // weights dtype of model/ (F32, BF16, F16)
  // Compute device, as tensor::backend_for() names it: "cpu" (the default; OpenBLAS + OpenMP on
  // nlm::thread_count() threads), or a CUDA device ("cuda", "cuda:N") in builds that have one.
  // Losses are reproducible for a fixed seed on the same device and thread count.
  std::string device = "cpu";
  std::string mlflow;                       // MLflow file store (mlruns folder) to log to; empty = none
  std::string mlflow_experiment = "nativelm";  // its experiment, by name
  // LoRA adapters instead of full fine-tuning (lora.rank > 0); see docs/lora.md.
  LoraOptions lora;

  // Checks what the declaration cannot (an output folder, training data); opt::OptionError
  // names the key.
  void validate() const;
};

// Declares every option once: keys (dotted for model., schedule., optimizer., data.eval), flags
// (--lr, --min-lr, --schedule, --warmup-steps, ... kept from the first CLI), docs and checks.
void declare(opt::Schema& schema, TrainOptions& options);
void declare(opt::Schema& schema, ScheduleOptions& schedule);
void declare(opt::Schema& schema, AdamWOptions& optimizer);

// Applies a YAML train config file to `schema` (declared over `options` with declare()): every
// declared key, and `data` (`train`: a list of shard sets, each a path, a list of paths or
// {shards, weight}; `eval`: paths), which is read here because a list of mappings is no flag.
// Errors name `train.key (file:line)`. Does not resolve (front ends apply flags after it).
// Returns how the file names each key, for errors found later (cross-field checks).
opt::Namer apply_train_config(opt::Schema& schema, TrainOptions& options, const std::string& path);
// Declares, applies the config file and resolves: the options that a config file alone gives.
void load_train_yaml(const std::string& path, TrainOptions& options);
// The options JSON (what --print-options prints and pipeline manifests record) with the data
// sources added under "data": what trainer_state.json records as the run's "config".
std::string config_json(const TrainOptions& options);

// Runs the training. SIGINT and SIGTERM are caught while it runs: the current step finishes, a
// checkpoint is written and Interrupted is thrown (a second signal ends the process at once).
// Launched as several ranks (mpirun, srun, or RANK/WORLD_SIZE with --device cuda; see
// distributed/launch.h) it trains data parallel; an error on one rank ends all of them.
TrainResult run_train(const TrainOptions& options);

// UTF-8 bytes that each token id stands for in decoded text (TrainOptions::token_bytes): raw bytes
// of byte-level and byte-fallback pieces, 0 for special tokens such as BOS/EOS. Summed over a
// document's ids it gives the document's byte length, which decoding ids one by one does not
// (a piece holding part of a multi-byte character decodes alone to U+FFFD).
std::vector<uint32_t> token_byte_lengths(const tokenizer::Tokenizer& tok);

// Shard entries as files: a .tok file stays, a folder becomes its .tok files sorted by name (a
// folder without any is an OptionError on `key`).
std::vector<std::string> expand_shards(const std::vector<std::string>& items, const std::string& key);


}  // namespace nlm::train
