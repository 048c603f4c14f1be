// Dense CPU kernels: matmul through OpenBLAS, embedding, RMSNorm, RoPE, SwiGLU and elementwise
// helpers, parallel over rows with OpenMP. Shapes in llm.c names (see kernels.h).
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "tensor/cpu/kernels.h"

namespace nlm::tensor::cpu {

template <class T>
void gemm(bool trans_a, bool trans_b, int M, int N, int K, T alpha, const T* A, int lda,
          const T* B, int ldb, T beta, T* C, int ldc) {
  auto ta = trans_a ? CblasTrans : CblasNoTrans;
  auto tb = trans_b ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else
    cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

namespace {
// Splits [0, n) into one contiguous block per OpenMP thread (multiples of 16 rows), so each
// thread runs a single-threaded gemm on its block: OpenMP is the only thread pool, and OpenBLAS
// threads never compete with OpenMP threads for the cores. A block's result does not depend on
// how the rows were split, so outputs are the same for any thread count.
template <class F>
void for_row_blocks(int n, F body) {
  int threads = omp_get_max_threads();
  int per = ((n + threads - 1) / threads + 15) / 16 * 16;
  int blocks = per > 0 ? (n + per - 1) / per : 0;
  if (blocks <= 1) {
    if (n > 0) body(0, n);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int b = 0; b < blocks; ++b) body(b * per, std::min(n, (b + 1) * per));
}
}  // namespace

// out[N,OC] = inp[N,C] · W[OC,C]^T + b[OC]
template <class T>
void matmul_forward(T* out, const T* inp, const T* weight, const T* bias, int N, int C, int OC) {
  for_row_blocks(N, [&](int n0, int n1) {
    gemm<T>(false, true, n1 - n0, OC, C, T(1), inp + static_cast<int64_t>(n0) * C, C, weight, C, T(0),
            out + static_cast<int64_t>(n0) * OC, OC);
  });
  if (bias) {
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; ++n) {
      T* o = out + static_cast<int64_t>(n) * OC;
#pragma omp simd
      for (int j = 0; j < OC; ++j) o[j] += bias[j];
    }
  }
}

// With out = inp·W^T + b: ∂L/∂inp = dout·W, ∂L/∂W = dout^T·inp, ∂L/∂b = Σ_n dout[n].
template <class T>
void matmul_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight,
                     int N, int C, int OC, bool accumulate_dinp) {
  if (dinp)
    for_row_blocks(N, [&](int n0, int n1) {
      gemm<T>(false, false, n1 - n0, C, OC, T(1), dout + static_cast<int64_t>(n0) * OC, OC, weight, C,
              accumulate_dinp ? T(1) : T(0), dinp + static_cast<int64_t>(n0) * C, C);
    });
  // dW rows [o0, o1) need all N rows of dout and inp: split over output channels instead.
  if (dweight)
    for_row_blocks(OC, [&](int o0, int o1) {
      gemm<T>(true, false, o1 - o0, C, N, T(1), dout + o0, OC, inp, C, T(1),
              dweight + static_cast<int64_t>(o0) * C, C);
    });
  if (dbias) {
#pragma omp parallel for schedule(static)
    for (int j = 0; j < OC; ++j) {
      T s = 0;
      for (int n = 0; n < N; ++n) s += dout[static_cast<int64_t>(n) * OC + j];
      dbias[j] += s;
    }
  }
}

template <class T>
void embedding_forward(T* out, const int32_t* ids, const T* table, int N, int C) {
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; ++n)
    std::memcpy(out + static_cast<int64_t>(n) * C, table + static_cast<int64_t>(ids[n]) * C,
                sizeof(T) * C);
}

// Rows may repeat, so accumulate serially in token order (deterministic); C is vectorised.
template <class T>
void embedding_backward(T* dtable, const T* dout, const int32_t* ids, int N, int C) {
  for (int n = 0; n < N; ++n) {
    T* d = dtable + static_cast<int64_t>(ids[n]) * C;
    const T* g = dout + static_cast<int64_t>(n) * C;
#pragma omp simd
    for (int c = 0; c < C; ++c) d[c] += g[c];
  }
}

// y = x·r·w, r = (Σx²/C + eps)^(-1/2)
template <class T>
void rmsnorm_forward(T* out, T* rstd, const T* inp, const T* weight, int N, int C, T eps) {
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; ++n) {
    const T* x = inp + static_cast<int64_t>(n) * C;
    T* y = out + static_cast<int64_t>(n) * C;
    T ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int c = 0; c < C; ++c) ss += x[c] * x[c];
    T r = T(1) / std::sqrt(ss / C + eps);
    rstd[n] = r;
#pragma omp simd
    for (int c = 0; c < C; ++c) y[c] = x[c] * r * weight[c];
  }
}

// With x̂ = x·r and y = x̂·w:
//   ∂L/∂w_c += Σ_n dy_nc · x̂_nc
//   ∂L/∂x̂   = dy·w
//   ∂r/∂x_j = −r³·x_j/C, so ∂L/∂x_j = r·dx̂_j − r³·x_j/C · Σ_i dx̂_i·x_i
//                                  = r·(dx̂_j − x̂_j · mean_i(dx̂_i·x̂_i)).
// dweight is reduced over rows in a fixed order (parallel over channels) for determinism.
template <class T>
void rmsnorm_backward(T* dinp, T* dweight, const T* dout, const T* inp, const T* weight,
                      const T* rstd, int N, int C) {
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; ++n) {
    const T* x = inp + static_cast<int64_t>(n) * C;
    const T* dy = dout + static_cast<int64_t>(n) * C;
    T* dx = dinp + static_cast<int64_t>(n) * C;
    T r = rstd[n];
    T dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int c = 0; c < C; ++c) dot += dy[c] * weight[c] * x[c] * r;
    T mean = dot / C;
