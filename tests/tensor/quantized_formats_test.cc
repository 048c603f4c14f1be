// The quantised weight formats: FP8 E4M3 encoding (exact on every representable value, rounding
// to nearest even, saturating at 448, NaN kept), int8 / int4 round-trip error bounds, the int4
// nibble packing, and the engine's int4 and FP8 kernels against their plain references.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "tensor/cpu/packed_linear.h"
#include "tensor/dtype.h"
#include "tensor/quantize.h"

namespace nlm::tensor {
namespace {

using cpu::PackedMatrix;
using cpu::WeightFormat;

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

TEST(Fp8E4M3, EveryFiniteCodeRoundTripsExactly) {
  int finite = 0;
  for (int b = 0; b < 256; ++b) {
    const float v = e4m3_to_f32(static_cast<uint8_t>(b));
    if ((b & 0x7F) == 0x7F) {
      EXPECT_TRUE(std::isnan(v)) << b;
      continue;
    }
    ++finite;
    EXPECT_EQ(f32_to_e4m3(v), b) << b << " = " << v;
  }
  EXPECT_EQ(finite, 254);
  EXPECT_EQ(e4m3_to_f32(0x38), 1.0f);
  EXPECT_EQ(e4m3_to_f32(0x7E), 448.0f);
  EXPECT_EQ(e4m3_to_f32(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(e4m3_to_f32(0x08), std::ldexp(1.0f, -6));  // smallest normal
}

TEST(Fp8E4M3, RoundsToNearestEvenSaturatesAndKeepsNan) {
  EXPECT_EQ(e4m3_to_f32(f32_to_e4m3(1.0625f)), 1.0f);   // tie between 1 and 1.125: even mantissa
  EXPECT_EQ(e4m3_to_f32(f32_to_e4m3(1.1875f)), 1.25f);  // tie between 1.125 and 1.25
  EXPECT_EQ(e4m3_to_f32(f32_to_e4m3(1.07f)), 1.125f);
  EXPECT_EQ(f32_to_e4m3(std::ldexp(1.0f, -10)), 0x00);  // tie between 0 and 2^-9
  EXPECT_EQ(f32_to_e4m3(std::ldexp(1.5f, -10)), 0x01);
  EXPECT_EQ(f32_to_e4m3(-0.0f), 0x80);
  for (float big : {448.0f, 449.0f, 464.0f, 1e6f, INFINITY}) {
    EXPECT_EQ(f32_to_e4m3(big), 0x7E) << big;
    EXPECT_EQ(f32_to_e4m3(-big), 0xFE) << big;
  }
  EXPECT_EQ(f32_to_e4m3(NAN) & 0x7F, 0x7F);
  // Relative error of values in the normal range: at most half a step of 3 mantissa bits.
  for (float v : randn(2000, 4, 20.0f)) {
    if (std::fabs(v) < std::ldexp(1.0f, -6)) continue;
    EXPECT_LE(std::fabs(e4m3_to_f32(f32_to_e4m3(v)) - v), std::fabs(v) / 16.0f * 1.0001f) << v;
  }
  // F8_E4M3 is a safetensors dtype that converts like the floating types.
  DType t;
  ASSERT_TRUE(parse_dtype("F8_E4M3", t));
  EXPECT_EQ(dtype_size(t), 1u);
  const float src[3] = {0.5f, -3.0f, 500.0f};
  uint8_t mid[3];
  float back[3];
  convert(src, DType::F32, mid, DType::F8_E4M3, 3);
  convert(mid, DType::F8_E4M3, back, DType::F32, 3);
  EXPECT_EQ(back[0], 0.5f);
  EXPECT_EQ(back[1], -3.0f);
  EXPECT_EQ(back[2], 448.0f);
  ASSERT_TRUE(parse_dtype("I8", t));
  EXPECT_THROW(convert(src, DType::F32, mid, DType::I8, 3), Error);
}

TEST(QuantizeWeights, Int8AndInt4RoundTripWithinHalfAStep) {
  const int64_t rows = 6, cols = 256, group = 128;
  auto w = randn(static_cast<size_t>(rows * cols), 1, 0.1f);
  w[3] = 2.0f;  // an outlier coarsens only its row (int8) or its group (int4)
  std::vector<int8_t> q8(w.size()), q4(w.size());
  std::vector<float> s8(static_cast<size_t>(rows)), s4(static_cast<size_t>(rows * cols / group));
  quantize_int8_rows(w.data(), rows, cols, q8.data(), s8.data());
  quantize_int4_groups(w.data(), rows, cols, group, q4.data(), s4.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float v = w[static_cast<size_t>(r * cols + c)];
      float amax8 = 0, amax4 = 0;
      for (int64_t k = 0; k < cols; ++k) amax8 = std::max(amax8, std::fabs(w[static_cast<size_t>(r * cols + k)]));
      for (int64_t k = c / group * group; k < (c / group + 1) * group; ++k)
        amax4 = std::max(amax4, std::fabs(w[static_cast<size_t>(r * cols + k)]));
      EXPECT_LE(std::fabs(q8[static_cast<size_t>(r * cols + c)] * s8[static_cast<size_t>(r)] - v), amax8 / 254.0f * 1.0001f);
      EXPECT_LE(std::fabs(q4[static_cast<size_t>(r * cols + c)] * s4[static_cast<size_t>(r * 2 + c / group)] - v), amax4 / 14.0f * 1.0001f);
      EXPECT_LE(std::abs(q4[static_cast<size_t>(r * cols + c)]), 7);
    }
  EXPECT_FLOAT_EQ(q4[3] * s4[0], 2.0f);  // a group's largest value is exact
  EXPECT_LT(s4[1], s4[0] / 5);           // the outlier's group only
  w[9] = NAN;
  EXPECT_THROW(quantize_int4_groups(w.data(), rows, cols, group, q4.data(), s4.data()), Error);
  EXPECT_THROW(quantize_int4_groups(w.data(), rows, 200, group, q4.data(), s4.data()), Error);
}

TEST(QuantizeWeights, Int4PackingKeepsEveryValue) {
  std::vector<int8_t> q;
  for (int a = -8; a < 8; ++a)
    for (int b = -8; b < 8; ++b) q.insert(q.end(), {int8_t(a), int8_t(b)});
  std::vector<uint8_t> packed(q.size() / 2);
  pack_int4(q.data(), int64_t(q.size()), packed.data());
  EXPECT_EQ(packed[0], 0x00);         // (-8, -8)
  EXPECT_EQ(packed[8 * 16 + 9], 0x98);  // (0, 1): low nibble 8, high nibble 9
  std::vector<int8_t> back(q.size());
  unpack_int4(packed.data(), int64_t(q.size()), back.data());
  EXPECT_EQ(back, q);
}

TEST(QuantizedKernels, Int4AndFp8MatchTheirReferences) {
  SCOPED_TRACE(cpu::packed_linear_isa());
  for (auto fmt : {WeightFormat::Q4, WeightFormat::FP8})
    for (int64_t cols : {64, 128, 384})
      for (int64_t rows : {1, 3, 4, 37}) {
        for (int64_t group : {int64_t(64), int64_t(128)}) {
          if (cols % group) continue;
          auto w = randn(static_cast<size_t>(rows * cols), 1);
          auto p = PackedMatrix::pack(w.data(), rows, cols, fmt, group);
          const int M = 5;
          auto x = randn(static_cast<size_t>(M * cols), 2);
          std::vector<float> y(static_cast<size_t>(M * rows)), ref(y.size());
          cpu::packed_linear_rows(p, x.data(), M, cols, y.data(), rows, 0, rows);
          cpu::packed_linear_reference(p, x.data(), M, cols, ref.data(), rows, 0, rows);
          for (size_t i = 0; i < y.size(); ++i)
            ASSERT_NEAR(y[i], ref[i], 1e-5 * std::sqrt(double(cols)) * 4)
                << cpu::weight_format_name(fmt) << " " << rows << "x" << cols << " at " << i;
          // The fp32 product on the dequantised rows: int4 rounds x to int8 (about 1 %), FP8 is exact.
          std::vector<float> row(static_cast<size_t>(cols));
          double err = 0, norm = 0;
          for (int m = 0; m < M; ++m)
            for (int64_t r = 0; r < rows; ++r) {
              p.row(r, row.data());
              double s = 0;
              for (int64_t c = 0; c < cols; ++c) s += double(row[static_cast<size_t>(c)]) * x[static_cast<size_t>(m * cols + c)];
              err += (y[static_cast<size_t>(m * rows + r)] - s) * (y[static_cast<size_t>(m * rows + r)] - s);
              norm += s * s;
            }
          EXPECT_LT(std::sqrt(err / norm), fmt == WeightFormat::Q4 ? 0.02 : 1e-5) << cpu::weight_format_name(fmt);
        }
      }
}

TEST(QuantizedKernels, Fp8KeepsSubnormalsAndSigns) {
  // Every finite code as a weight, against x = 1 in one column: the kernel reproduces each value.
  const int64_t cols = 16;
  std::vector<uint8_t> codes;
  for (int b = 0; b < 256; ++b)
    if ((b & 0x7F) != 0x7F) codes.push_back(uint8_t(b));
  const int64_t rows = int64_t(codes.size());
  std::vector<uint8_t> w(static_cast<size_t>(rows * cols), 0);
  for (int64_t r = 0; r < rows; ++r) w[static_cast<size_t>(r * cols + 5)] = codes[static_cast<size_t>(r)];
  std::vector<float> scale(static_cast<size_t>(rows), 0.5f), x(static_cast<size_t>(cols), 0.0f), y(static_cast<size_t>(rows));
  x[5] = 1.0f;
  auto p = PackedMatrix::from_fp8(w.data(), scale.data(), rows, cols);
  cpu::packed_linear_rows(p, x.data(), 1, cols, y.data(), rows, 0, rows);
  for (int64_t r = 0; r < rows; ++r) EXPECT_EQ(y[static_cast<size_t>(r)], e4m3_to_f32(codes[static_cast<size_t>(r)]) * 0.5f) << int(codes[static_cast<size_t>(r)]);
  w[3] = 0x7F;  // NaN in a checkpoint is refused
  EXPECT_THROW(PackedMatrix::from_fp8(w.data(), scale.data(), rows, cols), Error);
}

TEST(QuantizedKernels, ConcatenatedRowsMultiplyLikeTheParts) {
  const int64_t cols = 128;
  for (auto fmt : {WeightFormat::Q8, WeightFormat::Q4, WeightFormat::FP8}) {
    auto a = randn(static_cast<size_t>(5 * cols), 3), b = randn(static_cast<size_t>(7 * cols), 4, 3.0f);
    auto pa = PackedMatrix::pack(a.data(), 5, cols, fmt, 64), pb = PackedMatrix::pack(b.data(), 7, cols, fmt, 64);
    auto joined = PackedMatrix::concat_rows({&pa, &pb});
    auto x = randn(static_cast<size_t>(cols), 5);
    std::vector<float> y(12), ya(5), yb(7);
    cpu::packed_linear_rows(joined, x.data(), 1, cols, y.data(), 12, 0, 12);
    cpu::packed_linear_rows(pa, x.data(), 1, cols, ya.data(), 5, 0, 5);
    cpu::packed_linear_rows(pb, x.data(), 1, cols, yb.data(), 7, 0, 7);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(y[static_cast<size_t>(i)], ya[static_cast<size_t>(i)]);
    for (int i = 0; i < 7; ++i) EXPECT_EQ(y[static_cast<size_t>(5 + i)], yb[static_cast<size_t>(i)]);
  }
  auto a = randn(static_cast<size_t>(cols), 3);
  auto p8 = PackedMatrix::pack(a.data(), 1, cols, WeightFormat::Q8), p4 = PackedMatrix::pack(a.data(), 1, cols, WeightFormat::Q4, 64);
  EXPECT_THROW(PackedMatrix::concat_rows({&p8, &p4}), Error);
  EXPECT_THROW(PackedMatrix::pack(a.data(), 1, cols, WeightFormat::Q4, 96), Error);
}

TEST(QuantizedKernels, GemmAndThreadedPathsAgree) {
  const int64_t rows = 150, cols = 256;
  for (auto fmt : {WeightFormat::Q4, WeightFormat::FP8}) {
    auto w = randn(static_cast<size_t>(rows * cols), 5);
    auto p = PackedMatrix::pack(w.data(), rows, cols, fmt, 128);
    const int M = 33;
    auto x = randn(static_cast<size_t>(M * cols), 6);
    std::vector<float> a(static_cast<size_t>(M * rows)), b(a.size()), c(a.size());
    cpu::packed_linear(p, x.data(), M, a.data(), 2, true);
    cpu::packed_linear(p, x.data(), M, b.data(), 2, false);
    cpu::packed_linear(p, x.data(), M, c.data(), 1, false);
    EXPECT_EQ(b, c);
    const double tol = fmt == WeightFormat::Q4 ? 0.04 * std::sqrt(double(cols)) : 1e-3;
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tol) << cpu::weight_format_name(fmt);
  }
}

}  // namespace
}  // namespace nlm::tensor
