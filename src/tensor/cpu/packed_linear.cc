// Packing and the y = x·Wᵀ kernels for inference weights. The vector kernels keep one fp32
// accumulator per output row and walk four rows at once, so each load of x feeds four FMAs and
// a row's sum is formed the same way whichever block it falls in. The ISA is picked at compile
// time from the build's -march (the default build uses -march=native; a portable build gets the
// reference loops). The loops over those rows are unrolled by pragma (-O2 does not), so the
// accumulators stay in registers instead of going through the stack on every multiply-add.
#include "tensor/cpu/packed_linear.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <omp.h>

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
#include "tensor/cpu/q8_gemm.h"
#include "tensor/dtype.h"
#include "tensor/quantize.h"

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
    case WeightFormat::Q4: return "int4";
    case WeightFormat::FP8: return "fp8";
  }
  return "?";
}

namespace {

// Per row and 64-column block, the sum of the row's integer weights there (the int8 kernels
// undo the activations' +128 offset with it).
std::vector<int32_t> block_sums(const int8_t* q, int64_t rows, int64_t cols) {
  const int64_t blocks = (cols + kQ8Block - 1) / kQ8Block;
  std::vector<int32_t> sums(static_cast<size_t>(rows * blocks), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) sums[static_cast<size_t>(r * blocks + c / kQ8Block)] += q[r * cols + c];
  return sums;
}

void check_scales(const float* s, size_t n, const char* what) {
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(s[i]) || s[i] < 0)
      runtime_error(std::string("a quantised matrix has a negative or non-finite ") + what + " scale", "quantized weights",
                    "the checkpoint is damaged; quantise the model again");
}

// An empty matrix of a format and shape, for the constructors to fill.
PackedMatrix shell(WeightFormat format, int64_t rows, int64_t cols) {
  PackedMatrix p;
  p.format = format;
  p.rows = rows;
  p.cols = cols;
  return p;
}

void check_group(int64_t group, int64_t cols, const char* where) {
  if (group <= 0 || group % kQ8Block || cols % group)
    runtime_error("int4 group of " + std::to_string(group) + " columns does not suit a row of " + std::to_string(cols) +
                      " (a multiple of 64 dividing the row is needed)",
                  where);
}

}  // namespace

PackedMatrix PackedMatrix::from_int8(const int8_t* q, const float* scale, int64_t rows, int64_t cols) {
  check_scales(scale, static_cast<size_t>(rows), "int8 row");
  PackedMatrix p = shell(WeightFormat::Q8, rows, cols);
  p.q8.assign(q, q + rows * cols);
  p.scale.assign(scale, scale + rows);
  p.block_sum = block_sums(q, rows, cols);
  return p;
}

PackedMatrix PackedMatrix::from_int4(const int8_t* q, const float* gscale, int64_t rows, int64_t cols, int64_t group) {
  check_group(group, cols, "quantized weights");
  check_scales(gscale, static_cast<size_t>(rows * (cols / group)), "int4 group");
  PackedMatrix p = shell(WeightFormat::Q4, rows, cols);
  p.group = group;
  p.group_scale.assign(gscale, gscale + rows * (cols / group));
  p.q4.assign(static_cast<size_t>(rows * cols / 2), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const int8_t v = q[r * cols + c];
      if (v < -8 || v > 7) runtime_error("an int4 value outside [-8, 7]", "quantized weights");
      const int64_t b = c / kQ8Block, j = c % kQ8Block;
      uint8_t& byte = p.q4[static_cast<size_t>(r * cols / 2 + b * 32 + j % 32)];
      byte = static_cast<uint8_t>(byte | ((v + 8) << (j < 32 ? 0 : 4)));
    }
  p.block_sum = block_sums(q, rows, cols);
  return p;
}

PackedMatrix PackedMatrix::from_fp8(const uint8_t* e4m3, const float* row_scale, int64_t rows, int64_t cols) {
  check_scales(row_scale, static_cast<size_t>(rows), "fp8");
  PackedMatrix p = shell(WeightFormat::FP8, rows, cols);
  p.f8.assign(e4m3, e4m3 + rows * cols);
  for (uint8_t b : p.f8)
    if ((b & 0x7F) == 0x7F)
      runtime_error("an FP8 weight is NaN", "quantized weights", "the checkpoint is damaged; quantise the model again");
  p.scale.resize(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) p.scale[static_cast<size_t>(r)] = row_scale[r] * 256.0f;
  return p;
}

