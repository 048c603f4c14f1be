// `nativelm plan --probe`: instead of assuming an MFU, train 2-3 candidate shapes for a few steps
// on this machine's backend through the real trainer and measure their tokens/s.
#pragma once
#include <string>
#include <vector>

#include "model/config.h"

namespace nlm::plan {

// What one probe run trains: the shape and the per-step settings that change its throughput,
// the same ones the plan's train YAML sets.
struct ProbeSetup {
  int rows = 1;            // micro-batch rows (the plan's micro_batch)
  int seq_len = 256;
  bool recompute = false;  // activation recomputation (about 1/3 more compute)
  int steps = 5;           // the first is not timed
  std::string device = "cpu";
  std::vector<std::string> train_files;  // empty = a synthetic shard of random tokens
};

struct ProbeResult {
  model::ModelConfig shape;
  int rows = 0;                  // the micro-batch it was measured at
  bool recompute = false;
  double params = 0;
  double tokens_per_second = 0;  // per device, the trainer's figure (first step excluded)
  double achieved_tflops = 0;    // 8 x params x tokens/s, NeMo's accounting (as the plan counts)
};

// Trains each shape for `setup.steps` steps of `setup.rows` x `setup.seq_len` through
// train::run_train with the settings of the plan's train YAML (document shuffling, recompute),
// in a temp folder that is removed after.
std::vector<ProbeResult> probe_shapes(const std::vector<model::ModelConfig>& shapes, const ProbeSetup& setup);

}  // namespace nlm::plan
