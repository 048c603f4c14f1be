// The int8 prefill product: activation rows quantised once, then 4×4 register tiles of
// (rows of x) × (rows of W) over 64-column blocks with vpdpbusd. Each block's 16 int32 lanes
// turn into fp32 scaled by x's block scale; the 16 accumulators of a tile are summed lane-wise
// in one transpose-and-add tree; the weights' block sums undo the +128 offset of u, and the
// weight row's scale applies last.
#include "tensor/cpu/q8_gemm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__)
#define NLM_Q8_GEMM 1
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_* placeholders inside the shuffle and reduction
// intrinsics as uninitialised (a false positive); nothing here reads an undefined lane.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#endif

#include "core/error.h"

namespace nlm::tensor::cpu {

namespace {

int64_t blocks_of(int64_t cols) { return (cols + kQ8Block - 1) / kQ8Block; }

}  // namespace

bool q8_gemm_available() {
#if NLM_Q8_GEMM
  return true;
#else
  return false;
#endif
}

void quantize_rows_q8_reference(const float* x, int M, int64_t ldx, int64_t cols, uint8_t* u, float* scale) {
  const int64_t blocks = blocks_of(cols);
  for (int m = 0; m < M; ++m) {
    const float* xm = x + m * ldx;
    uint8_t* um = u + m * blocks * kQ8Block;
    float* sm = scale + m * blocks;
    std::fill(um, um + blocks * kQ8Block, uint8_t(128));
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t c0 = b * kQ8Block, c1 = std::min(cols, c0 + kQ8Block);
      float amax = 0;
      for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(xm[c]));
      sm[b] = 0;
      if (!(amax > 0) || !std::isfinite(amax)) continue;  // zeros (or non-finite: garbage in, zeros out)
      const float inv = 127.0f / amax;
      sm[b] = amax / 127.0f;
      for (int64_t c = c0; c < c1; ++c)
        um[c] = static_cast<uint8_t>(std::clamp(std::lrint(xm[c] * inv), -127L, 127L) + 128);
    }
  }
}

void quantize_rows_q8(const float* x, int M, int64_t ldx, int64_t cols, uint8_t* u, float* scale) {
#if NLM_Q8_GEMM
  const int64_t blocks = blocks_of(cols);
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127), off = _mm512_set1_epi32(128);
  const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
  for (int m = 0; m < M; ++m) {
    const float* xm = x + m * ldx;
    uint8_t* um = u + m * blocks * kQ8Block;
    float* sm = scale + m * blocks;
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t c0 = b * kQ8Block, n = std::min<int64_t>(kQ8Block, cols - c0);
      __m512 v[4];
      __m512 amax = _mm512_setzero_ps();
      for (int k = 0; k < 4; ++k) {
        const int64_t left = std::clamp<int64_t>(n - 16 * k, 0, 16);
        const __mmask16 mk = static_cast<__mmask16>((1u << left) - 1u);
        v[k] = _mm512_maskz_loadu_ps(mk, xm + c0 + 16 * k);
        // max(|x|, amax) keeps amax where x is NaN, as std::max(amax, |x|) does in the reference.
        amax = _mm512_max_ps(_mm512_and_ps(v[k], absmask), amax);
      }
      const float a = _mm512_reduce_max_ps(amax);
      sm[b] = 0;
      if (!(a > 0) || !std::isfinite(a)) {
        std::fill(um + c0, um + c0 + kQ8Block, uint8_t(128));
        continue;
      }
      const __m512 inv = _mm512_set1_ps(127.0f / a);
      sm[b] = a / 127.0f;
      for (int k = 0; k < 4; ++k) {
        const int64_t left = std::clamp<int64_t>(n - 16 * k, 0, 16);
        const __mmask16 mk = static_cast<__mmask16>((1u << left) - 1u);
        __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(v[k], inv));  // round to nearest even, as lrint
        q = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, lo), hi), off);
        q = _mm512_mask_mov_epi32(off, mk, q);  // padding columns stay 128 (zero)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(um + c0 + 16 * k), _mm512_cvtepi32_epi8(q));
      }
    }
  }
