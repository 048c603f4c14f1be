// Vectorised row loops of the inference engine: exp (the softmax of prompt attention, SwiGLU)
// and one query row's attention over a KV cache (decode). glibc's expf is called one value at a
// time, which over a 512-token prompt costs as much as a sizeable share of the matrix products;
// and a decode step's attention written as plain loops (a horizontal sum through the stack for
// every key, expf per key) took 10 % of a 10M model's token. The AVX-512 exp reduces x to
// n·ln2 + r and evaluates a degree-6 polynomial (Cephes' expf), within a few ulp of std::exp;
// the plain version calls std::exp.
#pragma once
#include <cstdint>

namespace nlm::tensor::cpu {

// x[i] = exp(x[i] − shift) for i < n; returns their sum (accumulated in fp32).
float exp_shifted_sum(float* x, int64_t n, float shift);
// h[i] = g[i] · sigmoid(g[i]) · u[i] (SwiGLU).
void swiglu(float* h, const float* g, const float* u, int64_t n);
// out[0, hs) = Σ_{t<n} p_t · V_t with p = softmax(scale · q·K_t): one query row of one head over
// n cached keys, K_t = K + t·ld and V_t = V + t·ld. sc is scratch for n scores.
void attention_row(const float* q, const float* K, const float* V, int64_t ld, int64_t hs, int n, float scale,
                   float* sc, float* out);
// The same with std::exp and plain loops (what the tests hold the vector versions to).
float exp_shifted_sum_reference(float* x, int64_t n, float shift);
void swiglu_reference(float* h, const float* g, const float* u, int64_t n);
void attention_row_reference(const float* q, const float* K, const float* V, int64_t ld, int64_t hs, int n,
                             float scale, float* sc, float* out);

}  // namespace nlm::tensor::cpu
