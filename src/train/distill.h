// `nativelm distill`: knowledge distillation of a frozen teacher (an HF model folder) into a
// student (an HF model folder: a smaller model from `prune`, or any model with the same
// tokenizer) on token shards, as `train` reads them. The loss is distill_loss.h's
// alpha·τ²·KL(softmax(t/τ) ‖ softmax(s/τ)) + (1 − alpha)·CE on every position, with the teacher
// either full-vocabulary or cut to its top-k ids; the teacher runs forward only, on the fly, on
// the same batch (it has no gradients and no optimizer state). The shared loop (loop.h) runs the
// steps, checkpoints, resume and metrics.jsonl (loss, kd_loss, ce_loss; eval_loss, eval bits per
// byte and eval_kl, the held-out full-vocabulary KL at τ = 1), and writes the student to OUT/model.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"
#include "tensor/dtype.h"
#include "train/adamw.h"
#include "train/distill_loss.h"
#include "train/lora_options.h"
#include "train/loop.h"
#include "train/schedule.h"

namespace nlm::tokenizer {
class Tokenizer;
}

namespace nlm::train {

struct DistillOptions {
  DistillOptions();
  std::string teacher;                  // HF model folder of the teacher (frozen)
  std::string student;                  // HF model folder the student starts from
  std::vector<std::string> data;        // training .tok shards or folders of them
  std::vector<std::string> eval_shards; // held-out .tok shards (none = no eval)
  std::string out_dir;                  // metrics.jsonl, checkpoints/, model/
  DistillLossOptions loss;              // temperature (1), alpha (0.5), top_k (0 = full vocabulary)
  int batch_size = 8;
  int seq_len = 256;
  int grad_accum = 1;
  bool doc_masking = true;
  int64_t steps = 1000;
  ScheduleOptions schedule;             // lr 1e-4 cosine to 1e-5 after 20 warmup steps
  AdamWOptions optimizer;
  int64_t eval_every = 100;
  int eval_batches = 10;
  int64_t checkpoint_every = 500;
  int keep_checkpoints = 2;
  int64_t log_every = 10;
  uint64_t seed = 1234;
  bool recompute = false;
  tensor::DType save_dtype = tensor::DType::F32;
  std::string device = "cpu";
  std::string mlflow;
  std::string mlflow_experiment = "nativelm";
  LoraOptions lora;                     // LoRA on the student (lora.rank > 0)
  bool resume = false;
  bool force = false;
};

void declare(opt::Schema& schema, DistillOptions& options);

struct DistillResult {
  TrainResult train;
  double last_eval_kl = -1;  // mean held-out KL(teacher ‖ student) per token at τ = 1; −1 without eval
};

// Usage errors: a missing teacher or student folder, tokenizers that differ (named with both
// folders), models whose vocabulary sizes differ, τ ≤ 0, alpha outside [0, 1], top_k over the
// vocabulary, seq_len over either model's positions. Throws Interrupted on SIGINT/SIGTERM after
// checkpointing (see loop.h).
DistillResult run_distill(const DistillOptions& options);

// A usage error unless the two tokenizers have the same vocabulary: the same number of ids and
// the same token string at every id (model vocabulary and added tokens).
void check_same_vocabulary(const tokenizer::Tokenizer& teacher, const std::string& teacher_dir,
                           const tokenizer::Tokenizer& student, const std::string& student_dir);

}  // namespace nlm::train
