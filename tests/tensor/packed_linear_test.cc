// The inference matrix kernels against their plain reference: every format, odd shapes that
// leave vector tails, several rows of x at once, the gemm path (with the int8 prefill tiles),
// and the packing bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "tensor/cpu/packed_linear.h"
#include "tensor/cpu/q8_gemm.h"
#include "tensor/cpu/vector_math.h"

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
    // 11 rows of x: tiles of 4 (AVX-512) or 2 (AVX2) rows and single rows after them.
    const int M = 11;
    auto x = randn(static_cast<size_t>(M * cols), 4);
    std::vector<float> all(static_cast<size_t>(M * rows));
    packed_linear_rows(p, x.data(), M, cols, all.data(), rows, 0, rows);
    for (int m = 0; m < M; ++m) {
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
    // int8 quantises x in blocks of 64 on both paths (integer tiles for gemm where VNNI is
    // built, fp32 sgemm on the dequantised weights otherwise: about 1 %).
    const double tol = fmt == WeightFormat::Q8 ? (q8_gemm_available() ? 1e-4 : 0.04 * std::sqrt(double(cols))) : 1e-4;
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

// The int8 prefill product (q8_gemm.h) against its plain reference: the activation quantiser
// byte for byte (tails, zero and non-finite blocks), the 4×4 tile kernel on shapes that leave
// partial tiles in both directions and on row sub-ranges, and packed_linear's gemm route against
// the decode kernel, which quantises x the same way.
int64_t blocks_of(int64_t cols) { return (cols + kQ8Block - 1) / kQ8Block; }

TEST(Q8Gemm, QuantiserMatchesReferenceBytes) {
  for (int64_t cols : {1, 7, 16, 63, 64, 65, 100, 320, 864}) {
    const int M = 3;
    const int64_t ldx = cols + 5, blocks = blocks_of(cols);
    auto x = randn(static_cast<size_t>(M * ldx), 1);
    x[0] = 0.5f * x[1];  // a half-way product somewhere is likely; ties must round alike
    if (cols >= 64) {
      for (int64_t c = 0; c < 64; ++c) x[static_cast<size_t>(ldx + c)] = 0.0f;  // an all-zero block
      x[static_cast<size_t>(2 * ldx + 3)] = NAN;                                  // NaN in a block
      x[static_cast<size_t>(2 * ldx + cols - 1)] = INFINITY;                      // inf in the last block
    }
    std::vector<uint8_t> u(static_cast<size_t>(M * blocks * kQ8Block), 7), ur(u.size(), 9);
    std::vector<float> s(static_cast<size_t>(M * blocks), -1), sr(s.size(), -2);
    quantize_rows_q8(x.data(), M, ldx, cols, u.data(), s.data());
    quantize_rows_q8_reference(x.data(), M, ldx, cols, ur.data(), sr.data());
    EXPECT_EQ(u, ur) << cols;
    EXPECT_EQ(s, sr) << cols;
    for (int m = 0; m < M; ++m) {  // padding past the row is the zero code
      for (int64_t c = cols; c < blocks * kQ8Block; ++c) EXPECT_EQ(u[static_cast<size_t>(m * blocks * kQ8Block + c)], 128);
    }
    if (cols >= 64) {
      EXPECT_EQ(s[static_cast<size_t>(blocks)], 0.0f);  // the zero block
    }
  }
}

TEST(Q8Gemm, TileKernelMatchesReference) {
  SCOPED_TRACE(q8_gemm_available() ? "vnni tiles" : "reference only");
  for (int64_t cols : {64, 100, 257, 320})
    for (int64_t rows : {1, 3, 4, 5, 37})
      for (int M : {1, 3, 4, 5, 33}) {
        const int64_t blocks = blocks_of(cols);
        auto w = randn(static_cast<size_t>(rows * cols), 2);
        auto p = PackedMatrix::pack(w.data(), rows, cols, WeightFormat::Q8);
        auto x = randn(static_cast<size_t>(M * cols), 3, 2.0f);
        std::vector<uint8_t> u(static_cast<size_t>(M * blocks * kQ8Block));
        std::vector<float> s(static_cast<size_t>(M * blocks));
        quantize_rows_q8(x.data(), M, cols, cols, u.data(), s.data());
        const int64_t ldy = rows + 2;
        std::vector<float> y(static_cast<size_t>(M * ldy), 123.0f), ref(y.size(), 123.0f);
        // Two sub-ranges split at an odd row, so strips start off the 4-row grid.
        const int64_t cut = rows / 2 | 1;
        for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, std::min(cut, rows)}, {std::min(cut, rows), rows}}) {
          q8_gemm_rows(p, u.data(), s.data(), M, y.data(), ldy, r0, r1);
          q8_gemm_rows_reference(p, u.data(), s.data(), M, ref.data(), ldy, r0, r1);
        }
        for (size_t i = 0; i < y.size(); ++i)
          ASSERT_NEAR(y[i], ref[i], 1e-5 * (1 + std::fabs(ref[i])) * std::sqrt(double(cols)))
              << rows << "x" << cols << " M=" << M << " at " << i;
        for (int m = 0; m < M; ++m)  // the columns past the matrix's rows are left alone
          for (int64_t r = rows; r < ldy; ++r) ASSERT_EQ(y[static_cast<size_t>(m * ldy + r)], 123.0f);
      }
}

