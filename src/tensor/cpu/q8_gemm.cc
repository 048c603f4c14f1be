// The int8 prefill product: activation rows quantised once, then register tiles of 4 rows of x
// × 32 rows of W. A thread first regroups its rows of W so that one vector holds 4 bytes of 16
// rows; each step broadcasts 4 bytes of a row of x against it (vpdpbusd), so every int32 lane
// is one output's exact block sum and no horizontal adds are needed. Per 64-column block the
// lanes turn into fp32 scaled by x's block scale; the weight row's scale applies last.
#include "tensor/cpu/q8_gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
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

constexpr int64_t kGroup = 16;                 // rows of W per vector (one int32 lane each)
constexpr int64_t kTileBytes = kGroup * kQ8Block;  // one group's 64-column block: 16 steps × 16 rows × 4 bytes

// A thread's rows of W regrouped for the kernel: per group of 16 rows and 64-column block, 16
// steps of 4 columns, each step holding 4 bytes of every row (a row's lane), zero past the
// matrix; and per group and block, −128 × each row's block sum (the int32 accumulators start
// there, which undoes u's +128 offset exactly).
struct Regrouped {
  std::vector<int8_t> w;
  std::vector<int32_t> bias;
  void set(const PackedMatrix& m, int64_t r0, int64_t r1) {
    const int64_t cols = m.cols, blocks = blocks_of(cols), groups = (r1 - r0 + kGroup - 1) / kGroup;
    w.assign(static_cast<size_t>(groups * blocks * kTileBytes), 0);
    bias.assign(static_cast<size_t>(groups * blocks * kGroup), 0);
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t g = (r - r0) / kGroup, lane = (r - r0) % kGroup;
      const int8_t* src = m.q8.data() + r * cols;
      for (int64_t b = 0; b < blocks; ++b) {
        bias[static_cast<size_t>((g * blocks + b) * kGroup + lane)] = -128 * m.block_sum[static_cast<size_t>(r * blocks + b)];
        int8_t* dst = w.data() + (g * blocks + b) * kTileBytes + lane * 4;
        for (int64_t k = 0; k < kQ8Block / 4; ++k) {
          const int64_t c = b * kQ8Block + k * 4;
          if (c >= cols) break;
          std::memcpy(dst + k * kTileBytes / 16, src + c, static_cast<size_t>(std::min<int64_t>(4, cols - c)));
        }
      }
    }
  }
};

// acc[i·RN + j] (16 lanes: rows of group j) = Σ_b sx[i, b] · (bias + Σ_c u[i, c]·w[row, c] over
// block b), for RM rows of u and RN groups of W. Each step broadcasts 4 bytes of a row of u
// against 4 bytes of 16 rows of W (vpdpbusd), so no horizontal sums are needed.
template <int RM, int RN>
void tile(const int8_t* w, const int32_t* bias, int64_t blocks, const uint8_t* u, int64_t ub, const float* sx,
          __m512* out) {
  __m512 facc[RM * RN];
#pragma GCC unroll 16
  for (int k = 0; k < RM * RN; ++k) facc[k] = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    __m512i iacc[RM * RN];
#pragma GCC unroll 16
    for (int j = 0; j < RN; ++j) {
      const __m512i bj = _mm512_loadu_si512(bias + (j * blocks + b) * kGroup);
#pragma GCC unroll 16
      for (int i = 0; i < RM; ++i) iacc[i * RN + j] = bj;
    }
#pragma GCC unroll 16
    for (int k = 0; k < kQ8Block / 4; ++k) {
      __m512i wv[RN];
#pragma GCC unroll 16
      for (int j = 0; j < RN; ++j) wv[j] = _mm512_loadu_si512(w + (j * blocks + b) * kTileBytes + k * kTileBytes / 16);
#pragma GCC unroll 16
      for (int i = 0; i < RM; ++i) {
        int32_t x4;
        std::memcpy(&x4, u + i * ub + b * kQ8Block + k * 4, 4);
        const __m512i xb = _mm512_set1_epi32(x4);
#pragma GCC unroll 16
        for (int j = 0; j < RN; ++j) iacc[i * RN + j] = _mm512_dpbusd_epi32(iacc[i * RN + j], xb, wv[j]);
      }
    }
#pragma GCC unroll 16
    for (int i = 0; i < RM; ++i) {
      const __m512 s = _mm512_set1_ps(sx[i * blocks + b]);
#pragma GCC unroll 16
      for (int j = 0; j < RN; ++j) facc[i * RN + j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[i * RN + j]), s, facc[i * RN + j]);
    }
  }
#pragma GCC unroll 16
  for (int k = 0; k < RM * RN; ++k) out[k] = facc[k];
}

using TileFn = void (*)(const int8_t*, const int32_t*, int64_t, const uint8_t*, int64_t, const float*, __m512*);

template <int RM>
TileFn tile_for(int rn) {
  return rn == 1 ? tile<RM, 1> : tile<RM, 2>;
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
  if (r0 >= r1 || M < 1) return;
  const int64_t blocks = blocks_of(w.cols), ub = blocks * kQ8Block, groups = (r1 - r0 + kGroup - 1) / kGroup;
  thread_local Regrouped rw;  // per thread, reused across calls (regrouping costs ~1/M of the product)
  rw.set(w, r0, r1);
  __m512 acc[8];
  for (int64_t g = 0; g < groups; g += 2) {
    const int rn = static_cast<int>(std::min<int64_t>(2, groups - g));
    const int8_t* wg = rw.w.data() + g * blocks * kTileBytes;
    const int32_t* bg = rw.bias.data() + g * blocks * kGroup;
    for (int m = 0; m < M; m += 4) {
      const int rm = std::min(4, M - m);
      tile_for(rm, rn)(wg, bg, blocks, u + m * ub, ub, scale + m * blocks, acc);
      for (int j = 0; j < rn; ++j) {
        const int64_t rs = r0 + (g + j) * kGroup, n = std::min<int64_t>(kGroup, r1 - rs);
        const __mmask16 mk = static_cast<__mmask16>((1u << n) - 1u);
        const __m512 ws = _mm512_maskz_loadu_ps(mk, w.scale.data() + rs);
        for (int i = 0; i < rm; ++i)
          _mm512_mask_storeu_ps(y + (m + i) * ldy + rs, mk, _mm512_mul_ps(acc[i * rn + j], ws));
      }
    }
  }
#else
  q8_gemm_rows_reference(w, u, scale, M, y, ldy, r0, r1);
#endif
}

}  // namespace nlm::tensor::cpu