#pragma omp simd
    for (int c = 0; c < C; ++c) dx[c] += r * (dy[c] * weight[c] - x[c] * r * mean);
  }
  constexpr int kBlock = 64;
  int blocks = (C + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < blocks; ++b) {
    int c0 = b * kBlock, c1 = std::min(C, c0 + kBlock);
    T acc[kBlock] = {};
    for (int n = 0; n < N; ++n) {
      const T* x = inp + static_cast<int64_t>(n) * C;
      const T* dy = dout + static_cast<int64_t>(n) * C;
      T r = rstd[n];
      for (int c = c0; c < c1; ++c) acc[c - c0] += dy[c] * x[c] * r;
    }
    for (int c = c0; c < c1; ++c) dweight[c] += acc[c - c0];
  }
}

// rotate_half: (a, b) = (x_i, x_{i+D/2}) → (a·cos − b·sin, b·cos + a·sin); sign −1 uses −θ.
template <class T>
void rope_rotate(T* x, const int32_t* pos, const T* cos, const T* sin, int N, int H, int D,
                 int sign) {
  int half = D / 2;
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; ++n) {
    const T* cs = cos + static_cast<int64_t>(pos[n]) * half;
    const T* sn = sin + static_cast<int64_t>(pos[n]) * half;
    for (int h = 0; h < H; ++h) {
      T* row = x + (static_cast<int64_t>(n) * H + h) * D;
#pragma omp simd
      for (int i = 0; i < half; ++i) {
        T a = row[i], b = row[i + half], s = sign * sn[i];
        row[i] = a * cs[i] - b * s;
        row[i + half] = b * cs[i] + a * s;
      }
    }
  }
}

// y = g·σ(g)·u
template <class T>
void swiglu_forward(T* out, const T* gate, const T* up, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    T g = gate[i];
    out[i] = g / (T(1) + std::exp(-g)) * up[i];
  }
}

// ∂y/∂u = g·σ(g); ∂y/∂g = u·(σ(g) + g·σ(g)·(1 − σ(g))).
template <class T>
void swiglu_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    T g = gate[i];
    T s = T(1) / (T(1) + std::exp(-g));
    dup[i] = dout[i] * g * s;
    dgate[i] = dout[i] * up[i] * (s + g * s * (T(1) - s));
  }
}

namespace {
constexpr int64_t kReduceBlocks = 256;
template <class T, class F>
double blocked_sum(const T* x, int64_t n, F f) {
  double part[kReduceBlocks];
  int64_t per = (n + kReduceBlocks - 1) / kReduceBlocks;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < kReduceBlocks; ++b) {
    double s = 0;
    int64_t i1 = std::min(n, (b + 1) * per);
    for (int64_t i = b * per; i < i1; ++i) s += f(static_cast<double>(x[i]));
    part[b] = s;
  }
  double total = 0;
  for (double p : part) total += p;
  return total;
}
}  // namespace

template <class T>
double sum(const T* x, int64_t n) {
  return blocked_sum(x, n, [](double v) { return v; });
}
template <class T>
double sum_squares(const T* x, int64_t n) {
  return blocked_sum(x, n, [](double v) { return v * v; });
}
template <class T>
void add(T* a, const T* b, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) a[i] += b[i];
}
template <class T>
void scale(T* x, int64_t n, T s) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}
template <class T>
void mul(T* a, const T* b, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) a[i] *= b[i];
}

#define NLM_INSTANTIATE(T)                                                                      \
  template void gemm<T>(bool, bool, int, int, int, T, const T*, int, const T*, int, T, T*, int); \
  template void matmul_forward<T>(T*, const T*, const T*, const T*, int, int, int);            \
  template void matmul_backward<T>(T*, T*, T*, const T*, const T*, const T*, int, int, int,   \
                                   bool);                                                      \
  template void embedding_forward<T>(T*, const int32_t*, const T*, int, int);                  \
  template void embedding_backward<T>(T*, const T*, const int32_t*, int, int);                 \
  template void rmsnorm_forward<T>(T*, T*, const T*, const T*, int, int, T);                   \
  template void rmsnorm_backward<T>(T*, T*, const T*, const T*, const T*, const T*, int, int); \
  template void rope_rotate<T>(T*, const int32_t*, const T*, const T*, int, int, int, int);    \
  template void swiglu_forward<T>(T*, const T*, const T*, int64_t);                            \
  template void swiglu_backward<T>(T*, T*, const T*, const T*, const T*, int64_t);             \
  template double sum<T>(const T*, int64_t);                                                   \
  template double sum_squares<T>(const T*, int64_t);                                           \
  template void add<T>(T*, const T*, int64_t);                                                 \
  template void scale<T>(T*, int64_t, T);                                                     \
  template void mul<T>(T*, const T*, int64_t);
NLM_INSTANTIATE(float)
NLM_INSTANTIATE(double)
#undef NLM_INSTANTIATE

}  // namespace nlm::tensor::cpu
