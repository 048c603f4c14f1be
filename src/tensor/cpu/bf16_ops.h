// The CPU backend's BF16 ops: mixed precision on a machine without bf16 arithmetic, so that a
// bf16 model trains and decodes on CPU in tests and small runs, and so CPU and CUDA bf16 results
// can be compared. Each op widens its BF16 operands into per-thread fp32 scratch (reused across
// calls), runs the fp32 kernel of kernels.h, and rounds each BF16 result once at the end
// (elementwise ops do the same per element, and the embedding gather copies bf16 rows). The
// accum_dtype (F32) tensors of the contract in backend.h — parameter gradients, rstd, losses, rope
// tables, AdamW's grad and moments, the attention probabilities — are read and accumulated in
// place in fp32, never rounded to bf16. Shapes and dtypes are checked by CpuBackend before these
// are called.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace nlm::tensor::cpu::bf16 {

void add(Tensor& a, const Tensor& b);
void scale(Tensor& x, double s);
void mul(Tensor& a, const Tensor& b);
double sum(const Tensor& x);
double sum_squares(const Tensor& x);

void embedding_forward(Tensor& out, const int32_t* ids, const Tensor& table, int N, int C);
void embedding_backward(float* dtable, const Tensor& dout, const int32_t* ids, int N, int C);

void matmul_forward(Tensor& out, const Tensor& inp, const Tensor& weight, const Tensor* bias,
                    int N, int C, int OC);
void matmul_backward(Tensor* dinp, float* dweight, float* dbias, const Tensor& dout,
                     const Tensor& inp, const Tensor& weight, int N, int C, int OC,
                     bool accumulate_dinp);

void rmsnorm_forward(Tensor& out, float* rstd, const Tensor& inp, const Tensor& weight, int N,
                     int C, float eps);
void rmsnorm_backward(Tensor& dinp, float* dweight, const Tensor& dout, const Tensor& inp,
                      const Tensor& weight, const float* rstd, int N, int C);

void rope_rotate(Tensor& x, const int32_t* pos, const float* cos, const float* sin, int N, int H,
                 int D, int sign);

// att [B,NH,T,T] fp32: the probabilities, kept by the backend's attention state.
void attention_forward(Tensor& out, float* att, const Tensor& q, const Tensor& k, const Tensor& v,
                       const int32_t* docs, int B, int T, int NH, int NKV, int hs);
void attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const float* att,
                        const Tensor& q, const Tensor& k, const Tensor& v, int B, int T, int NH,
                        int NKV, int hs);
// Widens only the cache rows 0 .. past+Tq−1 that attention reads.
void attention_cached(Tensor& out, const Tensor& q, const Tensor& kcache, const Tensor& vcache,
                      int past, int Tq, int NH, int NKV, int hs);

void swiglu_forward(Tensor& out, const Tensor& gate, const Tensor& up);
void swiglu_backward(Tensor& dgate, Tensor& dup, const Tensor& dout, const Tensor& gate,
                     const Tensor& up);

void cross_entropy_forward(float* losses, const Tensor& logits, const int32_t* targets, int N,
                           int V);
// dlogits may be the same tensor as logits.
void cross_entropy_backward(Tensor& dlogits, const Tensor& logits, const int32_t* targets, int N,
                            int V, float scale);

// A BF16 parameter without master weights: updated in fp32 from fp32 grad and moments, rounded
// once. (Training keeps fp32 master weights and updates those with the F32 op instead.)
void adamw_update(Tensor& param, const float* grad, float* m, float* v, double lr, double beta1,
                  double beta2, double eps, double weight_decay, int64_t t);

}  // namespace nlm::tensor::cpu::bf16