PackedMatrix PackedMatrix::concat_rows(const std::vector<const PackedMatrix*>& parts) {
  if (parts.empty()) runtime_error("internal: concatenating no matrices", "packed_linear");
  PackedMatrix p;
  p.format = parts[0]->format;
  p.cols = parts[0]->cols;
  p.group = parts[0]->group;
  auto add = [](auto& dst, const auto& src) { dst.insert(dst.end(), src.begin(), src.end()); };
  for (const PackedMatrix* m : parts) {
    if (m->format != p.format || m->cols != p.cols || m->group != p.group)
      runtime_error("matrices stored in different formats or widths cannot be joined (q/k/v or gate/up)",
                    "quantized weights", "quantise every linear of the model the same way");
    p.rows += m->rows;
    add(p.f32, m->f32);
    add(p.bf16, m->bf16);
    add(p.q8, m->q8);
    add(p.scale, m->scale);
    add(p.block_sum, m->block_sum);
    add(p.q4, m->q4);
    add(p.group_scale, m->group_scale);
    add(p.f8, m->f8);
  }
  return p;
}

PackedMatrix PackedMatrix::pack(const float* w, int64_t rows, int64_t cols, WeightFormat format, int64_t group) {
  PackedMatrix p = shell(format, rows, cols);
  const size_t n = static_cast<size_t>(rows * cols);
  switch (format) {
    case WeightFormat::F32:
      p.f32.assign(w, w + n);
      break;
    case WeightFormat::BF16:
      p.bf16.resize(n);
      for (size_t i = 0; i < n; ++i) p.bf16[i] = to_bf16(w[i]);
      break;
    case WeightFormat::Q8: {
      std::vector<int8_t> q(n);
      std::vector<float> s(static_cast<size_t>(rows));
      quantize_int8_rows(w, rows, cols, q.data(), s.data());
      return from_int8(q.data(), s.data(), rows, cols);
    }
    case WeightFormat::Q4: {
      check_group(group, cols, "quantize");
      std::vector<int8_t> q(n);
      std::vector<float> s(static_cast<size_t>(rows * (cols / group)));
      quantize_int4_groups(w, rows, cols, group, q.data(), s.data());
      return from_int4(q.data(), s.data(), rows, cols, group);
    }
    case WeightFormat::FP8: {
      float amax = 0;
      for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(w[i])) runtime_error("cannot quantise: a weight is non-finite", "quantize");
        amax = std::max(amax, std::fabs(w[i]));
      }
      const float sc = fp8_scale(amax);
      std::vector<uint8_t> b(n);
      for (size_t i = 0; i < n; ++i) b[i] = f32_to_e4m3(w[i] / sc);
      std::vector<float> rs(static_cast<size_t>(rows), sc);
      return from_fp8(b.data(), rs.data(), rows, cols);
    }
  }
  return p;
}

