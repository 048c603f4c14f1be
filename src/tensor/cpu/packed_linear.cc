// Packing and the y = x·Wᵀ kernels for inference weights. The vector kernels keep one fp32
// accumulator per output row and walk four rows at once, so each load of x feeds four FMAs and
// a row's sum is formed the same way whichever block it falls in. The ISA is picked at compile
// time from the build's -march (the default build uses -march=native; a portable build gets the
// reference loops).
#include "tensor/cpu/packed_linear.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define NLM_PACKED_AVX512 1
// GCC 12 reports its own _mm512_undefined_* placeholders inside the widening and reduction
// intrinsics as maybe-uninitialized (a false positive); nothing here reads an undefined lane.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#elif defined(__AVX2__) && defined(__FMA__)
#define NLM_PACKED_AVX2 1
#include <immintrin.h>
#endif

#include "core/error.h"
#include "tensor/cpu/kernels.h"

namespace nlm::tensor::cpu {

namespace {

uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu)) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7FFFu + ((u >> 16) & 1u);  // round to nearest, ties to even
  return static_cast<uint16_t>(u >> 16);
}

float from_bf16(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace

WeightFormat parse_weight_format(const std::string& name, const std::string& where) {
  if (name == "f32" || name == "F32" || name == "float32") return WeightFormat::F32;
  if (name == "bf16" || name == "BF16" || name == "bfloat16") return WeightFormat::BF16;
  if (name == "int8" || name == "q8" || name == "Q8" || name == "INT8") return WeightFormat::Q8;
  usage_error("unknown weight format '" + name + "'", where, "use f32, bf16 or int8");
}

const char* weight_format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return "f32";
    case WeightFormat::BF16: return "bf16";
    case WeightFormat::Q8: return "int8";
  }
  return "?";
}

PackedMatrix PackedMatrix::pack(const float* w, int64_t rows, int64_t cols, WeightFormat format) {
  PackedMatrix p;
  p.format = format;
  p.rows = rows;
  p.cols = cols;
  const size_t n = static_cast<size_t>(rows * cols);
  switch (format) {
    case WeightFormat::F32:
      p.f32.assign(w, w + n);
      break;
    case WeightFormat::BF16:
      p.bf16.resize(n);
      for (size_t i = 0; i < n; ++i) p.bf16[i] = to_bf16(w[i]);
      break;
    case WeightFormat::Q8:
      p.q8.resize(n);
      p.scale.resize(static_cast<size_t>(rows));
      for (int64_t r = 0; r < rows; ++r) {
        const float* row = w + r * cols;
        float amax = 0;
        for (int64_t c = 0; c < cols; ++c) {
          if (!std::isfinite(row[c]))
            runtime_error("cannot quantise to int8: weight row " + std::to_string(r) + " holds a non-finite value",
                          "quantize");
          amax = std::max(amax, std::fabs(row[c]));
        }
        const float s = amax / 127.0f, inv = amax > 0 ? 127.0f / amax : 0.0f;
        p.scale[static_cast<size_t>(r)] = s;
        int8_t* q = p.q8.data() + r * cols;
        for (int64_t c = 0; c < cols; ++c)
          q[c] = static_cast<int8_t>(std::clamp(std::lrint(row[c] * inv), -127L, 127L));
      }
      {
        const int64_t blocks = (cols + kQ8Block - 1) / kQ8Block;
        p.block_sum.assign(static_cast<size_t>(rows * blocks), 0);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c)
            p.block_sum[static_cast<size_t>(r * blocks + c / kQ8Block)] += p.q8[static_cast<size_t>(r * cols + c)];
      }
      break;
  }
  return p;
}

size_t PackedMatrix::bytes() const {
  return f32.size() * 4 + bf16.size() * 2 + q8.size() + scale.size() * 4 + block_sum.size() * 4;
}

