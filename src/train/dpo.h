// `nativelm dpo`: Direct Preference Optimization of an HF Llama-family model folder on
// prompt/chosen/rejected JSONL (dpo_data.h), with TRL's sigmoid, hinge and ipo losses
// (dpo_loss.h), reference log-probs computed once with the initial model and kept in
// OUT/reference_logps.json (so only one model is in memory, and a resume reuses them), reward
// figures per step and on a held-out split, and an HF model folder out. The shared loop
// (loop.h) runs the steps; sft.h's encoding options apply to each side of a pair.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"
#include "data/sft_options.h"
#include "tensor/dtype.h"
#include "train/lora_options.h"
#include "train/adamw.h"
#include "train/dpo_loss.h"
#include "train/loop.h"
#include "train/schedule.h"

namespace nlm::train {

struct DpoTrainOptions {
  DpoTrainOptions();
  std::string model_dir;              // HF model folder (config.json, safetensors, tokenizer.json, template)
  std::vector<std::string> data;      // JSONL of prompt/chosen/rejected records
  std::string out_dir;                // metrics.jsonl, reference_logps.json, checkpoints/, model/
  std::vector<std::string> eval_data; // held-out pair files (else eval_fraction of the pairs)
  double eval_fraction = 0;
  bool strict = false;
  data::SftOptions encode;            // per side: max_length (default 1024), overlong, chat_prompt, add_eos
  DpoLossOptions loss;                // loss_type, beta, label_smoothing
  int batch_size = 4;                 // pairs per micro-batch (2 rows each)
  int grad_accum = 1;
  int64_t epochs = 1;
  int64_t steps = 0;                  // 0 = epochs × ⌈pairs / (batch_size · grad_accum)⌉
  ScheduleOptions schedule;           // lr 1e-6 cosine to 1e-7 after 10 warmup steps
  AdamWOptions optimizer;
  int64_t eval_every = 0;
  int64_t checkpoint_every = 0;
  int keep_checkpoints = 2;
  int64_t log_every = 10;
  uint64_t seed = 1234;
  bool recompute = false;
  tensor::DType save_dtype = tensor::DType::F32;
  std::string device = "cpu";
  std::string mlflow;                       // MLflow file store (mlruns folder) to log to; empty = none
  std::string mlflow_experiment = "nativelm";  // its experiment, by name
  // LoRA adapters instead of full fine-tuning (lora.rank > 0); see docs/lora.md.
  LoraOptions lora;
  bool resume = false;
  bool force = false;
};

void declare(opt::Schema& schema, DpoTrainOptions& options);

struct DpoRunResult {
  TrainResult train;
  uint64_t records = 0, pairs = 0, bad = 0, truncated = 0, dropped = 0, eval_pairs = 0;
  bool reference_reused = false;      // reference_logps.json of an earlier run matched
  Figures last_eval;                  // the last eval's reward figures (empty when none)
  std::vector<std::string> first_errors;
};

// Runs DPO. Throws Interrupted on SIGINT/SIGTERM after checkpointing (see loop.h).
DpoRunResult run_dpo(const DpoTrainOptions& options);

}  // namespace nlm::train