size_t PackedMatrix::bytes() const {
  return f32.size() * 4 + bf16.size() * 2 + q8.size() + scale.size() * 4 + block_sum.size() * 4 + q4.size() +
         group_scale.size() * 4 + f8.size();
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
    u.resize(static_cast<size_t>(blocks * kQ8Block));
    scale.resize(static_cast<size_t>(blocks));
    quantize_rows_q8(x, 1, cols, cols, u.data(), scale.data());  // the same bytes as its plain loops
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

// The int4 weight at column c of a packed row (see PackedMatrix::q4).
int q4_at(const uint8_t* row, int64_t c) {
  const int64_t b = c / kQ8Block, j = c % kQ8Block;
  const uint8_t byte = row[b * 32 + j % 32];
  return int(j < 32 ? byte & 0xF : byte >> 4) - 8;
}

// Σ_b x.scale_b · group_scale_g(b) · (Σ_c u_c·q_c − 128·blocksum_b) for one row, in plain integers.
float q4_row_dot_plain(const PackedMatrix& w, int64_t r, const QuantizedRow& x) {
  const int64_t blocks = w.cols / kQ8Block, groups = w.cols / w.group;
  const uint8_t* row = w.q4.data() + r * w.cols / 2;
  float s = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    int32_t d = 0;
    for (int64_t c = b * kQ8Block; c < (b + 1) * kQ8Block; ++c) d += int32_t(x.u[static_cast<size_t>(c)]) * q4_at(row, c);
    const float sg = w.group_scale[static_cast<size_t>(r * groups + b * kQ8Block / w.group)];
    s += x.scale[static_cast<size_t>(b)] * sg * float(d - 128 * w.block_sum[static_cast<size_t>(r * blocks + b)]);
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
    case WeightFormat::Q4: {
      const uint8_t* p = q4.data() + off / 2;
      const float* gs = group_scale.data() + r * (cols / group);
      for (int64_t c = 0; c < cols; ++c) out[c] = float(q4_at(p, c)) * gs[c / group];
      break;
    }
    case WeightFormat::FP8: {
      const float s = scale[static_cast<size_t>(r)] / 256.0f;
      for (int64_t c = 0; c < cols; ++c) out[c] = e4m3_to_f32(f8[off + c]) * s;
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
  if (w.format == WeightFormat::Q4) {
    QuantizedRow q;
    for (int m = 0; m < M; ++m) {
      q.set(x + m * ldx, w.cols);
      for (int64_t r = r0; r < r1; ++r) y[m * ldy + r] = q4_row_dot_plain(w, r, q);
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
// E4M3 bytes placed in fp16 bits (sign to bit 15, exponent and mantissa to bits 13..7) read as
// the value times 2^-8 exactly, subnormals included; the row scale carries the 2^8 back.
struct Fp8Load {
  const uint8_t* w;
  int64_t cols;
  static __m512 widen(__m128i b) {
    const __m256i h = _mm256_cvtepu8_epi16(b);
    const __m256i mag = _mm256_slli_epi16(_mm256_and_si256(h, _mm256_set1_epi16(0x7F)), 7);
    const __m256i sign = _mm256_slli_epi16(_mm256_and_si256(h, _mm256_set1_epi16(0x80)), 8);
    return _mm512_cvtph_ps(_mm256_or_si256(mag, sign));
  }
  __m512 operator()(int64_t r, int64_t c) const {
    return widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + r * cols + c)));
  }
  __m512 operator()(int64_t r, int64_t c, __mmask16 m) const { return widen(_mm_maskz_loadu_epi8(m, w + r * cols + c)); }
};

// _mm512_reduce_add_ps's sum in its order ((hi + lo) halves down to (t0 + t2) + (t1 + t3)), written
// without its undefined-register extract, which GCC 12 warns about once inlined into rows_tile.
inline float reduce_add(__m512 v) {
  const __m256d hi = _mm512_mask_extractf64x4_pd(_mm256_setzero_pd(), 0xFF, _mm512_castps_pd(v), 1);
  const __m256d lo = _mm512_mask_extractf64x4_pd(_mm256_setzero_pd(), 0xFF, _mm512_castps_pd(v), 0);
  const __m256 a = _mm256_add_ps(_mm256_castpd_ps(hi), _mm256_castpd_ps(lo));
  __m128 b = _mm_add_ps(_mm256_extractf128_ps(a, 1), _mm256_castps256_ps128(a));
  b = _mm_add_ps(b, _mm_movehl_ps(b, b));
  b = _mm_add_ss(b, _mm_movehdup_ps(b));
  return _mm_cvtss_f32(b);
}

// R rows of W against MT rows of x: each weight vector is loaded (and widened) once for the MT
// rows, and every (m, r) sum is formed by the same sequence of FMAs as with MT = 1, so a row's
// result does not depend on how many rows it was batched with.
template <int R, int MT, class Load>
void rows_tile(const Load& ld, const float* x, int64_t ldx, float* y, int64_t ldy, int64_t r, int64_t cols,
               const float* scale) {
  const int64_t full = cols / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (cols - full)) - 1u);
  __m512 acc[MT][R];
#pragma GCC unroll 8
  for (int m = 0; m < MT; ++m)
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) acc[m][i] = _mm512_setzero_ps();
  for (int64_t c = 0; c < full; c += 16) {
    __m512 wv[R];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) wv[i] = ld(r + i, c);
#pragma GCC unroll 8
    for (int m = 0; m < MT; ++m) {
      const __m512 xv = _mm512_loadu_ps(x + m * ldx + c);
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) acc[m][i] = _mm512_fmadd_ps(wv[i], xv, acc[m][i]);
    }
  }
  if (tail) {
    __m512 wv[R];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) wv[i] = ld(r + i, full, tail);
#pragma GCC unroll 8
    for (int m = 0; m < MT; ++m) {
      const __m512 xv = _mm512_maskz_loadu_ps(tail, x + m * ldx + full);
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) acc[m][i] = _mm512_fmadd_ps(wv[i], xv, acc[m][i]);
    }
  }
#pragma GCC unroll 8
  for (int m = 0; m < MT; ++m)
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      float s = reduce_add(acc[m][i]);
      y[m * ldy + r + i] = scale ? s * scale[r + i] : s;
    }
}

