// The CUDA backend's fused kernels (everything but matmul and attention), as host launchers that
// enqueue on `stream` and return at once. Element type T is float or __nv_bfloat16 (the data
// dtype); the mixed-precision contract of backend.h decides which pointers are float regardless
// (rstd, losses, parameter gradients, rope tables, AdamW moments). Every kernel loads T, computes
// in fp32 and rounds once on store. Reductions run in a fixed order (no float atomics), so a run
// repeats bit for bit on the same GPU. Shapes use llm.c names (backend.h).
//
// Kernels that find a bad index (token id, position, target) record it in the backend's device
// error word `err` and skip the element; the backend reports it at its next synchronisation.
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace nlm::tensor::cuda {

using bf16 = __nv_bfloat16;

// The device error word: one failure since the last check (when several threads fail at once, one
// of them wins the race), and its bad value.
struct DeviceError {
  int code;   // 0: none; see ErrorCode
  int value;  // the offending index
  int limit;  // its bound
  int row;    // the row it was found in
};
enum ErrorCode : int { kNoError = 0, kBadTokenId = 1, kBadPosition = 2, kBadTarget = 3 };

// ---- elementwise.cu ------------------------------------------------------------------------
template <class T>
void add(T* a, const T* b, int64_t n, cudaStream_t stream);
template <class T>
void scale(T* x, int64_t n, float s, cudaStream_t stream);
template <class T>
void mul(T* a, const T* b, int64_t n, cudaStream_t stream);
// dst = src, rounding fp32 to bf16 to nearest even.
template <class S, class D>
void convert(D* dst, const S* src, int64_t n, cudaStream_t stream);
// out[N,OC] += bias[OC] (the matmul's bias when cuBLASLt's epilogue cannot take it).
template <class T>
void add_bias(T* out, const T* bias, int64_t N, int OC, cudaStream_t stream);
template <class T>
void swiglu_forward(T* out, const T* gate, const T* up, int64_t n, cudaStream_t stream);
template <class T>
void swiglu_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, int64_t n,
                     cudaStream_t stream);
// param (float, or bf16 without master weights) from fp32 grad and moments; c1, c2 are the
// bias corrections 1/(1−β1^t), 1/(1−β2^t).
template <class P>
void adamw_update(P* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, float c1, float c2,
                  cudaStream_t stream);

// ---- reduce.cu -----------------------------------------------------------------------------
// Doubles of scratch reduce_sum needs.
size_t reduce_scratch_doubles();
// *result (device) = Σ x or Σ x², accumulated in double, in a fixed order.
template <class T>
void reduce_sum(double* result, double* scratch, const T* x, int64_t n, bool squares,
                cudaStream_t stream);
// Floats of scratch bias_grad needs.
size_t bias_grad_scratch_floats(int OC);
// dbias[OC] += Σ_n dout[n, :].
template <class T>
void bias_grad(float* dbias, float* scratch, const T* dout, int N, int OC, cudaStream_t stream);

// ---- rmsnorm.cu ----------------------------------------------------------------------------
template <class T>
void rmsnorm_forward(T* out, float* rstd, const T* inp, const T* weight, int N, int C, float eps,
                     cudaStream_t stream);
size_t rmsnorm_backward_scratch_floats(int N, int C);
// dinp[N,C] +=, dweight[C] += (through `scratch`, per-block partial sums).
template <class T>
void rmsnorm_backward(T* dinp, float* dweight, float* scratch, const T* dout, const T* inp,
                      const T* weight, const float* rstd, int N, int C, cudaStream_t stream);

// ---- rope.cu -------------------------------------------------------------------------------
// x[N,H,D] rotated in place by sign·θ; cos/sin fp32 [P, D/2].
template <class T>
void rope_rotate(T* x, const int32_t* pos, const float* cos, const float* sin, int N, int H, int D,
                 int P, int sign, DeviceError* err, cudaStream_t stream);

// ---- embedding.cu --------------------------------------------------------------------------
template <class T>
void embedding_forward(T* out, const int32_t* ids, const T* table, int N, int C, int V,
                       DeviceError* err, cudaStream_t stream);
// dtable[V,C] += dout rows, grouped: segment s holds the tokens order[start[s] .. start[s+1])
// (in token order), which all have id seg_id[s]; each (segment, channel) sums in that order.
template <class T>
void embedding_backward(float* dtable, const T* dout, const int32_t* order, const int32_t* start,
                        const int32_t* seg_id, int segments, int C, cudaStream_t stream);

// ---- classifier.cu -------------------------------------------------------------------------
// losses[N] (fp32) = logsumexp(logits[n]) − logits[n, target]; 0 where target < 0.
template <class T>
void cross_entropy_forward(float* losses, const T* logits, const int32_t* targets, int N, int V,
                           DeviceError* err, cudaStream_t stream);
// dlogits[N,V] = scale·(softmax − onehot); zero rows where target < 0; dlogits may be logits.
template <class T>
void cross_entropy_backward(T* dlogits, const T* logits, const int32_t* targets, int N, int V,
                            float scale, DeviceError* err, cudaStream_t stream);

}  // namespace nlm::tensor::cuda
