// The inference matrix kernels against their plain reference: every format, odd shapes that
// leave vector tails, several rows of x at once, the gemm path, and the packing bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "tensor/cpu/packed_linear.h"

namespace nlm::tensor::cpu {
namespace {

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

const WeightFormat kFormats[] = {WeightFormat::F32, WeightFormat::BF16, WeightFormat::Q8};

TEST(PackedLinear, KernelsMatchReference) {
  SCOPED_TRACE(packed_linear_isa());
  for (auto fmt : kFormats)
    for (int64_t cols : {1, 7, 16, 53, 64, 100, 257})
      for (int64_t rows : {1, 3, 4, 37}) {
        auto w = randn(static_cast<size_t>(rows * cols), 1);
        auto p = PackedMatrix::pack(w.data(), rows, cols, fmt);
        const int M = 5;
        auto x = randn(static_cast<size_t>(M * cols), 2);
        std::vector<float> y(static_cast<size_t>(M * rows)), ref(y.size());
        packed_linear_rows(p, x.data(), M, cols, y.data(), rows, 0, rows);
        packed_linear_reference(p, x.data(), M, cols, ref.data(), rows, 0, rows);
        for (size_t i = 0; i < y.size(); ++i)
          ASSERT_NEAR(y[i], ref[i], 1e-5 * std::sqrt(double(cols)) * 4)
              << weight_format_name(fmt) << " " << rows << "x" << cols << " at " << i;
      }
}

TEST(PackedLinear, ResultOfARowDoesNotDependOnBatchOrRange) {
  const int64_t rows = 45, cols = 70;
  for (auto fmt : kFormats) {
    auto w = randn(static_cast<size_t>(rows * cols), 3);
    auto p = PackedMatrix::pack(w.data(), rows, cols, fmt);
    auto x = randn(static_cast<size_t>(4 * cols), 4);
    std::vector<float> all(static_cast<size_t>(4 * rows));
    packed_linear_rows(p, x.data(), 4, cols, all.data(), rows, 0, rows);
    for (int m = 0; m < 4; ++m) {
      std::vector<float> one(static_cast<size_t>(rows));
      // Split at odd row offsets, so rows fall in different 4-row blocks than above.
      packed_linear_rows(p, x.data() + m * cols, 1, cols, one.data(), rows, 0, 3);
      packed_linear_rows(p, x.data() + m * cols, 1, cols, one.data(), rows, 3, rows);
      for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(one[static_cast<size_t>(r)], all[static_cast<size_t>(m * rows + r)]);
    }
  }
}

TEST(PackedLinear, ThreadsSplitRowsWithTheSameAnswer) {
  const int64_t rows = 600, cols = 1024;  // 2.4M multiply-adds at M = 4: split over 3 threads
  for (auto fmt : kFormats) {
    auto w = randn(static_cast<size_t>(rows * cols), 8);
    auto p = PackedMatrix::pack(w.data(), rows, cols, fmt);
    auto x = randn(static_cast<size_t>(4 * cols), 9);
    std::vector<float> one(static_cast<size_t>(4 * rows)), three(one.size());
    packed_linear(p, x.data(), 4, one.data(), 1, false);
    packed_linear(p, x.data(), 4, three.data(), 3, false);
    EXPECT_EQ(three, one);
  }
}

TEST(PackedLinear, GemmPathAgrees) {
  const int64_t rows = 150, cols = 96;
  const int M = 33;
  for (auto fmt : kFormats) {
    auto w = randn(static_cast<size_t>(rows * cols), 5);
    auto p = PackedMatrix::pack(w.data(), rows, cols, fmt);
    auto x = randn(static_cast<size_t>(M * cols), 6);
    std::vector<float> a(static_cast<size_t>(M * rows)), b(a.size());
    packed_linear(p, x.data(), M, a.data(), 2, true);
    packed_linear(p, x.data(), M, b.data(), 2, false);
    // int8 rows quantise x in blocks of 64 on the vector path (not in the gemm path): about 1 %.
    const double tol = fmt == WeightFormat::Q8 ? 0.04 * std::sqrt(double(cols)) : 1e-4;
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tol) << weight_format_name(fmt);
  }
}

TEST(PackedLinear, PackingErrorBounds) {
  const int64_t rows = 8, cols = 300;
  auto w = randn(static_cast<size_t>(rows * cols), 7, 0.05f);
  w[5] = 3.0f;  // an outlier sets row 0's scale
  auto b = PackedMatrix::pack(w.data(), rows, cols, WeightFormat::BF16);
  auto q = PackedMatrix::pack(w.data(), rows, cols, WeightFormat::Q8);
  EXPECT_EQ(b.bytes(), size_t(rows * cols * 2));
  EXPECT_EQ(q.bytes(), size_t(rows * cols + rows * 4 + rows * 5 * 4));  // + int32 sums of 5 blocks of 64
  std::vector<float> rb(static_cast<size_t>(cols)), rq(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    b.row(r, rb.data());
    q.row(r, rq.data());
    float amax = 0;
    for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(w[static_cast<size_t>(r * cols + c)]));
    for (int64_t c = 0; c < cols; ++c) {
      const float v = w[static_cast<size_t>(r * cols + c)];
      EXPECT_LE(std::fabs(rb[static_cast<size_t>(c)] - v), std::fabs(v) / 256.0f);  // 8 mantissa bits, rounded
      EXPECT_LE(std::fabs(rq[static_cast<size_t>(c)] - v), amax / 127.0f / 2.0f * 1.0001f);
    }
  }
  q.row(0, rq.data());
  EXPECT_FLOAT_EQ(rq[5], 3.0f);  // the row's largest value is exact
  std::vector<float> zeros(static_cast<size_t>(cols), 0.0f);
  auto z = PackedMatrix::pack(zeros.data(), 1, cols, WeightFormat::Q8);
  z.row(0, rq.data());
  EXPECT_EQ(rq[0], 0.0f);
  w[17] = NAN;
  EXPECT_THROW(PackedMatrix::pack(w.data(), rows, cols, WeightFormat::Q8), Error);
}

