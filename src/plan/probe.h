// `nativelm plan --probe`: instead of assuming an MFU, train 2-3 candidate shapes for a few steps
// on this machine's backend through the real trainer and measure their tokens/s.
#pragma once
#include <string>
#include <vector>

#include "model/config.h"

namespace nlm::plan {

struct ProbeResult {
  model::ModelConfig shape;
  double params = 0;
  double tokens_per_second = 0;  // per device, the trainer's figure (first step excluded)
  double achieved_tflops = 0;    // 8 x params x tokens/s, NeMo's accounting (as the plan counts)
};

// Trains each shape for `steps` steps of `rows` x `seq_len` on `device`, reading `train_files`
// (or a synthetic shard of random tokens when empty), in a temp folder that is removed after.
std::vector<ProbeResult> probe_shapes(const std::vector<model::ModelConfig>& shapes, int rows, int seq_len,
                                      const std::string& device, const std::vector<std::string>& train_files,
                                      int steps);

}  // namespace nlm::plan
