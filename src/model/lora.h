// LoRA (Hu et al. 2021) as PEFT does it: a frozen projection W gains y += (alpha/r)·dropout(x)·Aᵀ·Bᵀ
// with A [r,in] drawn like PEFT's kaiming-uniform and B [out,r] zero, so training starts from the
// base model exactly. Only the adapters (and, when asked, the embeddings and LM head) train,
// which is what lets a small team fine-tune a model whose optimizer state would not fit.
// Llama owns the adapters; the ops below are its forward/backward of one adapted projection.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/backend.h"

namespace nlm::model {

struct Param;

struct LoraConfig {
  int rank = 0;            // r; 0 = no LoRA (full fine-tuning)
  double alpha = 16;       // scale = alpha / rank
  double dropout = 0.0;    // on the adapter's input, in training only
  // Projections that get adapters, by PEFT's module names.
  std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  bool train_embeddings = false;  // train model.embed_tokens fully (new tokens need it)
  bool train_lm_head = false;     // train lm_head fully (tied models: the same matrix as the embeddings)
  bool enabled() const { return rank > 0; }
  double scale() const { return alpha / static_cast<double>(rank); }
};

// The projections LoRA can adapt, in layer order.
const std::vector<std::string>& lora_target_names();
// Throws a usage error naming `where` for an unknown target, a duplicate, or bad numbers.
void validate(const LoraConfig& config, const std::string& where);

// One adapted projection and what its forward keeps for backward.
struct LoraLinear {
  std::string name;       // the projection, e.g. "model.layers.0.self_attn.q_proj"
  int layer = 0, index = 0;  // index in lora_target_names()
  Param* A = nullptr;     // [r, in]
  Param* B = nullptr;     // [out, r]
  double scale = 1;
  double dropout = 0;
  tensor::Tensor xa;      // [N, r]: dropout(x)·Aᵀ
  tensor::Tensor tmp;     // [N, out]: scratch for the scaled product and its gradient
  tensor::Tensor dxa;     // [N, r]
  tensor::Tensor xd, mask, dxd;  // [N, in], with dropout only
  bool dropped = false;   // the last forward applied dropout (mask and xd hold it)
};

// out += scale·dropout(x)·Aᵀ·Bᵀ. mask_seed 0 = no dropout (eval, decoding); otherwise the mask is
// a function of the seed, so a recomputed forward draws the same one.
void lora_forward(tensor::Backend& be, LoraLinear& lora, tensor::Tensor& out, const tensor::Tensor& x,
                  uint64_t mask_seed);
// Backward of the last lora_forward: A and B grads accumulate, and dx (which already holds the
// base projection's input gradient) gains the adapter's.
void lora_backward(tensor::Backend& be, LoraLinear& lora, tensor::Tensor& dx, const tensor::Tensor& dout,
                   const tensor::Tensor& x);
// PEFT's init of A: uniform in ±1/sqrt(in) (kaiming_uniform with a = sqrt(5)), from `seed`.
std::vector<double> lora_init_a(int64_t rank, int64_t in, uint64_t seed);

}  // namespace nlm::model
