// CPU causal grouped-query attention with document masking, forward and backward, plus the
// KV-cache decode path. Two versions: the fast one (attention_forward/backward) does the T×T
// products with OpenBLAS per (batch, head); the loop version (llm.c style, one query row at a
// time, one task per (batch, kv head) in backward so dk/dv accumulate without races) only visits
// the causal half and is kept as a second implementation the tests compare against.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "tensor/cpu/kernels.h"

namespace nlm::tensor::cpu {

namespace {
template <class T>
inline T dot(const T* a, const T* b, int n) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}
template <class T>
inline void axpy(T* y, T a, const T* x, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] += a * x[i];
}
}  // namespace

// q [B,T,NH,hs]; k, v [B,T,NKV,hs]; att [B,NH,T,T]; out [B,T,NH,hs].
// s_tt' = q_t·k_t' / √hs for allowed t' (t' ≤ t, same document), att = softmax(s), out_t = Σ att·v.
template <class T>
void attention_forward_loops(T* out, T* att, const T* q, const T* k, const T* v, const int32_t* docs,
                             int B, int T_, int NH, int NKV, int hs) {
  const T scale = T(1) / std::sqrt(T(hs));
  const int group = NH / NKV;
  const int64_t qs = static_cast<int64_t>(NH) * hs, ks = static_cast<int64_t>(NKV) * hs;
#pragma omp parallel for collapse(3) schedule(dynamic, 8)
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < NH; ++h)
      for (int t = 0; t < T_; ++t) {
        const int kvh = h / group;
        const T* qt = q + (static_cast<int64_t>(b) * T_ + t) * qs + static_cast<int64_t>(h) * hs;
        T* a = att + ((static_cast<int64_t>(b) * NH + h) * T_ + t) * T_;
        const int32_t* d = docs ? docs + static_cast<int64_t>(b) * T_ : nullptr;
        T mx = -std::numeric_limits<T>::infinity();
        for (int t2 = 0; t2 <= t; ++t2) {
          if (d && d[t2] != d[t]) {
            a[t2] = -std::numeric_limits<T>::infinity();
            continue;
          }
          const T* kt = k + (static_cast<int64_t>(b) * T_ + t2) * ks + static_cast<int64_t>(kvh) * hs;
          a[t2] = dot(qt, kt, hs) * scale;
          mx = std::max(mx, a[t2]);
        }
        T total = 0;
        for (int t2 = 0; t2 <= t; ++t2) {
          T e = (a[t2] == -std::numeric_limits<T>::infinity()) ? T(0) : std::exp(a[t2] - mx);
          a[t2] = e;
          total += e;
        }
        T inv = T(1) / total;  // t attends at least to itself, so total > 0
        for (int t2 = 0; t2 <= t; ++t2) a[t2] *= inv;
        for (int t2 = t + 1; t2 < T_; ++t2) a[t2] = 0;
        T* o = out + (static_cast<int64_t>(b) * T_ + t) * qs + static_cast<int64_t>(h) * hs;
        std::fill(o, o + hs, T(0));
        for (int t2 = 0; t2 <= t; ++t2) {
          if (a[t2] == T(0)) continue;
          const T* vt = v + (static_cast<int64_t>(b) * T_ + t2) * ks + static_cast<int64_t>(kvh) * hs;
          axpy(o, a[t2], vt, hs);
        }
      }
}