namespace {

// A row of x quantised for the int8 product: per 64-column block, scale = max|x|/127 and
// u = round(x/scale) + 128 as unsigned bytes (zero-padded to whole blocks), so that
// Σ u·w = Σ q·w + 128·Σ w, the weights' block sums undoing the offset.
struct QuantizedRow {
  std::vector<uint8_t> u;
  std::vector<float> scale;
  void set(const float* x, int64_t cols) {
    const int64_t blocks = (cols + kQ8Block - 1) / kQ8Block;
    u.assign(static_cast<size_t>(blocks * kQ8Block), 128);
    scale.assign(static_cast<size_t>(blocks), 0.0f);
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t c0 = b * kQ8Block, c1 = std::min(cols, c0 + kQ8Block);
      float amax = 0;
      for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(x[c]));
      if (!(amax > 0) || !std::isfinite(amax)) continue;  // zeros (or non-finite: garbage in, zeros out)
      const float inv = 127.0f / amax;
      scale[static_cast<size_t>(b)] = amax / 127.0f;
      for (int64_t c = c0; c < c1; ++c)
        u[static_cast<size_t>(c)] = static_cast<uint8_t>(std::clamp(std::lrint(x[c] * inv), -127L, 127L) + 128);
    }
  }
};

// Σ_b scale_b·(Σ_c u_c·w_c − 128·blocksum_b) for one row of W, in plain integers.
float q8_row_dot_plain(const int8_t* w, const int32_t* bsum, const QuantizedRow& x, int64_t cols) {
  const int64_t blocks = static_cast<int64_t>(x.scale.size());
  float s = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t c0 = b * kQ8Block, c1 = std::min(cols, c0 + kQ8Block);
    int32_t d = 0;
    for (int64_t c = c0; c < c1; ++c) d += int32_t(x.u[static_cast<size_t>(c)]) * w[c];
    s += x.scale[static_cast<size_t>(b)] * float(d - 128 * bsum[b]);
  }
  return s;
}

}  // namespace

void PackedMatrix::row(int64_t r, float* out) const {
  const size_t off = static_cast<size_t>(r * cols);
  switch (format) {
    case WeightFormat::F32:
      std::memcpy(out, f32.data() + off, static_cast<size_t>(cols) * 4);
      break;
    case WeightFormat::BF16:
      for (int64_t c = 0; c < cols; ++c) out[c] = from_bf16(bf16[off + c]);
      break;
    case WeightFormat::Q8: {
      const float s = scale[static_cast<size_t>(r)];
      for (int64_t c = 0; c < cols; ++c) out[c] = float(q8[off + c]) * s;
      break;
    }
  }
}

void packed_linear_reference(const PackedMatrix& w, const float* x, int M, int64_t ldx, float* y,
                             int64_t ldy, int64_t r0, int64_t r1) {
  if (w.format == WeightFormat::Q8) {
    const int64_t blocks = (w.cols + kQ8Block - 1) / kQ8Block;
    QuantizedRow q;
    for (int m = 0; m < M; ++m) {
      q.set(x + m * ldx, w.cols);
      for (int64_t r = r0; r < r1; ++r)
        y[m * ldy + r] = w.scale[static_cast<size_t>(r)] *
                         q8_row_dot_plain(w.q8.data() + r * w.cols, w.block_sum.data() + r * blocks, q, w.cols);
    }
    return;
  }
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = r0; r < r1; ++r) {
    w.row(r, row.data());
    for (int m = 0; m < M; ++m) {
      const float* xm = x + m * ldx;
      double s = 0;
      for (int64_t c = 0; c < w.cols; ++c) s += double(row[c]) * xm[c];
      y[m * ldy + r] = static_cast<float>(s);
    }
  }
}

namespace {

#if NLM_PACKED_AVX512
// Loads 16 weights of row r from column c as fp32 (all, or the lanes in `mask`).
struct F32Load {
  const float* w;
  int64_t cols;
  __m512 operator()(int64_t r, int64_t c) const { return _mm512_loadu_ps(w + r * cols + c); }
  __m512 operator()(int64_t r, int64_t c, __mmask16 m) const { return _mm512_maskz_loadu_ps(m, w + r * cols + c); }
};
struct Bf16Load {
  const uint16_t* w;
  int64_t cols;
  static __m512 widen(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
  __m512 operator()(int64_t r, int64_t c) const {
    return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + r * cols + c)));
  }
  __m512 operator()(int64_t r, int64_t c, __mmask16 m) const { return widen(_mm256_maskz_loadu_epi16(m, w + r * cols + c)); }
};

