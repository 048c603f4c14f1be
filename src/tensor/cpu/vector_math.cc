// exp on 16 lanes: n = round(x·log2 e), r = x − n·ln2 (in two parts, so r is exact enough),
// exp(r) from Cephes' expf polynomial, and 2^n applied with vscalefps (which also flushes
// results below the smallest float to zero). Inputs are clamped to [−104, 88.7] first.
#include "tensor/cpu/vector_math.h"

#include <algorithm>
#include <cmath>

#if defined(__AVX512F__)
#define NLM_VEC_EXP 1
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_* placeholders inside the min/max and reduction
// intrinsics as uninitialised (a false positive); nothing here reads an undefined lane.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#endif

namespace nlm::tensor::cpu {

float exp_shifted_sum_reference(float* x, int64_t n, float shift) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    sum += x[i];
  }
  return sum;
}

void swiglu_reference(float* h, const float* g, const float* u, int64_t n) {
  for (int64_t i = 0; i < n; ++i) h[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void attention_row_reference(const float* q, const float* K, const float* V, int64_t ld, int64_t hs, int n,
                             float scale, float* sc, float* out) {
  float mx = -INFINITY;
  for (int t = 0; t < n; ++t) {
    const float* k = K + t * ld;
    float s = 0;
    for (int64_t d = 0; d < hs; ++d) s += q[d] * k[d];
    sc[t] = s * scale;
    mx = std::max(mx, sc[t]);
  }
  const float inv = 1.0f / exp_shifted_sum_reference(sc, n, mx);
  std::fill(out, out + hs, 0.0f);
  for (int t = 0; t < n; ++t) {
    const float* v = V + t * ld;
    for (int64_t d = 0; d < hs; ++d) out[d] += sc[t] * v[d];
  }
  for (int64_t d = 0; d < hs; ++d) out[d] *= inv;
}

#if NLM_VEC_EXP
namespace {

__m512 exp16(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(88.7f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(y, n);
}

__mmask16 tail_mask(int64_t left) { return static_cast<__mmask16>(left >= 16 ? 0xFFFF : (1u << left) - 1u); }

}  // namespace

float exp_shifted_sum(float* x, int64_t n, float shift) {
  const __m512 s = _mm512_set1_ps(shift);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s));
    _mm512_mask_storeu_ps(x + i, m, e);
    acc = _mm512_add_ps(acc, _mm512_maskz_mov_ps(m, e));
  }
  return _mm512_reduce_add_ps(acc);
}

void swiglu(float* h, const float* g, const float* u, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 gv = _mm512_maskz_loadu_ps(m, g + i);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), gv));
    const __m512 v = _mm512_mul_ps(_mm512_div_ps(gv, _mm512_add_ps(one, e)), _mm512_maskz_loadu_ps(m, u + i));
    _mm512_mask_storeu_ps(h + i, m, v);
  }
}

namespace {

// q·K_t for every key, 16 columns at a time; two accumulators halve the add chain.
float scores16(const float* q, const float* K, int64_t ld, int64_t hs, int n, float scale, float* sc) {
  float mx = -INFINITY;
  for (int t = 0; t < n; ++t) {
    const float* k = K + t * ld;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    int64_t d = 0;
    for (; d + 32 <= hs; d += 32) {
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + d), _mm512_loadu_ps(k + d), a0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + d + 16), _mm512_loadu_ps(k + d + 16), a1);
    }
    if (d < hs) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + d), _mm512_loadu_ps(k + d), a0);
    sc[t] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1)) * scale;
    mx = std::max(mx, sc[t]);
  }
  return mx;
}

// Σ_t p_t·V_t with the B 16-column blocks of the output row held in registers.
template <int B>
void weighted_sum(const float* p, const float* V, int64_t ld, int n, float inv, float* out) {
  __m512 acc[B];
  for (int b = 0; b < B; ++b) acc[b] = _mm512_setzero_ps();
  for (int t = 0; t < n; ++t) {
    const __m512 pt = _mm512_set1_ps(p[t]);
    const float* v = V + t * ld;
    for (int b = 0; b < B; ++b) acc[b] = _mm512_fmadd_ps(pt, _mm512_loadu_ps(v + 16 * b), acc[b]);
  }
  const __m512 s = _mm512_set1_ps(inv);
  for (int b = 0; b < B; ++b) _mm512_storeu_ps(out + 16 * b, _mm512_mul_ps(acc[b], s));
}

}  // namespace

void attention_row(const float* q, const float* K, const float* V, int64_t ld, int64_t hs, int n, float scale,
                   float* sc, float* out) {
  if (hs % 16 != 0 || n < 1) {
    attention_row_reference(q, K, V, ld, hs, n, scale, sc, out);
    return;
  }
  const float mx = scores16(q, K, ld, hs, n, scale, sc);
  const float inv = 1.0f / exp_shifted_sum(sc, n, mx);
  switch (hs / 16) {
    case 2: weighted_sum<2>(sc, V, ld, n, inv, out); return;
    case 4: weighted_sum<4>(sc, V, ld, n, inv, out); return;
    case 6: weighted_sum<6>(sc, V, ld, n, inv, out); return;
    case 8: weighted_sum<8>(sc, V, ld, n, inv, out); return;
    default:
      for (int64_t c = 0; c < hs; c += 32) {  // other widths: 32 columns (or the last 16) at a time
        if (c + 32 <= hs)
          weighted_sum<2>(sc, V + c, ld, n, inv, out + c);
        else
          weighted_sum<1>(sc, V + c, ld, n, inv, out + c);
      }
  }
}
#else
void attention_row(const float* q, const float* K, const float* V, int64_t ld, int64_t hs, int n, float scale,
                   float* sc, float* out) {
  attention_row_reference(q, K, V, ld, hs, n, scale, sc, out);
}
float exp_shifted_sum(float* x, int64_t n, float shift) { return exp_shifted_sum_reference(x, n, shift); }
void swiglu(float* h, const float* g, const float* u, int64_t n) { swiglu_reference(h, g, u, n); }
#endif

}  // namespace nlm::tensor::cpu