// Per query row t of head h (P = att row, s = pre-softmax scores):
//   ∂L/∂P_t'   = dout_t · v_t'                         (datt)
//   ∂L/∂v_t'  += P_t' · dout_t
//   ∂L/∂s_t'   = P_t' · (datt_t' − Σ_u P_u·datt_u)     (softmax Jacobian)
//   ∂L/∂q_t    = Σ_t' ds_t' · k_t' / √hs
//   ∂L/∂k_t'  += ds_t' · q_t / √hs
// Masked entries have P = 0 and so contribute nothing.
template <class T>
void attention_backward_loops(T* dq, T* dk, T* dv, const T* dout, const T* att, const T* q,
                              const T* k, const T* v, int B, int T_, int NH, int NKV, int hs) {
  const T scale = T(1) / std::sqrt(T(hs));
  const int group = NH / NKV;
  const int64_t qs = static_cast<int64_t>(NH) * hs, ks = static_cast<int64_t>(NKV) * hs;
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
  for (int b = 0; b < B; ++b)
    for (int kvh = 0; kvh < NKV; ++kvh) {
      std::vector<T> datt(T_);  // ∂L/∂P of one query row
      for (int t = 0; t < T_; ++t) {
        int64_t off = (static_cast<int64_t>(b) * T_ + t) * ks + static_cast<int64_t>(kvh) * hs;
        std::fill(dk + off, dk + off + hs, T(0));
        std::fill(dv + off, dv + off + hs, T(0));
      }
      for (int h = kvh * group; h < (kvh + 1) * group; ++h)
        for (int t = 0; t < T_; ++t) {
          int64_t qoff = (static_cast<int64_t>(b) * T_ + t) * qs + static_cast<int64_t>(h) * hs;
          const T* a = att + ((static_cast<int64_t>(b) * NH + h) * T_ + t) * T_;
          T* da = datt.data();
          const T* dot_ = dout + qoff;
          T weighted = 0;
          for (int t2 = 0; t2 <= t; ++t2) {
            if (a[t2] == T(0)) {
              da[t2] = 0;
              continue;
            }
            int64_t koff = (static_cast<int64_t>(b) * T_ + t2) * ks + static_cast<int64_t>(kvh) * hs;
            da[t2] = dot(dot_, v + koff, hs);
            axpy(dv + koff, a[t2], dot_, hs);
            weighted += a[t2] * da[t2];
          }
          T* dqt = dq + qoff;
          std::fill(dqt, dqt + hs, T(0));
          const T* qt = q + qoff;
          for (int t2 = 0; t2 <= t; ++t2) {
            if (a[t2] == T(0)) continue;
            T ds = a[t2] * (da[t2] - weighted) * scale;
            int64_t koff = (static_cast<int64_t>(b) * T_ + t2) * ks + static_cast<int64_t>(kvh) * hs;
            axpy(dqt, ds, k + koff, hs);
            axpy(dk + koff, ds, qt, hs);
          }
        }
    }
}


// The same computation with the T×T products done by single-threaded OpenBLAS gemms, one task
// per (batch, head) in forward and per (batch, kv head) in backward (so the heads of a group
// accumulate dk/dv in a fixed order without races). This
// computes the full T×T score matrix and masks it, twice the causal FLOPs, but at sgemm speed.
// Strided views: head h of q is a T×hs matrix with leading dimension NH·hs.
template <class T>
void attention_forward(T* out, T* att, const T* q, const T* k, const T* v, const int32_t* docs,
                       int B, int T_, int NH, int NKV, int hs) {
  const T scale = T(1) / std::sqrt(T(hs));
  const int group = NH / NKV;
  const int qs = NH * hs, ks = NKV * hs;
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < NH; ++h) {
      const int kvh = h / group;
      const T* qb = q + static_cast<int64_t>(b) * T_ * qs + h * hs;
      const T* kb = k + static_cast<int64_t>(b) * T_ * ks + kvh * hs;
      const T* vb = v + static_cast<int64_t>(b) * T_ * ks + kvh * hs;
      T* a = att + (static_cast<int64_t>(b) * NH + h) * T_ * T_;
      gemm<T>(false, true, T_, T_, hs, scale, qb, qs, kb, ks, T(0), a, T_);  // S = QKᵀ/√hs
      const int32_t* d = docs ? docs + static_cast<int64_t>(b) * T_ : nullptr;
      for (int t = 0; t < T_; ++t) {
        T* row = a + static_cast<int64_t>(t) * T_;
        T mx = -std::numeric_limits<T>::infinity();
        for (int u = 0; u <= t; ++u)
          if (!d || d[u] == d[t]) mx = std::max(mx, row[u]);
        T total = 0;
        for (int u = 0; u <= t; ++u) {
          T e = (!d || d[u] == d[t]) ? std::exp(row[u] - mx) : T(0);
          row[u] = e;
          total += e;
        }
        T inv = T(1) / total;
        for (int u = 0; u <= t; ++u) row[u] *= inv;
        std::fill(row + t + 1, row + T_, T(0));
      }
      T* ob = out + static_cast<int64_t>(b) * T_ * qs + h * hs;
      gemm<T>(false, false, T_, hs, T_, T(1), a, T_, vb, ks, T(0), ob, qs);  // O = PV
    }
}

