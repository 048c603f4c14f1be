// The small set of compute calls between model code and a device (DESIGN principle 5). Model
// code allocates tensors here, moves bytes in and out with upload/download, and computes only
// with these ops, so a CUDA backend plugs in by implementing this class, without touching any
// model code. Every op states its shapes with llm.c names: N rows (= B*T tokens), C channels,
// OC output channels, V vocabulary, NH query heads, NKV key/value heads, hs head size.
//
// Conventions: ops take data tensors of one floating dtype, the op's dtype: F32, F64 for
// reference gradient checks, or BF16 for mixed precision; ids, positions and document ids are I32.
// Mixed precision (DESIGN "Numerics"): when the data dtype is BF16 (or F16), the tensors that
// accumulate or keep statistics are in accum_dtype(dtype) = F32 instead: parameter gradients
// (matmul dweight/dbias, rmsnorm dweight, embedding dtable), rmsnorm's rstd, cross-entropy's
// losses, the rope cos/sin tables, and every AdamW tensor (the fp32 master weights, their
// gradients and moments). For F32 and F64 accum_dtype is the dtype itself, so one rule covers all. Backward ops say for each gradient whether
// they overwrite it (=) or accumulate into it (+=); parameter gradients always accumulate, so
// gradient accumulation and tied embeddings need nothing special.
//
// A backend picks itself by name through backend_for() (backend_registry.cc), says which ops it
// implements through supports() so callers can fall back, reports its matmul peak for MFU with
// peak_flops(), and keeps what attention needs for backward in its own AttentionState.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace nlm::tensor {

// The ops below, for Backend::supports(). Memory ops (allocate, upload, copy_range, ...) are not
// listed: every backend must have them.
enum class Op : uint8_t {
  Add,
  Scale,
  Mul,
  Sum,
  SumSquares,
  EmbeddingForward,
  EmbeddingBackward,
  MatmulForward,
  MatmulBackward,
  RmsnormForward,
  RmsnormBackward,
  RopeForward,
  RopeBackward,
  AttentionForward,
  AttentionBackward,
  AttentionCached,
  SwigluForward,
  SwigluBackward,
  CrossEntropyForward,
  CrossEntropyBackward,
  AdamwUpdate,
};
inline constexpr int kOpCount = static_cast<int>(Op::AdamwUpdate) + 1;
// "matmul_forward", ... (the method's name).
const char* op_name(Op op);

// What attention_forward keeps for attention_backward, in whatever form the backend likes: the
// CPU backend keeps the [B,NH,T,T] softmax probabilities, a flash-attention backend only the
// per-row logsumexp. Model code holds it and hands it back, never looks inside.
class AttentionState {
 public:
  virtual ~AttentionState() = default;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  virtual std::string name() const = 0;

  // Whether this backend implements `op` for tensors of `dtype` (the floating dtype of the op's
  // data tensors). Calling an op it does not support throws; callers that have another way
  // (Llama::decode computes cached attention with attention_forward) ask first and fall back.
  virtual bool supports(Op op, DType dtype) const = 0;
  // fp32 matmul throughput in FLOP/s that this backend measures or knows: the denominator of
  // the MFU figures training reports. May take some milliseconds (the CPU backend times sgemm);
  // call it once per run.
  virtual double peak_flops() = 0;

