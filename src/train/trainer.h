// `nativelm train`: pretraining from scratch or continued pretraining of an HF checkpoint on
// token shards. Every option is a field below with its default; the YAML config keys and the
// CLI flags map onto these fields (docs/train.md lists them).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "tensor/dtype.h"
#include "train/adamw.h"
#include "train/lm_batches.h"
#include "train/schedule.h"

namespace nlm::tokenizer {
class Tokenizer;
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
  bool resume = false;         // continue from the newest checkpoint in out_dir
  tensor::DType save_dtype = tensor::DType::F32;  // weights dtype of model/ (F32, BF16, F16)
  // Compute device, as tensor::backend_for() names it: "cpu" (the default; OpenBLAS + OpenMP on
  // nlm::thread_count() threads), or a CUDA device ("cuda", "cuda:N") in builds that have one.
  // Losses are reproducible for a fixed seed on the same device and thread count.
  std::string device = "cpu";

  void validate() const;
};

struct TrainResult {
  int64_t steps = 0;
  double last_loss = 0;
  double last_eval_loss = -1;     // −1 when no eval ran
  double last_eval_bpb = -1;
  double tokens_per_second = 0;   // over the steps run in this process
  double mfu = 0;                 // against sgemm_gflops
  double sgemm_gflops = 0;        // the device's fp32 matmul peak, Backend::peak_flops() / 1e9
  std::vector<double> losses;     // per step run in this process
};

TrainResult run_train(const TrainOptions& options);

// UTF-8 bytes that each token id stands for in decoded text (TrainOptions::token_bytes): raw bytes
// of byte-level and byte-fallback pieces, 0 for special tokens such as BOS/EOS. Summed over a
// document's ids it gives the document's byte length, which decoding ids one by one does not
// (a piece holding part of a multi-byte character decodes alone to U+FFFD).
std::vector<uint32_t> token_byte_lengths(const tokenizer::Tokenizer& tok);

// Reads a YAML config into options (keys as in docs/train.md); throws usage errors naming keys.
void load_train_yaml(const std::string& path, TrainOptions& options);
// The same from YAML text (pipeline files embed a train config); `where` names it in errors.
void apply_train_yaml(const std::string& yaml, const std::string& where, TrainOptions& options);

}  // namespace nlm::train