#else
  quantize_rows_q8_reference(x, M, ldx, cols, u, scale);
#endif
}

void q8_gemm_rows_reference(const PackedMatrix& w, const uint8_t* u, const float* scale, int M, float* y,
                            int64_t ldy, int64_t r0, int64_t r1) {
  const int64_t cols = w.cols, blocks = blocks_of(cols);
  for (int m = 0; m < M; ++m)
    for (int64_t r = r0; r < r1; ++r) {
      const int8_t* wr = w.q8.data() + r * cols;
      double s = 0;
      for (int64_t b = 0; b < blocks; ++b) {
        int64_t d = 0;
        for (int64_t c = b * kQ8Block; c < std::min(cols, (b + 1) * kQ8Block); ++c)
          d += int64_t(u[m * blocks * kQ8Block + c]) * wr[c];
        d -= 128 * int64_t(w.block_sum[static_cast<size_t>(r * blocks + b)]);
        s += double(scale[m * blocks + b]) * double(d);
      }
      y[m * ldy + r] = static_cast<float>(s * w.scale[static_cast<size_t>(r)]);
    }
}

#if NLM_Q8_GEMM
namespace {

// v[i] = Σ lanes of a[i] for 16 vectors: pairs, then quads, then 128-bit lanes add up.
__m512 hsum16(const __m512* a) {
  __m512 t[8], q[4];
#pragma GCC unroll 16
  for (int k = 0; k < 8; ++k)  // per 128-bit lane: [A0+A2, B0+B2, A1+A3, B1+B3]
    t[k] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * k], a[2 * k + 1]), _mm512_unpackhi_ps(a[2 * k], a[2 * k + 1]));