  // ---- memory ----------------------------------------------------------------------------
  // A new tensor; contents undefined. zeros() is empty() then zero().
  Tensor empty(const Shape& shape, DType dtype);
  Tensor zeros(const Shape& shape, DType dtype);
  // Host -> device: `host` holds t.numel() elements of `host_type`, converted to t.dtype().
  virtual void upload(Tensor& t, const void* host, DType host_type) = 0;
  // Device -> host: writes t.numel() elements of `host_type` to `host`.
  virtual void download(const Tensor& t, void* host, DType host_type) = 0;
  virtual void zero(Tensor& t) = 0;
  // dst[dst_offset : dst_offset + n] = src[src_offset : src_offset + n] (elements, same dtype).
  virtual void copy_range(Tensor& dst, int64_t dst_offset, const Tensor& src, int64_t src_offset,
                          int64_t n) = 0;
  // dst[dst_offset : dst_offset + src.numel()] = src.
  void copy_into(Tensor& dst, int64_t dst_offset, const Tensor& src) {
    copy_range(dst, dst_offset, src, 0, src.numel());
  }
  // Raw device memory for `bytes` bytes (aligned for any dtype); release() frees it and is
  // called by Storage when the last handle goes away.
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* ptr, size_t bytes) = 0;
  // Waits for queued work (no-op on CPU).
  virtual void synchronize() {}
  // dst = src converted elementwise between floating dtypes (same element count; shapes may
  // differ): fp32 master weights to bf16 weights and back. The default goes through the host.
  virtual void convert(Tensor& dst, const Tensor& src);

  // ---- elementwise and reductions -------------------------------------------------------
  // a += b (same shape).
  virtual void add(Tensor& a, const Tensor& b) = 0;
  // x *= s.
  virtual void scale(Tensor& x, double s) = 0;
  // a *= b elementwise (same shape): dropout masks.
  virtual void mul(Tensor& a, const Tensor& b) = 0;
  // sum of x, and sum of x^2, returned to the host in double.
  virtual double sum(const Tensor& x) = 0;
  virtual double sum_squares(const Tensor& x) = 0;

  // ---- layers ---------------------------------------------------------------------------
  // out[N,C] = table[ids[n], :]; ids I32 [N], table [V,C]. Out-of-range ids are an error.
  virtual void embedding_forward(Tensor& out, const Tensor& ids, const Tensor& table) = 0;
  // dtable[ids[n], :] += dout[n, :].
  virtual void embedding_backward(Tensor& dtable, const Tensor& dout, const Tensor& ids) = 0;

  // out[N,OC] = inp[N,C] · weight[OC,C]^T (+ bias[OC]); bias may be null.
  virtual void matmul_forward(Tensor& out, const Tensor& inp, const Tensor& weight,
                              const Tensor* bias) = 0;
  // dinp[N,C] (= or += by accumulate_dinp) dout·W; dweight[OC,C] += dout^T·inp;
  // dbias[OC] += Σ_n dout. dinp, dweight and dbias may be null (a frozen weight under LoRA
  // skips its dW product, half the backward's matmul work).
  virtual void matmul_backward(Tensor* dinp, Tensor* dweight, Tensor* dbias, const Tensor& dout,
                               const Tensor& inp, const Tensor& weight, bool accumulate_dinp) = 0;

  // out[N,C] = inp · rstd · weight with rstd[N] = 1/sqrt(mean(inp^2) + eps) (saved for backward).
  virtual void rmsnorm_forward(Tensor& out, Tensor& rstd, const Tensor& inp, const Tensor& weight,
                               double eps) = 0;
  // dinp[N,C] +=, dweight[C] +=.
  virtual void rmsnorm_backward(Tensor& dinp, Tensor& dweight, const Tensor& dout,
                                const Tensor& inp, const Tensor& weight, const Tensor& rstd) = 0;

  // In place on x[N,H,D], HF rotate_half layout: for i < D/2, with θ = pos[n]·freq[i],
  // (x_i, x_{i+D/2}) ← (x_i cosθ − x_{i+D/2} sinθ, x_{i+D/2} cosθ + x_i sinθ).
  // cos/sin are tables [P, D/2] (P ≥ max position + 1) of the model's dtype; pos I32 [N].
  virtual void rope_forward(Tensor& x, const Tensor& pos, const Tensor& cos, const Tensor& sin) = 0;
  // The rotation is orthogonal, so its backward rotates the gradient in place by −θ.
  virtual void rope_backward(Tensor& dx, const Tensor& pos, const Tensor& cos,
                             const Tensor& sin) = 0;

  // Causal grouped-query attention over packed sequences. q [B,T,NH,hs], k and v [B,T,NKV,hs]
  // (NH a multiple of NKV; head h reads kv head h / (NH/NKV)), out [B,T,NH,hs]. docs I32 [B,T]
  // (may be null): token t attends to t' ≤ t only when docs[b,t'] == docs[b,t] (document
  // masking inside a packed row). `state` receives what backward needs; pass the same pointer
  // on every step so the backend can reuse its memory (it replaces a state of another shape).
  virtual void attention_forward(Tensor& out, std::unique_ptr<AttentionState>& state,
                                 const Tensor& q, const Tensor& k, const Tensor& v,
                                 const Tensor* docs, int B, int T) = 0;
  // dq, dk, dv (=) from dout, with the state of the forward over these q, k, v. The state may
  // be used up: one backward per forward.
  virtual void attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout,
                                  AttentionState& state, const Tensor& q, const Tensor& k,
                                  const Tensor& v, int B, int T) = 0;
  // Decoding with a KV cache (one sequence): q [Tq,NH,hs] holds tokens at positions
  // past .. past+Tq−1; kcache, vcache [Tmax,NKV,hs] already hold rows 0 .. past+Tq−1.
  // out [Tq,NH,hs]. Causal within the new tokens. Optional (see supports()): the default
  // throws, and Llama::decode then runs attention_forward over the cached rows instead.
  virtual void attention_cached(Tensor& out, const Tensor& q, const Tensor& kcache,
                                const Tensor& vcache, int past, int Tq);

  // out[N,H] = silu(gate) · up, silu(x) = x·σ(x).
  virtual void swiglu_forward(Tensor& out, const Tensor& gate, const Tensor& up) = 0;
  // dgate, dup (=).
  virtual void swiglu_backward(Tensor& dgate, Tensor& dup, const Tensor& dout, const Tensor& gate,
                               const Tensor& up) = 0;

  // losses[N] = logsumexp(logits[n]) − logits[n, targets[n]]; 0 where targets[n] < 0 (ignored).
  virtual void cross_entropy_forward(Tensor& losses, const Tensor& logits,
                                     const Tensor& targets) = 0;
  // dlogits[N,V] (=) = scale · (softmax(logits) − onehot(target)); zero rows where ignored.
  // dlogits may be the same tensor as logits (in place).
  virtual void cross_entropy_backward(Tensor& dlogits, const Tensor& logits,
                                      const Tensor& targets, double scale) = 0;

  // ---- optimizer -------------------------------------------------------------------------
  // AdamW with decoupled weight decay, bias-corrected at step t (1-based):
  // m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; p −= lr (m̂/(√v̂+ε) + wd·p).
  virtual void adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr,
                            double beta1, double beta2, double eps, double weight_decay,
                            int64_t t) = 0;
};

// Throws the runtime error for calling `op`, which `backend` does not support.
[[noreturn]] void unsupported_op(const Backend& backend, Op op);

// ---- choosing a backend -------------------------------------------------------------------
// The backend for a device name: "cpu" (always there, threads from nlm::thread_count()), a CUDA
// device ("cuda", "cuda:N") in builds that have one, or a name given to register_backend.
// An unknown or unavailable device is a usage error that lists the devices this build has.
Backend& backend_for(const std::string& device);
// Makes `backend` available as backend_for(name) for the rest of the process (it must outlive
// every use). Registering another backend under a taken name is an error.
void register_backend(const std::string& name, Backend& backend);
// The names backend_for accepts, "cpu" first, the rest sorted.
std::vector<std::string> registered_devices();

}  // namespace nlm::tensor
