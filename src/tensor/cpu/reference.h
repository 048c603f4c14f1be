// Plain reference versions of the CPU forward kernels: straight loops in double, no BLAS, no
// threads, no tricks, written from the textbook definitions. Tests compare the fast kernels
// against these; backward kernels are checked against finite differences in fp64 instead.
#pragma once
#include <cstdint>
#include <vector>

namespace nlm::tensor::reference {

using Vec = std::vector<double>;
using Ids = std::vector<int32_t>;

// out[N,OC] = inp[N,C]·W[OC,C]^T + bias (bias may be empty).
Vec matmul(const Vec& inp, const Vec& w, const Vec& bias, int N, int C, int OC);
// y = x / sqrt(mean(x²) + eps) · w, rows of C.
Vec rmsnorm(const Vec& x, const Vec& w, int N, int C, double eps);
// rotate_half RoPE on x[N,H,D] with θ_{n,i} = pos[n] · theta^(−2i/D).
Vec rope(const Vec& x, const Ids& pos, int N, int H, int D, double theta);
// Causal GQA attention with optional document ids (empty = one document per row).
Vec attention(const Vec& q, const Vec& k, const Vec& v, const Ids& docs, int B, int T, int NH,
              int NKV, int hs);
Vec swiglu(const Vec& gate, const Vec& up);
// Per-token loss; 0 where target < 0.
Vec cross_entropy(const Vec& logits, const Ids& targets, int N, int V);

}  // namespace nlm::tensor::reference