// Four rows of x at a time (16 accumulators, 4 weight vectors and x: 21 of the 32 registers).
template <int R, class Load>
void rows_block(const Load& ld, const float* x, int M, int64_t ldx, float* y, int64_t ldy, int64_t r,
                int64_t cols, const float* scale) {
  int m = 0;
  for (; m + 4 <= M; m += 4) rows_tile<R, 4>(ld, x + m * ldx, ldx, y + m * ldy, ldy, r, cols, scale);
  for (; m < M; ++m) rows_tile<R, 1>(ld, x + m * ldx, ldx, y + m * ldy, ldy, r, cols, scale);
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
#if defined(__F16C__)
#define NLM_PACKED_AVX2_FP8 1
// E4M3 through fp16 bits, as the AVX-512 path does: the value times 2^-8.
struct Fp8Load {
  const uint8_t* w;
  int64_t cols;
  __m256 operator()(int64_t r, int64_t c) const {
    const __m128i h = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w + r * cols + c)));
    const __m128i mag = _mm_slli_epi16(_mm_and_si128(h, _mm_set1_epi16(0x7F)), 7);
    const __m128i sign = _mm_slli_epi16(_mm_and_si128(h, _mm_set1_epi16(0x80)), 8);
    return _mm256_cvtph_ps(_mm_or_si128(mag, sign));
  }
  float at(int64_t r, int64_t c) const { return e4m3_to_f32(w[r * cols + c]) / 256.0f; }
};
#endif

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// As the AVX-512 rows_tile, with two rows of x at a time (8 accumulators, 4 weight vectors and
// x fit the 16 registers).
template <int R, int MT, class Load>
void rows_tile(const Load& ld, const float* x, int64_t ldx, float* y, int64_t ldy, int64_t r, int64_t cols,
               const float* scale) {
  const int64_t full = cols / 8 * 8;
  __m256 acc[MT][R];
#pragma GCC unroll 8
  for (int m = 0; m < MT; ++m)
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) acc[m][i] = _mm256_setzero_ps();
  for (int64_t c = 0; c < full; c += 8) {
    __m256 wv[R];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) wv[i] = ld(r + i, c);
#pragma GCC unroll 8
    for (int m = 0; m < MT; ++m) {
      const __m256 xv = _mm256_loadu_ps(x + m * ldx + c);
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) acc[m][i] = _mm256_fmadd_ps(wv[i], xv, acc[m][i]);
    }
  }
#pragma GCC unroll 8
  for (int m = 0; m < MT; ++m) {
    const float* xm = x + m * ldx;
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      float s = hsum(acc[m][i]);
      for (int64_t c = full; c < cols; ++c) s += ld.at(r + i, c) * xm[c];
      y[m * ldy + r + i] = scale ? s * scale[r + i] : s;
    }
  }
}

template <int R, class Load>
void rows_block(const Load& ld, const float* x, int M, int64_t ldx, float* y, int64_t ldy, int64_t r,
                int64_t cols, const float* scale) {
  int m = 0;
  for (; m + 2 <= M; m += 2) rows_tile<R, 2>(ld, x + m * ldx, ldx, y + m * ldy, ldy, r, cols, scale);
  for (; m < M; ++m) rows_tile<R, 1>(ld, x + m * ldx, ldx, y + m * ldy, ldy, r, cols, scale);
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
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const __m512i xv = _mm512_loadu_si512(x.u.data() + b * kQ8Block);
    const __m512 sx = _mm512_set1_ps(x.scale[static_cast<size_t>(b)]);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const int8_t* p = w.q8.data() + (r + i) * cols + b * kQ8Block;
      const __m512i wv = b < full ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8(tail, p);
      const __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), xv, wv);
      acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), sx, acc[i]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    const int32_t* bsum = w.block_sum.data() + (r + i) * blocks;
    float corr = 0;
    for (int64_t b = 0; b < blocks; ++b) corr += x.scale[static_cast<size_t>(b)] * float(128 * bsum[b]);
    y[i] = w.scale[static_cast<size_t>(r + i)] * (_mm512_reduce_add_ps(acc[i]) - corr);
  }
}

