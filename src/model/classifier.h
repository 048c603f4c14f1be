// The LM head and its cross-entropy ("the classifier") over chunks of rows, so that at most
// chunk·V logits exist at once instead of N·V (N = B·T tokens, V the vocabulary): at V = 32000
// and N = 8192 the full fp32 logits alone are 1 GiB. Each chunk computes its logits = h·Wᵀ into
// one reused buffer, then its per-row losses and/or ∂L/∂logits in place, and the gradients
// dh = dlogits·W and dW += dlogitsᵀ·h, only through Backend ops (matmul_forward/backward and the
// fused cross_entropy kernels) so every backend gets it. Llama (llama.cc) is the caller.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/backend.h"

namespace nlm::model {

// The automatic chunk: as many rows as fit kClassifierChunkBytes of logits in the model's dtype,
// but at least kClassifierMinRows (so the dW product stays a large matmul on a GPU even for a
// very large vocabulary). V = 32000: 1048 rows in fp32 (128 MiB), 2097 in bf16.
inline constexpr int64_t kClassifierChunkBytes = int64_t(128) << 20;
inline constexpr int64_t kClassifierMinRows = 512;

// Rows per chunk for N rows: `requested` when > 0 (ModelOptions::classifier_chunk_rows), else the
// automatic chunk; never more than N (and at least 1).
int64_t classifier_chunk_rows(int64_t requested, int64_t N, int64_t V, tensor::DType dtype);

// One forward's classifier inputs. chunk is the logits buffer, [R, V] in h's dtype, R rows at a
// time (R = classifier_chunk_rows); its contents are scratch between calls.
struct Classifier {
  tensor::Backend& be;
  const tensor::Tensor& h;        // [N,C] final hidden states (after the last RMSNorm)
  const tensor::Tensor& weight;   // [V,C] the LM head (the embeddings when tied)
  const tensor::Tensor& targets;  // I32 [N]; < 0 = ignored
  tensor::Tensor& chunk;          // [R,V]

  // losses[N] (=): logsumexp(logits_n) − logits_n[target_n], 0 where ignored. With logits_out,
  // also the logits [N,V] row-major into that host memory from the same chunks (scoring needs
  // both, and the head's matmul then runs once).
  void loss(tensor::Tensor& losses, float* logits_out = nullptr) const;
  // The logits [N,V] row-major into host memory `out`, widened to float.
  void logits(float* out) const;
  // The backward of L = Σ_n w_n·losses_n, w_n = scale·(row_weights ? (*row_weights)[n] : 1):
  // dh (=) and dweight (+=; null for a frozen head). With `losses` not null it also writes the
  // losses (=) in the same pass: the training step's fused loss and gradient.
  void backward(tensor::Tensor& dh, tensor::Tensor* dweight, double scale,
                const std::vector<double>* row_weights, tensor::Tensor* losses) const;
  // The backward from ∂L/∂logits given on the host, [N,V] row-major: dh (=), dweight (+=).
  void backward_from(const float* dlogits, tensor::Tensor& dh, tensor::Tensor* dweight) const;
};

}  // namespace nlm::model
