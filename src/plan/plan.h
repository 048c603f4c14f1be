// `nativelm plan`: sizes a pretraining run before it starts, as NeMo's Auto Configurator does.
// From the hardware (a table of GPUs or this machine's CPU), a time or money budget and the
// dataset's token count it picks a model shape, batch, learning rate and parallelism, estimates
// memory per device, time and cost, explains which limit binds (compute, data or a fixed size),
// and writes a `train` YAML that `nativelm train` runs as is.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"
#include "model/config.h"
#include "plan/probe.h"

namespace nlm::plan {

// One accelerator kind: dense bf16 tensor peak and memory (vendor data sheets).
struct Hardware {
  std::string name;        // "a100", ..., "cpu"
  double peak_tflops = 0;  // dense bf16 (cpu: measured fp32 sgemm of this machine)
  double memory_gib = 0;   // per device (cpu: physical memory)
};
// The table: a100, h100, h200, l40s, rtx4090. Throws a usage error naming the known ones.
Hardware gpu_hardware(const std::string& name);
std::vector<Hardware> hardware_table();

// The hardware kind and budget: the keys `nativelm plan` and a pipeline's train stage with
// `size: auto` share (there under `plan.`), declared once by declare_budget.
struct BudgetOptions {
  std::string gpu = "a100";   // a name from the hardware table, or cpu
  double hours = 0;           // wall-clock budget (or gpu_hours)
  double gpu_hours = 0;       // budget in device hours over all devices (instead of hours)
  double price = 0;           // per device hour, for the cost line (0 = no cost)
  double mfu = 0.45;          // assumed model FLOPs utilisation of the peak
  double tflops = 0;          // achieved TFLOP/s per device; 0 = mfu x peak (NeMo's tflops_per_gpu)
  bool probe = false;         // measure 2-3 candidate shapes with short train runs instead of mfu
  int probe_steps = 5;        // steps per probe run (the first is not timed)
};
// Declares the keys with `prefix` ("" for the plan command, "plan." in a pipeline's train stage).
// `gpu_doc` describes the gpu key where it means something else (the pipeline's train stage).
void declare_budget(opt::Schema& schema, BudgetOptions& options, const std::string& prefix,
                    const std::string& gpu_doc = {});
// The budget keys, for front ends that rename library errors about them (opt::OptionError keys).
const std::vector<std::string>& budget_keys();

struct PlanOptions : BudgetOptions {
  int gpus = 8;               // devices per node (cpu: one device per node)
  int nodes = 1;
  std::string data;           // tokenize output folder (its manifest.json gives the tokens)
  uint64_t tokens = 0;        // dataset tokens when there is no manifest (0 = from data)
  int64_t vocab_size = 0;     // tokenizer vocabulary; 0 = from the shards
  std::string size;           // target parameters ("125M", "1.3B"); empty = planned
  std::string init_from;      // base checkpoint for continued pretraining (its size is fixed)
  int seq_len = 0;            // 0 = 2048 on GPUs, 256 on cpu
  std::string output;         // where to write the train YAML (empty = none)
  std::string out_dir = "runs/planned";  // out_dir written into the train YAML
};
void declare(opt::Schema& schema, PlanOptions& options);

// One row of the explanation table.
struct Scenario {
  std::string name, why;
  double params = 0, tokens = 0, epochs = 0;
};

struct MemoryEstimate {
  double weights = 0, grads = 0, optimizer = 0, activations = 0;  // bytes per device
  // CPU only: the trainer's other per-parameter buffers, measured at 12 bytes per parameter
  // (peak RSS of CPU runs; tests/plan checks the total against it).
  double buffers = 0;
  double total() const { return weights + grads + optimizer + activations + buffers; }
};

struct Plan {
  Hardware hw;
  int devices = 1;
  double hours = 0;             // budget, wall clock
  double achieved_tflops = 0;   // per device
  double budget_flops = 0;      // hours x devices x achieved
  uint64_t dataset_tokens = 0;
  std::vector<Scenario> scenarios;  // compute-optimal, data-limited, NeMo 8NT, budget
  std::string binds, binds_why;
  model::ModelConfig shape;
  double params = 0;            // the shape's parameters
  double train_tokens = 0;
  double epochs = 0;
  int seq_len = 0;              // tokens per row
  int64_t batch_tokens = 0;     // per optimizer step
  int micro_batch = 1;          // rows per device per micro-batch
  int grad_accum = 1;
  int64_t steps = 0;
  double lr = 0;                // peak; the schedule is cosine to min_lr after warmup_steps
  double min_lr = 0;
  int64_t warmup_steps = 0;
  int dp = 1;
  bool shard_optimizer = false;
  bool recompute = false;
  MemoryEstimate memory;
  bool fits = true;
  double expected_hours = 0;
  double cost = 0;
  std::vector<std::string> train_files, eval_files;
  std::vector<ProbeResult> probes;  // with --probe: the measured candidates
};

// NeMo's model size formula, in parameters: days*86400*gpus*tflops*1e12 / (8*tokens).
double nemo_size(double days, int gpus, double tflops, double tokens);
// The table shape (layers, hidden, heads, KV heads, FFN) nearest to `params` in log scale, with
// `vocab` and `seq_len` set.
model::ModelConfig shape_for(double params, int64_t vocab, int seq_len);
// Every shape of the table, smallest first.
std::vector<model::ModelConfig> shape_table(int64_t vocab, int seq_len);
// Bytes per device to train `m` with `rows` rows of `seq_len` per micro-batch: fp32 weights,
// grads and AdamW moments (GPU: bf16 weights and fp32 master), the moments split over `dp` with
// sharding, and activations (only layer inputs with recompute).
MemoryEstimate estimate_memory(const model::ModelConfig& m, int rows, int seq_len, bool gpu, int dp, bool shard,
                               bool recompute);
// Parses "125M", "1.3B", "7e9".
double parse_params(const std::string& text, const std::string& key);

Plan make_plan(const PlanOptions& options);
// The report: inputs, the explanation table, the recommendation.
std::string plan_text(const Plan& plan);
// A train config that `nativelm train FILE` runs.
std::string train_yaml(const Plan& plan, const PlanOptions& options);

}  // namespace nlm::plan
