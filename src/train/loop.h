// The optimizer loop that `train` and `sft` share: per step accumulate gradients over
// micro-batches from a LoopData, clip, AdamW at the scheduled learning rate, write metrics.jsonl
// and progress lines, evaluate, checkpoint (and resume), stop cleanly on SIGINT/SIGTERM, and
// save the final HF model folder. The callers only build the model and say where batches come
// from and how to evaluate.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "model/llama.h"
#include "tensor/dtype.h"
#include "train/adamw.h"
#include "train/schedule.h"

namespace nlm::train {

// Where micro-batches come from; its cursor is saved in checkpoints so a resumed run draws
// exactly the batches an uninterrupted run would.
class LoopData {
 public:
  virtual ~LoopData() = default;
  // The next micro-batch; `tokens` = the real (non-padding) tokens in it, for tokens/s.
  virtual model::Batch next(int64_t& tokens) = 0;
  virtual std::string state_json() const = 0;
  virtual void restore(const std::string& state_json) = 0;
};

// A named figure beside the loss in metrics.jsonl and the progress lines ("rewards/margins").
using Figures = std::vector<std::pair<std::string, double>>;

struct EvalFigures {
  double loss = 0;
  double bpb = -1;  // bits per byte, −1 when unknown
  Figures extra;    // written as eval_<name>
};

struct LoopOptions {
  std::string out_dir;         // metrics.jsonl, checkpoints/, model/
  int grad_accum = 1;
  int64_t steps = 1;
  ScheduleOptions schedule;
  AdamWOptions optimizer;
  int64_t eval_every = 0;      // 0 = only at the end
  int64_t checkpoint_every = 0;
  int keep_checkpoints = 2;
  int64_t log_every = 10;
  bool resume = false;
  bool force = false;
  tensor::DType save_dtype = tensor::DType::F32;
  std::string tokenizer;       // tokenizer.json shipped with checkpoints and the model
  int seq_len = 1;             // T, for the FLOPs per token of MFU
  std::string fingerprint;     // run shape; a checkpoint with another one is not resumed
  std::string config_json;     // the run's options, recorded in trainer_state.json
  std::string command = "train";  // names the command in messages
  // LoRA runs (the model has adapters): adapter/ is always written, with `base_model` as its
  // base_model_name_or_path; model/ only when merge_lora folds the adapters in.
  bool merge_lora = false;
  std::string base_model;
  // MLflow file store to log to (empty = none): params from config_json, each metrics.jsonl
  // figure, FINISHED / KILLED / FAILED at the end; the run id is kept in out_dir/mlflow_run_id
  // so a resumed run logs into the same MLflow run.
  std::string mlflow;
  std::string mlflow_experiment = "nativelm";
  // When set, replaces the LM loss of a micro-batch (DPO's pair loss): runs forward and backward
  // of the batch the data just returned, gradients scaled by `scale`, and returns its loss.
  std::function<double(model::Llama&, const model::Batch&, double scale)> micro_step;
  // When set, the step's extra figures (over its micro-batches), called once per step after them.
  std::function<Figures()> step_figures;
  // Data-parallel ranks (nullptr = one process). Every rank draws every micro-batch of a step, in
  // the same order, and computes those with index ≡ rank (mod ranks), so grad_accum must be a
  // multiple of the rank count and any rank count sees the same global batch; rank 0 alone
  // writes metrics, logs, evaluates and saves the model (each rank writes its optimizer shard).
  dist::DeviceComm* comm = nullptr;
};

// Thrown when SIGINT or SIGTERM arrived: the step in progress was finished and checkpointed, and
// the run continues with `resume`. Front ends tell the user how and exit 130.
class Interrupted : public Error {
 public:
  Interrupted(int signal, int64_t step, std::string checkpoint, const std::string& command = "train");
  int signal = 0;
  int64_t step = 0;           // optimizer steps completed and saved
  std::string checkpoint;     // the checkpoint folder holding them
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
  std::string model_dir;          // out_dir/model, or "" for an unmerged LoRA run
  std::string adapter_dir;        // out_dir/adapter for LoRA runs, else ""
  int rank = 0;                   // data-parallel rank that returned this; rank 0 wrote the outputs
};

// Where the run's result went, for the last line of a command: "model in DIR", or the LoRA
// adapter's folder (and the merged model's).
std::string outputs_text(const TrainResult& result);

// A usage error unless grad_accum is a multiple of the rank count of options.comm.
void check_ranks(const LoopOptions& options);

// Refuses (usage error) an out_dir holding checkpoints unless resume or force; with force they
// are deleted. Call before anything is written.
void check_run_dir(const LoopOptions& options);

// Runs steps until options.steps and saves out_dir/model (weights, config, tokenizer files).
// `evaluate` may be empty (no eval).
TrainResult run_loop(model::Llama& model, LoopData& data, const LoopOptions& options,
                     const std::function<EvalFigures(model::Llama&)>& evaluate);

}  // namespace nlm::train
