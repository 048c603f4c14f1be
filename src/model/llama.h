// A Llama-family decoder on a Backend: parameters with their HF names, an explicit forward pass
// that keeps the activations the backward pass needs, an explicit backward pass, and KV-cache
// decoding for generation. One training step reads top to bottom in llama.cc:
//   x = embed(ids); per layer: x += o(attn(rope(q,k), v)(rmsnorm(x))); x += down(swiglu(gate,up)(rmsnorm(x)))
//   logits = lm_head(rmsnorm(x)); loss = mean cross-entropy over targets ≥ 0.
// The model only calls Backend ops and upload/download; it never touches device memory, and
// training forward and KV-cache decoding run the same per-layer function (layer_forward).
// The LM head and loss run over chunks of rows (classifier.h): no [B·T, V] logits tensor exists.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/config.h"
#include "model/lora.h"
#include "tensor/backend.h"

namespace nlm::model {

struct Classifier;  // classifier.h

struct Param {
  std::string name;  // HF name, e.g. "model.layers.0.self_attn.q_proj.weight"
  tensor::Tensor value;  // in the model's dtype (BF16 for a mixed-precision model)
  tensor::Tensor grad;   // in Llama::grad_dtype() (F32 for a BF16 model); undefined when frozen
  bool is_norm_or_bias = false;  // excluded from weight decay by default
  bool trainable = true;         // false: frozen under LoRA (no optimizer state, no dW)
  bool adapter = false;          // a LoRA matrix: not part of the HF model's weights
};

// One packed batch on the host. B rows of T tokens; targets < 0 are ignored by the loss.
// positions restart at 0 for each document when document masking is on; docs (optional,
// empty = off) holds a document index per token.
struct Batch {
  int B = 0, T = 0;
  std::vector<int32_t> inputs, targets, positions, docs;
  // Plain causal rows: positions 0..T−1, no document ids.
  void set_default_positions();
};

struct ModelOptions {
  // Data dtype of the weights and activations: F32 (the default), BF16 for mixed precision, F64
  // for reference gradient checks. F16 and the integer types are refused with a usage error.
  // With BF16, what accumulates or keeps statistics is in accum_dtype(BF16) = F32 (backend.h):
  // every Param::grad (LoRA adapters' too), the rmsnorm rstd, the per-token losses and the RoPE
  // tables. The optimizer's fp32 master weights live outside the model (the trainer's).
  tensor::DType dtype = tensor::DType::F32;
  // Keep only each layer's input in forward and recompute the rest during backward:
  // saves most activation memory for about a third more compute.
  bool recompute = false;
  // Rows of logits the classifier (LM head + cross-entropy) holds at once in training, loss and
  // logits(): peak logits memory is rows·V instead of B·T·V. 0 = automatic: as many rows as fit
  // 128 MiB in the model's dtype, at least 512 (classifier.h); results do not depend on it
  // beyond rounding.
  int64_t classifier_chunk_rows = 0;
};

class Llama {
 public:
  Llama(const ModelConfig& config, tensor::Backend& backend, ModelOptions options = {});
  ~Llama();
  Llama(const Llama&) = delete;
  Llama& operator=(const Llama&) = delete;

  const ModelConfig& config() const { return config_; }
  tensor::Backend& backend() const { return backend_; }
  // ModelOptions::dtype, and the dtype of every parameter gradient: accum_dtype(dtype()).
  tensor::DType dtype() const { return options_.dtype; }
  tensor::DType grad_dtype() const { return tensor::accum_dtype(options_.dtype); }
  std::vector<Param>& params() { return params_; }
  const std::vector<Param>& params() const { return params_; }
  Param* find(const std::string& name);

  // N(0, initializer_range) for matrices and embeddings (down/o projections scaled by
  // 1/sqrt(2L)), ones for norms, zeros for biases. Deterministic in `seed`.
  void init_random(uint64_t seed);