template <int R, class Load>
void rows_block(const Load& ld, const float* x, int M, int64_t ldx, float* y, int64_t ldy, int64_t r,
                int64_t cols, const float* scale) {
  const int64_t full = cols / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (cols - full)) - 1u);
  for (int m = 0; m < M; ++m) {
    const float* xm = x + m * ldx;
    __m512 acc[R];
    for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
    for (int64_t c = 0; c < full; c += 16) {
      const __m512 xv = _mm512_loadu_ps(xm + c);
      for (int i = 0; i < R; ++i) acc[i] = _mm512_fmadd_ps(ld(r + i, c), xv, acc[i]);
    }
    if (tail) {
      const __m512 xv = _mm512_maskz_loadu_ps(tail, xm + full);
      for (int i = 0; i < R; ++i) acc[i] = _mm512_fmadd_ps(ld(r + i, full, tail), xv, acc[i]);
    }
    for (int i = 0; i < R; ++i) {
      float s = _mm512_reduce_add_ps(acc[i]);
      y[m * ldy + r + i] = scale ? s * scale[r + i] : s;
    }
  }
}
#elif NLM_PACKED_AVX2
struct F32Load {
  const float* w;
  int64_t cols;
  __m256 operator()(int64_t r, int64_t c) const { return _mm256_loadu_ps(w + r * cols + c); }
  float at(int64_t r, int64_t c) const { return w[r * cols + c]; }
};
struct Bf16Load {
  const uint16_t* w;
  int64_t cols;
  __m256 operator()(int64_t r, int64_t c) const {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + r * cols + c));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  float at(int64_t r, int64_t c) const { return from_bf16(w[r * cols + c]); }
};

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

template <int R, class Load>
void rows_block(const Load& ld, const float* x, int M, int64_t ldx, float* y, int64_t ldy, int64_t r,
                int64_t cols, const float* scale) {
  const int64_t full = cols / 8 * 8;
  for (int m = 0; m < M; ++m) {
    const float* xm = x + m * ldx;
    __m256 acc[R];
    for (int i = 0; i < R; ++i) acc[i] = _mm256_setzero_ps();
    for (int64_t c = 0; c < full; c += 8) {
      const __m256 xv = _mm256_loadu_ps(xm + c);
      for (int i = 0; i < R; ++i) acc[i] = _mm256_fmadd_ps(ld(r + i, c), xv, acc[i]);
    }
    for (int i = 0; i < R; ++i) {
      float s = hsum(acc[i]);
      for (int64_t c = full; c < cols; ++c) s += ld.at(r + i, c) * xm[c];
      y[m * ldy + r + i] = scale ? s * scale[r + i] : s;
    }
  }
}
#endif

#if NLM_PACKED_AVX512 && defined(__AVX512VNNI__)
#define NLM_PACKED_VNNI 1
// Four rows of W against one quantised row of x: per 64-column block, vpdpbusd sums u·w into
// 16 int32 lanes exactly; the lanes become fp32 scaled by the block's x scale.
template <int R>
void q8_rows_vnni(const PackedMatrix& w, const QuantizedRow& x, float* y, int64_t r) {
  const int64_t cols = w.cols, blocks = static_cast<int64_t>(x.scale.size());
  const int64_t full = cols / kQ8Block;
  const __mmask64 tail = cols % kQ8Block ? (~0ull >> (64 - cols % kQ8Block)) : 0;
  __m512 acc[R];
  for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const __m512i xv = _mm512_loadu_si512(x.u.data() + b * kQ8Block);
    const __m512 sx = _mm512_set1_ps(x.scale[static_cast<size_t>(b)]);
    for (int i = 0; i < R; ++i) {
      const int8_t* p = w.q8.data() + (r + i) * cols + b * kQ8Block;
      const __m512i wv = b < full ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8(tail, p);
      const __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), xv, wv);
      acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), sx, acc[i]);
    }
  }
  for (int i = 0; i < R; ++i) {
    const int32_t* bsum = w.block_sum.data() + (r + i) * blocks;
    float corr = 0;
    for (int64_t b = 0; b < blocks; ++b) corr += x.scale[static_cast<size_t>(b)] * float(128 * bsum[b]);
    y[i] = w.scale[static_cast<size_t>(r + i)] * (_mm512_reduce_add_ps(acc[i]) - corr);
  }
}
#endif