// The int8 product (x quantised in blocks of 64, integer dot products) against fp32 arithmetic
// on the same int8 weights: the activation rounding costs under 2 % of the output's size,
// also when one block holds an outlier.
TEST(PackedLinear, Int8ActivationRoundingIsSmall) {
  const int64_t rows = 64, cols = 320;
  auto w = randn(static_cast<size_t>(rows * cols), 10);
  auto p = PackedMatrix::pack(w.data(), rows, cols, WeightFormat::Q8);
  auto x = randn(static_cast<size_t>(cols), 11);
  x[70] = 40.0f;  // an outlier coarsens only its own block
  std::vector<float> y(static_cast<size_t>(rows)), exact(y.size()), row(static_cast<size_t>(cols));
  packed_linear_rows(p, x.data(), 1, cols, y.data(), rows, 0, rows);
  double err = 0, norm = 0;
  for (int64_t r = 0; r < rows; ++r) {
    p.row(r, row.data());
    double s = 0;
    for (int64_t c = 0; c < cols; ++c) s += double(row[static_cast<size_t>(c)]) * x[static_cast<size_t>(c)];
    err += (y[static_cast<size_t>(r)] - s) * (y[static_cast<size_t>(r)] - s);
    norm += s * s;
  }
  EXPECT_LT(std::sqrt(err / norm), 0.02);
  EXPECT_GT(err, 0.0);
}

TEST(PackedLinear, FormatNames) {
  EXPECT_EQ(parse_weight_format("bf16", "t"), WeightFormat::BF16);
  EXPECT_EQ(parse_weight_format("int8", "t"), WeightFormat::Q8);
  EXPECT_EQ(parse_weight_format("f32", "t"), WeightFormat::F32);
  try {
    parse_weight_format("q4", "--weights");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("f32, bf16 or int8"), std::string::npos);
  }
}

}  // namespace
}  // namespace nlm::tensor::cpu