  // Forward pass; returns the mean loss over targets ≥ 0 (0 if none). Keeps activations up to
  // the final norm; the logits are computed chunk by chunk and dropped (classifier.h).
  // Everything read back to the host (losses, logits, residuals, decode's logits) is widened
  // to float or double whatever the model's dtype. With `logits`, it also receives the logits
  // [B·T, V] row-major from the same pass over the head (what logits() would recompute).
  double forward(const Batch& batch, std::vector<float>* logits = nullptr);
  // forward(batch) then backward(loss_scale) with one pass over the LM head: each chunk's logits
  // give its losses and gradient at once, so the head's matmul is not recomputed. The training
  // step; token_losses() and logits() work after it as after forward.
  double forward_backward(const Batch& batch, double loss_scale = 1.0);
  // Per-token losses of the last forward (0 at ignored targets), on the host.
  std::vector<double> token_losses() const;
  // Logits of the last forward, [B·T, V] row-major, on the host: recomputed chunk by chunk from
  // the last forward's final hidden states and the current LM head (so call it before an
  // optimizer step changes the head). For scoring: log-probabilities, greedy and top-k tokens.
  // This host vector is the one place the whole [B·T, V] exists.
  std::vector<float> logits() const;
  // Backward of the last forward's mean loss, scaled by loss_scale; accumulates into grads.
  // Recomputes the head's logits chunk by chunk (forward_backward avoids that).
  void backward(double loss_scale = 1.0);
  // Backward of L = Σ_n weights[n] · losses[n] over the last forward's tokens (weights[n] = ∂L/∂loss_n,
  // any sign; ignored targets contribute nothing): the per-token weighted cross-entropy that
  // sequence-level losses such as DPO's reduce to. weights has B·T entries.
  void backward_weighted(const std::vector<double>& weights);
  // Backward from a gradient given by the caller: dlogits = ∂L/∂logits of the last forward, [B·T, V]
  // row-major on the host (a loss computed from logits(), such as distillation's KL). Accumulates
  // into grads like backward().
  void backward_logits(const std::vector<float>& dlogits);
  // Forward only from now on: every gradient buffer is released and every parameter is marked
  // untrainable (a distillation teacher); a later backward is a runtime error.
  void freeze();
  bool frozen() const { return frozen_; }
  void zero_grad();
  // Called by backward (every variant) as soon as a group of trainable parameter gradients is
  // final for this backward: group L (= num_hidden_layers) holds the final norm and an untied LM
  // head, then L−1 … 0 each layer's weights (with its LoRA adapters), then −1 the embeddings (and
  // a tied head). Data parallel starts reducing a group while backward goes on. Empty = none.
  void set_grad_ready_hook(std::function<void(int group)> hook) { grad_ready_ = std::move(hook); }

  // ---- generation -----------------------------------------------------------------------
  // One sequence's KV cache (per layer [Tmax, NKV, hs]) and its filled length. The model decodes
  // into the one it holds; several sequences take turns through swap_cache (backend_decoder.h).
  struct KvCache {
    std::vector<tensor::Tensor> k, v;
    int past = 0;
  };
  // Starts a new sequence with room for max_tokens positions.
  void reset_cache(int max_tokens);
  // Feeds tokens at the next positions and returns the logits [V] of the last one, or with
  // every_row those of every fed token [Tq, V].
  std::vector<float> decode(const std::vector<int32_t>& tokens, bool every_row = false);
  int cache_length() const { return cache_.past; }
  // Exchanges the model's cache with `other` (an empty one is fine: decode then refuses until
  // a cache with room is swapped back in or reset_cache runs).
  void swap_cache(KvCache& other) { std::swap(cache_, other); }

  // FLOPs of one training step's forward+backward per token (6·params + attention), for MFU.
  double train_flops_per_token(int T) const;

