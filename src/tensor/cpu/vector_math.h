// Vectorised exp for the inference engine's row loops (the softmax of prompt attention, SwiGLU):
// glibc's expf is called one value at a time, which over a 512-token prompt costs as much as a
// sizeable share of the matrix products. The AVX-512 version reduces x to n·ln2 + r and
// evaluates a degree-6 polynomial (Cephes' expf), within a few ulp of std::exp; the plain
// version calls std::exp.
#pragma once
#include <cstdint>

namespace nlm::tensor::cpu {

// x[i] = exp(x[i] − shift) for i < n; returns their sum (accumulated in fp32).
float exp_shifted_sum(float* x, int64_t n, float shift);
// h[i] = g[i] · sigmoid(g[i]) · u[i] (SwiGLU).
void swiglu(float* h, const float* g, const float* u, int64_t n);
// The same with std::exp (what the tests hold the vector versions to).
float exp_shifted_sum_reference(float* x, int64_t n, float shift);
void swiglu_reference(float* h, const float* g, const float* u, int64_t n);

}  // namespace nlm::tensor::cpu