#pragma GCC unroll 16
  for (int k = 0; k < 4; ++k)  // per 128-bit lane: [A, B, C, D] of a[4k..4k+3]
    q[k] = _mm512_add_ps(_mm512_shuffle_ps(t[2 * k], t[2 * k + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(t[2 * k], t[2 * k + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512 x01 = _mm512_add_ps(_mm512_shuffle_f32x4(q[0], q[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm512_shuffle_f32x4(q[0], q[1], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512 x23 = _mm512_add_ps(_mm512_shuffle_f32x4(q[2], q[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm512_shuffle_f32x4(q[2], q[3], _MM_SHUFFLE(3, 2, 3, 2)));
  return _mm512_add_ps(_mm512_shuffle_f32x4(x01, x23, _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_f32x4(x01, x23, _MM_SHUFFLE(3, 1, 3, 1)));
}

// out[i·RN + j] = Σ_b sx[i, b] · (Σ_c u[i, c]·w[j, c] over block b), for RM rows of u and RN
// rows of w (the +128 offset not yet undone).
template <int RM, int RN>
void tile(const int8_t* w, int64_t cols, const uint8_t* u, const float* sx, int64_t blocks, float* out) {
  const int64_t full = cols / kQ8Block, ub = blocks * kQ8Block;
  const __mmask64 tail = cols % kQ8Block ? (~0ull >> (64 - cols % kQ8Block)) : ~0ull;
  const __m512i zero = _mm512_setzero_si512();
  __m512 acc[RM * RN];
#pragma GCC unroll 16
  for (int k = 0; k < RM * RN; ++k) acc[k] = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const __mmask64 mk = b < full ? ~0ull : tail;
    __m512i wv[RN];
#pragma GCC unroll 16
    for (int j = 0; j < RN; ++j) wv[j] = _mm512_maskz_loadu_epi8(mk, w + j * cols + b * kQ8Block);
#pragma GCC unroll 16
    for (int i = 0; i < RM; ++i) {
      const __m512i xv = _mm512_loadu_si512(u + i * ub + b * kQ8Block);
      const __m512 s = _mm512_set1_ps(sx[i * blocks + b]);
#pragma GCC unroll 16
      for (int j = 0; j < RN; ++j)
        acc[i * RN + j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(zero, xv, wv[j])), s, acc[i * RN + j]);
    }
  }
  if constexpr (RM * RN == 16) {
    _mm512_storeu_ps(out, hsum16(acc));
  } else {
#pragma GCC unroll 16
    for (int k = 0; k < RM * RN; ++k) out[k] = _mm512_reduce_add_ps(acc[k]);
  }
}

using TileFn = void (*)(const int8_t*, int64_t, const uint8_t*, const float*, int64_t, float*);

template <int RM>
TileFn tile_for(int rn) {
  switch (rn) {
    case 1: return tile<RM, 1>;
    case 2: return tile<RM, 2>;
    case 3: return tile<RM, 3>;
    default: return tile<RM, 4>;
  }
}

TileFn tile_for(int rm, int rn) {
  switch (rm) {
    case 1: return tile_for<1>(rn);
    case 2: return tile_for<2>(rn);
    case 3: return tile_for<3>(rn);
    default: return tile_for<4>(rn);
  }
}

}  // namespace
#endif

void q8_gemm_rows(const PackedMatrix& w, const uint8_t* u, const float* scale, int M, float* y, int64_t ldy,
                  int64_t r0, int64_t r1) {
  if (w.format != WeightFormat::Q8) runtime_error("internal: the int8 prefill product on a non-int8 matrix", "packed_linear");
#if NLM_Q8_GEMM
  const int64_t cols = w.cols, blocks = blocks_of(cols), ub = blocks * kQ8Block;
  // Per 4-row strip of W, its block sums times 128 as fp32, block-major: the offset correction
  // of a tile row is then one 4-wide multiply-add per block.
  std::vector<float> cb(static_cast<size_t>(blocks * 4));
  alignas(64) float out[16];
  for (int64_t r = r0; r < r1; r += 4) {
    const int rn = static_cast<int>(std::min<int64_t>(4, r1 - r));
    std::fill(cb.begin(), cb.end(), 0.0f);
    for (int j = 0; j < rn; ++j)
      for (int64_t b = 0; b < blocks; ++b)
        cb[static_cast<size_t>(b * 4 + j)] = 128.0f * float(w.block_sum[static_cast<size_t>((r + j) * blocks + b)]);
    float ws[4] = {0, 0, 0, 0};
    for (int j = 0; j < rn; ++j) ws[j] = w.scale[static_cast<size_t>(r + j)];
    const __m128 wsv = _mm_loadu_ps(ws);
    const int8_t* wr = w.q8.data() + r * cols;
    for (int m = 0; m < M; m += 4) {
      const int rm = std::min(4, M - m);
      tile_for(rm, rn)(wr, cols, u + m * ub, scale + m * blocks, blocks, out);
      for (int i = 0; i < rm; ++i) {
        const float* sx = scale + (m + i) * blocks;
        __m128 corr = _mm_setzero_ps();
        for (int64_t b = 0; b < blocks; ++b) corr = _mm_fmadd_ps(_mm_set1_ps(sx[b]), _mm_loadu_ps(&cb[static_cast<size_t>(b * 4)]), corr);
        float dot[4] = {0, 0, 0, 0};
        for (int j = 0; j < rn; ++j) dot[j] = out[i * rn + j];
        alignas(16) float res[4];
        _mm_store_ps(res, _mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(dot), corr), wsv));
        float* yr = y + (m + i) * ldy + r;
        if (rn == 4) {
          _mm_storeu_ps(yr, _mm_load_ps(res));
        } else {
          for (int j = 0; j < rn; ++j) yr[j] = res[j];
        }
      }
    }
  }
#else
  q8_gemm_rows_reference(w, u, scale, M, y, ldy, r0, r1);
#endif
}

}  // namespace nlm::tensor::cpu