#if NLM_PACKED_AVX512 || NLM_PACKED_AVX2
template <class Load>
void rows_vector(const Load& ld, const float* x, int M, int64_t ldx, float* y, int64_t ldy, int64_t r0,
                 int64_t r1, int64_t cols, const float* scale) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) rows_block<4>(ld, x, M, ldx, y, ldy, r, cols, scale);
  for (; r < r1; ++r) rows_block<1>(ld, x, M, ldx, y, ldy, r, cols, scale);
}
#endif

}  // namespace

void packed_linear_rows(const PackedMatrix& w, const float* x, int M, int64_t ldx, float* y,
                        int64_t ldy, int64_t r0, int64_t r1) {
#if NLM_PACKED_AVX512 || NLM_PACKED_AVX2
  switch (w.format) {
    case WeightFormat::F32:
      rows_vector(F32Load{w.f32.data(), w.cols}, x, M, ldx, y, ldy, r0, r1, w.cols, nullptr);
      return;
    case WeightFormat::BF16:
      rows_vector(Bf16Load{w.bf16.data(), w.cols}, x, M, ldx, y, ldy, r0, r1, w.cols, nullptr);
      return;
    case WeightFormat::Q8:
      break;
  }
#endif
#if NLM_PACKED_VNNI
  thread_local QuantizedRow q;  // per thread, its buffers reused across calls (no allocation per token)
  for (int m = 0; m < M; ++m) {
    q.set(x + m * ldx, w.cols);
    float* ym = y + m * ldy;
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) q8_rows_vnni<4>(w, q, ym + r, r);
    for (; r < r1; ++r) q8_rows_vnni<1>(w, q, ym + r, r);
  }
#else
  packed_linear_reference(w, x, M, ldx, y, ldy, r0, r1);  // F32/BF16 without AVX, or int8 without VNNI
#endif
}

const char* packed_linear_isa() {
#if NLM_PACKED_VNNI
  return "avx512+vnni";
#elif NLM_PACKED_AVX512
  return "avx512";
#elif NLM_PACKED_AVX2
  return "avx2";
#else
  return "reference";
#endif
}

void packed_linear(const PackedMatrix& w, const float* x, int M, float* y, int threads, bool gemm_rows) {
  const int64_t rows = w.rows, cols = w.cols;
  // Blocks of whole 16-row groups, one per thread. A thread gets at least 64K multiply-adds
  // (several microseconds): below that, waking the team costs more than it saves.
  const int64_t groups = (rows + 15) / 16;
  const int64_t work = rows * cols * M;
  const int nt = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>({int64_t(threads), groups, work >> 16})));
  auto body = [&](int t) {
    const int64_t r0 = std::min(rows, groups * t / nt * 16), r1 = std::min(rows, groups * (t + 1) / nt * 16);
    if (r0 >= r1) return;
    if (!gemm_rows) {
      packed_linear_rows(w, x, M, cols, y, rows, r0, r1);
      return;
    }
    if (w.format == WeightFormat::F32) {
      gemm<float>(false, true, M, static_cast<int>(r1 - r0), static_cast<int>(cols), 1.0f, x,
                  static_cast<int>(cols), w.f32.data() + r0 * cols, static_cast<int>(cols), 0.0f, y + r0,
                  static_cast<int>(rows));
      return;
    }
    constexpr int64_t kBlock = 64;
    std::vector<float> buf(static_cast<size_t>(kBlock * cols));
    for (int64_t b = r0; b < r1; b += kBlock) {
      const int64_t n = std::min(kBlock, r1 - b);
      for (int64_t i = 0; i < n; ++i) w.row(b + i, buf.data() + i * cols);
      gemm<float>(false, true, M, static_cast<int>(n), static_cast<int>(cols), 1.0f, x, static_cast<int>(cols),
                  buf.data(), static_cast<int>(cols), 0.0f, y + b, static_cast<int>(rows));
    }
  };
  if (nt == 1) {
    body(0);
    return;
  }
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int t = 0; t < nt; ++t) body(t);
}

}  // namespace nlm::tensor::cpu
