// The CPU compute kernels behind CpuBackend, on raw host pointers, templated on the float type
// (float for training, double for the fp64 gradient-check path). Each states its shapes in
// llm.c names; backward kernels comment their derivation. Plain reference versions that tests
// compare these against live in cpu/reference.h.
#pragma once
#include <cstdint>

namespace nlm::tensor::cpu {

// C[M,N] = alpha · op(A) · op(B) + beta · C, row-major, through OpenBLAS (s/dgemm).
template <class T>
void gemm(bool trans_a, bool trans_b, int M, int N, int K, T alpha, const T* A, int lda,
          const T* B, int ldb, T beta, T* C, int ldc);

template <class T>
void matmul_forward(T* out, const T* inp, const T* weight, const T* bias, int N, int C, int OC);
template <class T>
void matmul_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight,
                     int N, int C, int OC, bool accumulate_dinp);

template <class T>
void embedding_forward(T* out, const int32_t* ids, const T* table, int N, int C);
template <class T>
void embedding_backward(T* dtable, const T* dout, const int32_t* ids, int N, int C);

template <class T>
void rmsnorm_forward(T* out, T* rstd, const T* inp, const T* weight, int N, int C, T eps);
template <class T>
void rmsnorm_backward(T* dinp, T* dweight, const T* dout, const T* inp, const T* weight,
                      const T* rstd, int N, int C);

// sign = +1 forward rotation, −1 the inverse (the backward pass).
template <class T>
void rope_rotate(T* x, const int32_t* pos, const T* cos, const T* sin, int N, int H, int D,
                 int sign);

template <class T>
void attention_forward(T* out, T* att, const T* q, const T* k, const T* v, const int32_t* docs,
                       int B, int T_, int NH, int NKV, int hs);
// att [B,NH,T,T] are the probabilities attention_forward wrote.
template <class T>
void attention_backward(T* dq, T* dk, T* dv, const T* dout, const T* att, const T* q, const T* k,
                        const T* v, int B, int T_, int NH, int NKV, int hs);
// Row-at-a-time loop versions of the two above (no BLAS), compared against in tests.
template <class T>
void attention_forward_loops(T* out, T* att, const T* q, const T* k, const T* v,
                             const int32_t* docs, int B, int T_, int NH, int NKV, int hs);
template <class T>
void attention_backward_loops(T* dq, T* dk, T* dv, const T* dout, const T* att, const T* q,
                              const T* k, const T* v, int B, int T_, int NH, int NKV, int hs);
template <class T>
void attention_cached(T* out, const T* q, const T* kcache, const T* vcache, int past, int Tq,
                      int NH, int NKV, int hs);

template <class T>
void swiglu_forward(T* out, const T* gate, const T* up, int64_t n);
template <class T>
void swiglu_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, int64_t n);

template <class T>
void cross_entropy_forward(T* losses, const T* logits, const int32_t* targets, int N, int V);
template <class T>
void cross_entropy_backward(T* dlogits, const T* logits, const int32_t* targets, int N, int V,
                            T scale);

template <class T>
void adamw_update(T* param, const T* grad, T* m, T* v, int64_t n, double lr, double beta1,
                  double beta2, double eps, double weight_decay, int64_t t);

// Deterministic reductions: fixed blocks summed in order, whatever the thread count.
template <class T>
double sum(const T* x, int64_t n);
template <class T>
double sum_squares(const T* x, int64_t n);
template <class T>
void add(T* a, const T* b, int64_t n);
template <class T>
void scale(T* x, int64_t n, T s);
template <class T>
void mul(T* a, const T* b, int64_t n);

}  // namespace nlm::tensor::cpu