// The same for int4 rows: each block's 32 bytes widen to 64 int8 weights (low nibbles, then high
// ones, minus 8) in registers, and the block's x scale times its group's scale applies.
template <int R>
void q4_rows_vnni(const PackedMatrix& w, const QuantizedRow& x, float* y, int64_t r) {
  const int64_t cols = w.cols, blocks = cols / kQ8Block, groups = cols / w.group, per_group = w.group / kQ8Block;
  const __m256i low = _mm256_set1_epi8(0x0F);
  const __m512i eight = _mm512_set1_epi8(8);
  __m512 acc[R];
  float corr[R];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    acc[i] = _mm512_setzero_ps();
    corr[i] = 0;
  }
  for (int64_t b = 0; b < blocks; ++b) {
    const __m512i xv = _mm512_loadu_si512(x.u.data() + b * kQ8Block);
    const float sx = x.scale[static_cast<size_t>(b)];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.q4.data() + (r + i) * cols / 2 + b * 32));
      const __m256i lo = _mm256_and_si256(v, low), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
      const __m512i wv = _mm512_sub_epi8(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), eight);
      const __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), xv, wv);
      const float s = sx * w.group_scale[static_cast<size_t>((r + i) * groups + b / per_group)];
      acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_set1_ps(s), acc[i]);
      corr[i] += s * float(128 * w.block_sum[static_cast<size_t>((r + i) * blocks + b)]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) y[i] = _mm512_reduce_add_ps(acc[i]) - corr[i];
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
#if NLM_PACKED_AVX512 || NLM_PACKED_AVX2_FP8
    case WeightFormat::FP8:
      rows_vector(Fp8Load{w.f8.data(), w.cols}, x, M, ldx, y, ldy, r0, r1, w.cols, w.scale.data());
      return;
#else
    case WeightFormat::FP8:
#endif
    case WeightFormat::Q8:
    case WeightFormat::Q4:
      break;
  }
#endif
#if NLM_PACKED_VNNI
  thread_local QuantizedRow q;  // per thread, its buffers reused across calls (no allocation per token)
  if (w.format == WeightFormat::FP8) {
    packed_linear_reference(w, x, M, ldx, y, ldy, r0, r1);  // unreachable with AVX-512 (above); kept total
    return;
  }
  // Each row of x quantised once, then four rows of W at a time (int8 or int4 weights).
  auto int_rows = [&](auto four, auto one) {
    for (int m = 0; m < M; ++m) {
      q.set(x + m * ldx, w.cols);
      float* ym = y + m * ldy;
      int64_t r = r0;
      for (; r + 4 <= r1; r += 4) four(w, q, ym + r, r);
      for (; r < r1; ++r) one(w, q, ym + r, r);
    }
  };
  if (w.format == WeightFormat::Q4)
    int_rows(q4_rows_vnni<4>, q4_rows_vnni<1>);
  else
    int_rows(q8_rows_vnni<4>, q8_rows_vnni<1>);
#else
  packed_linear_reference(w, x, M, ldx, y, ldy, r0, r1);  // F32/BF16/FP8 without AVX, or int8/int4 without VNNI
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
  // Blocks of whole 16-row groups, one per thread. A thread gets at least 16K multiply-adds
  // (a few microseconds of weights streamed from L3 or memory): below that, waking the team costs
  // more than it saves. (64K left a 10M model's o_proj, 100K, on one thread: 3 % of tg128 at 2
  // threads.)
  const int64_t groups = (rows + 15) / 16;
  const int64_t work = rows * cols * M;
  const int nt = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>({int64_t(threads), groups, work >> 14})));
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
  if (gemm_rows && w.format == WeightFormat::Q8 && q8_gemm_available()) {
    // Integer prefill: each thread quantises a share of x's rows, then multiplies its rows of W
    // by all of them.
    thread_local std::vector<uint8_t> qu;  // the calling thread's buffers, reused across calls
    thread_local std::vector<float> qs;
    const int64_t blocks = (cols + kQ8Block - 1) / kQ8Block;
    qu.resize(static_cast<size_t>(M * blocks * kQ8Block));
    qs.resize(static_cast<size_t>(M * blocks));
    uint8_t* U = qu.data();
    float* S = qs.data();
    auto quantize = [&](int t) {
      const int m0 = M * t / nt, m1 = M * (t + 1) / nt;
      quantize_rows_q8(x + m0 * cols, m1 - m0, cols, cols, U + m0 * blocks * kQ8Block, S + m0 * blocks);
    };
    auto multiply = [&](int t) {
      const int64_t r0 = std::min(rows, groups * t / nt * 16), r1 = std::min(rows, groups * (t + 1) / nt * 16);
      if (r0 < r1) q8_gemm_rows(w, U, S, M, y, rows, r0, r1);
    };
    if (nt == 1) {
      quantize(0);
      multiply(0);
      return;
    }
#pragma omp parallel num_threads(nt)
    {
      const int t = omp_get_thread_num();
      quantize(t);
#pragma omp barrier
      multiply(t);
    }
    return;
  }
  if (nt == 1) {
    body(0);
    return;
  }
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int t = 0; t < nt; ++t) body(t);
}

}  // namespace nlm::tensor::cpu
