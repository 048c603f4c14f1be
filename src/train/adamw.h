// AdamW with decoupled weight decay (Loshchilov & Hutter), global-norm gradient clipping, and
// no decay on norms and biases by default. The moment estimates live on the model's device, for
// the trainable parameters only (LoRA-frozen weights have none); they are saved as
// optimizer.safetensors in checkpoints.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/llama.h"

namespace nlm::train {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  // Decoupled weight decay, applied as p -= lr·wd·p.
  double weight_decay = 0.1;
  // Apply weight decay to RMSNorm weights and biases too (off, as is usual).
  bool decay_norms_and_biases = false;
  // Clip the global gradient L2 norm to this (0 = off).
  double grad_clip = 1.0;
};

class AdamW {
 public:
  AdamW(model::Llama& model, AdamWOptions options);
  // Clips, updates every parameter at learning rate lr, advances the step; returns the global
  // gradient norm before clipping.
  double step(double lr);
  int64_t steps() const { return t_; }

  void save(const std::string& path) const;
  // Throws a usage error if the file does not match the model's parameters.
  void load(const std::string& path, int64_t steps);

 private:
  model::Llama& model_;
  AdamWOptions options_;
  std::vector<size_t> trained_;  // indices of the model's trainable params (all but LoRA-frozen ones)
  std::vector<tensor::Tensor> m_, v_;
  int64_t t_ = 0;
};

}  // namespace nlm::train