  // ---- activations of the last forward, for analysis (pruning importance) -----------------
  // The residual stream entering layer l ([N, C]; l = L: after the last layer), layer l's SwiGLU
  // output h ([N, I]) and its attention output before o_proj ([N, NH·hs]), on the host. The last
  // two need a forward without recomputation.
  std::vector<float> residual(int l) const;
  std::vector<float> mlp_activation(int l) const;
  std::vector<float> attention_output(int l) const;

  // ---- LoRA (lora.h) ----------------------------------------------------------------------
  // Adds rank-r adapters to the configured projections of every layer (A from `seed`, B zero,
  // so the model's outputs are unchanged) and freezes every base weight except the embeddings
  // and LM head when the config trains them. Adapter params are named as PEFT names them
  // without its "base_model.model." prefix: model.layers.0.self_attn.q_proj.lora_A.weight.
  void add_lora(const LoraConfig& config, uint64_t seed);
  // The adapters' config; rank 0 when the model has none.
  const LoraConfig& lora() const { return lora_; }
  // Folds every adapter into its weight (W += scale·B·A) and removes them; all weights train again.
  void merge_lora();
  // Training mode turns LoRA dropout on; eval, scoring and decoding run without it (the default).
  // The masks are a function of the adapter seed, `key` and the forwards since this call, so a
  // run that names its micro-batches (step, micro) draws the same masks after a resume.
  void set_training(bool on, uint64_t key = 0) {
    training_ = on;
    dropout_key_ = key;
    forward_count_ = 0;
  }

 private:
  struct LayerParams;
  struct LayerActs;
  struct Scratch;
  struct Tokens;
  void build_params();
  void require_ops(bool backward) const;
  void start_backward() const;  // the checks every backward variant makes first
  Classifier classifier() const;  // the LM head over the last forward's rows
  void forward_trunk(const Batch& batch);  // forward up to the final norm (s_->lnf)
  void backward_below_head();  // the backward below the LM head, from ∂L/∂lnf in s_->dln
  void ensure_rope(int positions);
  void ensure_buffers(int B, int T);
  LayerActs make_acts(int B, int T) const;
  void layer_forward(int l, LayerActs& a, const Tokens& tok, const tensor::Tensor& x,
                     tensor::Tensor& x_out);
  void layer_backward(int l, LayerActs& a, const tensor::Tensor& x, tensor::Tensor& dres);
  void cached_attention(int l, tensor::Tensor& out, const tensor::Tensor& q, int past, int Tq);
  void bind_params();
  // out = x·Wᵀ (+ b), plus the layer's adapter on module m when it has one.
  // `dropout` allows the adapter's dropout (training forward only).
  void project(int l, int m, tensor::Tensor& out, const tensor::Tensor& x, Param* w, Param* b, bool dropout);
  // The backward of project: dx (= or += by accumulate) and the trainable grads.
  void project_backward(int l, int m, tensor::Tensor* dx, const tensor::Tensor& dout, const tensor::Tensor& x,
                        Param* w, Param* b, bool accumulate);

  ModelConfig config_;
  tensor::Backend& backend_;
  ModelOptions options_;
  std::vector<Param> params_;
  std::vector<LayerParams> layers_;
  LoraConfig lora_;
  std::vector<std::unique_ptr<LoraLinear>> adapters_;  // layer-major, lora_target_names() order
  bool training_ = false;
  bool frozen_ = false;
  std::function<void(int)> grad_ready_;
  uint64_t lora_seed_ = 0, dropout_key_ = 0, forward_count_ = 0;  // dropout masks: a function of these
  Param* embed_ = nullptr;
  Param* final_norm_ = nullptr;
  Param* lm_head_ = nullptr;  // == embed_ when tied
  tensor::Tensor rope_cos_, rope_sin_;
  int rope_positions_ = 0;

  int B_ = 0, T_ = 0;
  int64_t valid_ = 0;
  std::unique_ptr<Scratch> s_;
  KvCache cache_;
};

}  // namespace nlm::model