// Per (batch, head), with P the saved probabilities (derivation as in the loop version):
//   dP = dO·Vᵀ; dV += Pᵀ·dO; dS = P ⊙ (dP − rowsum(P ⊙ dP)) / √hs; dQ = dS·K; dK += dSᵀ·Q.
// dP and dS live in one T×T scratch matrix per thread.
template <class T>
void attention_backward(T* dq, T* dk, T* dv, const T* dout, const T* att, const T* q, const T* k,
                        const T* v, int B, int T_, int NH, int NKV, int hs) {
  const T scale = T(1) / std::sqrt(T(hs));
  const int group = NH / NKV;
  const int qs = NH * hs, ks = NKV * hs;
#pragma omp parallel
  {
    std::vector<T> scratch(static_cast<size_t>(T_) * T_);
    T* da = scratch.data();
#pragma omp for collapse(2) schedule(dynamic, 1)
    for (int b = 0; b < B; ++b)
      for (int kvh = 0; kvh < NKV; ++kvh)
        for (int h = kvh * group; h < (kvh + 1) * group; ++h) {
          const int64_t qoff = static_cast<int64_t>(b) * T_ * qs + h * hs;
          const int64_t koff = static_cast<int64_t>(b) * T_ * ks + kvh * hs;
          const T* a = att + (static_cast<int64_t>(b) * NH + h) * T_ * T_;
          const bool first = h % group == 0;  // the first head of a group overwrites dk/dv
          gemm<T>(false, true, T_, T_, hs, T(1), dout + qoff, qs, v + koff, ks, T(0), da, T_);
          gemm<T>(true, false, T_, hs, T_, T(1), a, T_, dout + qoff, qs, first ? T(0) : T(1), dv + koff, ks);
          for (int t = 0; t < T_; ++t) {
            const T* p = a + static_cast<int64_t>(t) * T_;
            T* g = da + static_cast<int64_t>(t) * T_;
            T w = 0;
            for (int u = 0; u <= t; ++u) w += p[u] * g[u];
            for (int u = 0; u <= t; ++u) g[u] = p[u] * (g[u] - w) * scale;
            std::fill(g + t + 1, g + T_, T(0));
          }
          gemm<T>(false, false, T_, hs, T_, T(1), da, T_, k + koff, ks, T(0), dq + qoff, qs);
          gemm<T>(true, false, T_, hs, T_, T(1), da, T_, q + qoff, qs, first ? T(0) : T(1), dk + koff, ks);
        }
  }
}

// q [Tq,NH,hs] at positions past..past+Tq−1; caches [Tmax,NKV,hs]; out [Tq,NH,hs].
template <class T>
void attention_cached(T* out, const T* q, const T* kcache, const T* vcache, int past, int Tq,
                      int NH, int NKV, int hs) {
  const T scale = T(1) / std::sqrt(T(hs));
  const int group = NH / NKV;
  const int64_t qs = static_cast<int64_t>(NH) * hs, ks = static_cast<int64_t>(NKV) * hs;
#pragma omp parallel for collapse(2) schedule(static)
  for (int t = 0; t < Tq; ++t)
    for (int h = 0; h < NH; ++h) {
      const int kvh = h / group, len = past + t + 1;
      const T* qt = q + static_cast<int64_t>(t) * qs + static_cast<int64_t>(h) * hs;
      std::vector<T> s(len);
      T mx = -std::numeric_limits<T>::infinity();
      for (int j = 0; j < len; ++j) {
        s[j] = dot(qt, kcache + j * ks + static_cast<int64_t>(kvh) * hs, hs) * scale;
        mx = std::max(mx, s[j]);
      }
      T total = 0;
      for (int j = 0; j < len; ++j) total += (s[j] = std::exp(s[j] - mx));
      T* o = out + static_cast<int64_t>(t) * qs + static_cast<int64_t>(h) * hs;
      std::fill(o, o + hs, T(0));
      for (int j = 0; j < len; ++j)
        axpy(o, s[j] / total, vcache + j * ks + static_cast<int64_t>(kvh) * hs, hs);
    }
}

template void attention_forward_loops<float>(float*, float*, const float*, const float*, const float*,
                                             const int32_t*, int, int, int, int, int);
template void attention_forward_loops<double>(double*, double*, const double*, const double*,
                                              const double*, const int32_t*, int, int, int, int, int);
template void attention_backward_loops<float>(float*, float*, float*, const float*, const float*,
                                              const float*, const float*, const float*, int, int,
                                              int, int, int);
template void attention_backward_loops<double>(double*, double*, double*, const double*,
                                               const double*, const double*, const double*,
                                               const double*, int, int, int, int, int);
template void attention_forward<float>(float*, float*, const float*, const float*, const float*,
                                       const int32_t*, int, int, int, int, int);
template void attention_forward<double>(double*, double*, const double*, const double*,
                                        const double*, const int32_t*, int, int, int, int, int);
template void attention_backward<float>(float*, float*, float*, const float*, const float*,
                                        const float*, const float*, const float*, int, int, int,
                                        int, int);
template void attention_backward<double>(double*, double*, double*, const double*, const double*,
                                         const double*, const double*, const double*, int, int,
                                         int, int, int);
template void attention_cached<float>(float*, const float*, const float*, const float*, int, int,
                                      int, int, int);
template void attention_cached<double>(double*, const double*, const double*, const double*, int,
                                       int, int, int, int);

}  // namespace nlm::tensor::cpu