// The gemm route (prefill) and the row kernel (decode) quantise x identically, so they differ
// only in the order of fp32 sums; 1 thread and 2 threads give the same answer.
TEST(Q8Gemm, PrefillRouteAgreesWithDecodeKernel) {
  for (int64_t cols : {96, 320, 864})
    for (int M : {16, 33}) {
      const int64_t rows = 150;
      auto w = randn(static_cast<size_t>(rows * cols), 5);
      auto p = PackedMatrix::pack(w.data(), rows, cols, WeightFormat::Q8);
      auto x = randn(static_cast<size_t>(M * cols), 6);
      std::vector<float> g1(static_cast<size_t>(M * rows)), g2(g1.size()), d(g1.size());
      packed_linear(p, x.data(), M, g1.data(), 1, true);
      packed_linear(p, x.data(), M, g2.data(), 2, true);
      packed_linear_rows(p, x.data(), M, cols, d.data(), rows, 0, rows);
      EXPECT_EQ(g1, g2);
      for (size_t i = 0; i < d.size(); ++i)
        ASSERT_NEAR(g1[i], d[i], 1e-5 * (1 + std::fabs(d[i])) * std::sqrt(double(cols))) << cols << " M=" << M << " at " << i;
    }
}

TEST(Q8Gemm, RejectsOtherFormats) {
  auto w = randn(64, 7);
  auto p = PackedMatrix::pack(w.data(), 1, 64, WeightFormat::F32);
  std::vector<uint8_t> u(64, 128);
  std::vector<float> s(1, 0.0f), y(1);
  EXPECT_ANY_THROW(q8_gemm_rows(p, u.data(), s.data(), 1, y.data(), 1, 0, 1));
}

// The vectorised exp of the engine's softmax and SwiGLU against std::exp: a few ulp over the
// range a softmax sees (scores minus their max), tails of every length, and the extremes.
TEST(VectorMath, ExpAndSwigluMatchStdExp) {
  for (int64_t n : {1, 15, 16, 17, 100}) {
    auto x = randn(static_cast<size_t>(n), 12, 6.0f);
    x[0] = -200.0f;  // underflows to 0
    auto ref = x;
    const float s = exp_shifted_sum(x.data(), n, 1.5f), sr = exp_shifted_sum_reference(ref.data(), n, 1.5f);
    for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(x[static_cast<size_t>(i)], ref[static_cast<size_t>(i)], 4e-7 * ref[static_cast<size_t>(i)]) << i;
    EXPECT_EQ(x[0], 0.0f);
    EXPECT_NEAR(s, sr, 1e-6 * sr);
    auto g = randn(static_cast<size_t>(n), 13, 8.0f), u = randn(static_cast<size_t>(n), 14);
    g[0] = -1000.0f;  // sigmoid 0: h = −0, not NaN
    if (n > 1) g[1] = 1000.0f;  // sigmoid 1: h = g·u
    std::vector<float> h(static_cast<size_t>(n), 7.0f), hr(h.size(), 7.0f);
    swiglu(h.data(), g.data(), u.data(), n);
    swiglu_reference(hr.data(), g.data(), u.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_TRUE(std::isfinite(h[static_cast<size_t>(i)])) << i;
      ASSERT_NEAR(h[static_cast<size_t>(i)], hr[static_cast<size_t>(i)], 1e-6 * (1 + std::fabs(hr[static_cast<size_t>(i)]))) << i;
    }
  }
}

// One query row's attention over a cache against the plain loops: the head widths the engine
// meets (64, 128), the other multiples of 16 and a width that is not one, keys from 1 to past a
// vector's width, and a row of scores far apart (the softmax picks one key).
TEST(VectorMath, AttentionRowMatchesPlainLoops) {
  for (int64_t hs : {16, 24, 32, 48, 64, 80, 96, 128, 160}) {
    const int64_t ld = 3 * hs + 16;  // other heads between two positions, as in the cache
    for (int n : {1, 2, 15, 17, 64, 200}) {
      auto K = randn(static_cast<size_t>(ld * n), 21), V = randn(static_cast<size_t>(ld * n), 22);
      auto q = randn(static_cast<size_t>(hs), 23, 2.0f);
      std::vector<float> sc(static_cast<size_t>(n)), out(static_cast<size_t>(hs), 9.0f), ref(out);
      const float scale = 1.0f / std::sqrt(float(hs));
      attention_row(q.data(), K.data(), V.data(), ld, hs, n, scale, sc.data(), out.data());
      attention_row_reference(q.data(), K.data(), V.data(), ld, hs, n, scale, sc.data(), ref.data());
      for (int64_t d = 0; d < hs; ++d)
        ASSERT_NEAR(out[static_cast<size_t>(d)], ref[static_cast<size_t>(d)], 2e-5f) << "hs " << hs << " n " << n << " d " << d;
    }
  }
  // A score 100 above the rest: the answer is that key's V row.
  const int64_t hs = 64;
  const int n = 9;
  auto K = randn(static_cast<size_t>(hs * n), 31), V = randn(static_cast<size_t>(hs * n), 32);
  std::vector<float> q(static_cast<size_t>(hs), 0.0f), sc(n), out(static_cast<size_t>(hs));
  for (int64_t d = 0; d < hs; ++d) K[static_cast<size_t>(5 * hs + d)] = 0.0f;
  K[static_cast<size_t>(5 * hs)] = 100.0f;
  q[0] = 1.0f;
  attention_row(q.data(), K.data(), V.data(), hs, hs, n, 1.0f, sc.data(), out.data());
  for (int64_t d = 0; d < hs; ++d) ASSERT_NEAR(out[static_cast<size_t>(d)], V[static_cast<size_t>(5 * hs + d)], 1e-6f);
}

}  // namespace
}  // namespace nlm::tensor::cpu
