// Every backend op, on every registered backend (a new backend inherits these tests by
// registering itself): the fp32 op against the plain reference, and its backward against
// central finite differences on the fp64 path (loss = Σ w·y with fixed random weights w).
// A backend that lacks an op (Backend::supports) skips that test. Then CPU-only checks: the
// BLAS attention kernels against their loop versions, and thread-count determinism.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "fake_backend.h"
#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/kernels.h"
#include "tensor/cpu/reference.h"
#include "tensor_helpers.h"

namespace nlm::testing {
namespace {

using tensor::DType;
using tensor::Op;
using tensor::Tensor;

// Every backend backend_for() knows in this binary: the built-in ones and the test's fake.
std::vector<std::string> backends_under_test() {
  fake_backend();
  return tensor::registered_devices();
}

struct AttnCase {
  int B, T, NH, NKV, hs;
  bool docs;
};

class Ops : public ::testing::TestWithParam<std::string> {
 protected:
  tensor::Backend& be() { return tensor::backend_for(GetParam()); }
  Tensor make(const Vec& v, tensor::Shape shape, DType dt) {
    return testing::make(v, std::move(shape), dt, be());
  }
  Tensor make_ids(const std::vector<int32_t>& v) { return testing::make_ids(v, be()); }
  std::pair<Tensor, Tensor> rope_tables(int P, int D, double theta, DType dt);
  void check_attention(const AttnCase& c, uint32_t seed);
};

// Ends the test as skipped when the backend lacks `op` for `dtype`.
#define REQUIRE_OP(op, dtype)                                                         \
  if (!be().supports(op, dtype))                                                      \
  GTEST_SKIP() << be().name() << " has no " << tensor::op_name(op) << " for "         \
               << tensor::dtype_name(dtype)

TEST_P(Ops, MatmulMatchesReferenceAndGradients) {
  REQUIRE_OP(Op::MatmulForward, DType::F32);
  const int N = 5, C = 7, OC = 6;
  Vec x = random_vec(N * C, 1), w = random_vec(OC * C, 2), b = random_vec(OC, 3);
  Tensor xf = make(x, {N, C}, DType::F32), wf = make(w, {OC, C}, DType::F32),
         bf = make(b, {OC}, DType::F32);
  Tensor of = be().empty({N, OC}, DType::F32);
  be().matmul_forward(of, xf, wf, &bf);
  EXPECT_LT(max_rel_diff(get(of), tensor::reference::matmul(x, w, b, N, C, OC)), 1e-5);
  REQUIRE_OP(Op::MatmulBackward, DType::F64);

  Vec wout = random_vec(N * OC, 4);
  Tensor xd = make(x, {N, C}, DType::F64), wd = make(w, {OC, C}, DType::F64),
         bd = make(b, {OC}, DType::F64), od = be().empty({N, OC}, DType::F64);
  Tensor dout = make(wout, {N, OC}, DType::F64);
  Tensor dx = make(random_vec(N * C, 9), {N, C}, DType::F64), dw = be().zeros({OC, C}, DType::F64),
         db = be().zeros({OC}, DType::F64);
  be().matmul_backward(&dx, &dw, &db, dout, xd, wd, false);
  auto loss = [&] {
    be().matmul_forward(od, xd, wd, &bd);
    return dot(get(od), wout);
  };
  expect_gradient(x, get(dx), loss, [&] { be().upload(xd, x.data(), DType::F64); });
  expect_gradient(w, get(dw), loss, [&] { be().upload(wd, w.data(), DType::F64); });
  expect_gradient(b, get(db), loss, [&] { be().upload(bd, b.data(), DType::F64); });

  // Parameter gradients accumulate; dinp accumulates only when asked.
  Vec dx1 = get(dx), dw1 = get(dw);
  be().matmul_backward(&dx, &dw, nullptr, dout, xd, wd, true);
  for (size_t i = 0; i < dw1.size(); ++i) EXPECT_NEAR(get(dw)[i], 2 * dw1[i], 1e-12);
  for (size_t i = 0; i < dx1.size(); ++i) EXPECT_NEAR(get(dx)[i], 2 * dx1[i], 1e-12);
  // A frozen weight (null dweight) still gets dinp, and nothing else is touched.
  be().matmul_backward(&dx, nullptr, nullptr, dout, xd, wd, false);
  for (size_t i = 0; i < dx1.size(); ++i) EXPECT_NEAR(get(dx)[i], dx1[i], 1e-12);
  for (size_t i = 0; i < dw1.size(); ++i) EXPECT_NEAR(get(dw)[i], 2 * dw1[i], 1e-12);
}

TEST_P(Ops, MulIsElementwise) {
  REQUIRE_OP(Op::Mul, DType::F32);
  Vec a = random_vec(37, 21), b = random_vec(37, 22);
  Tensor ta = make(a, {37}, DType::F32), tb = make(b, {37}, DType::F32);
  be().mul(ta, tb);
  Vec got = get(ta);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(got[i], a[i] * b[i], 1e-6);
  Tensor wrong = be().zeros({36}, DType::F32);
  EXPECT_THROW(be().mul(ta, wrong), Error);
}

TEST_P(Ops, RmsnormMatchesReferenceAndGradients) {
  REQUIRE_OP(Op::RmsnormForward, DType::F32);
  const int N = 4, C = 9;
  const double eps = 1e-5;
  Vec x = random_vec(N * C, 5), w = random_vec(C, 6);
  Tensor xf = make(x, {N, C}, DType::F32), wf = make(w, {C}, DType::F32);
  Tensor of = be().empty({N, C}, DType::F32), rf = be().empty({N}, DType::F32);
  be().rmsnorm_forward(of, rf, xf, wf, eps);
  EXPECT_LT(max_rel_diff(get(of), tensor::reference::rmsnorm(x, w, N, C, eps)), 1e-5);
  REQUIRE_OP(Op::RmsnormBackward, DType::F64);

  Vec wout = random_vec(N * C, 7);
  Tensor xd = make(x, {N, C}, DType::F64), wd = make(w, {C}, DType::F64);
  Tensor od = be().empty({N, C}, DType::F64), rd = be().empty({N}, DType::F64);
  be().rmsnorm_forward(od, rd, xd, wd, eps);
  Tensor dout = make(wout, {N, C}, DType::F64);
  Tensor dx = be().zeros({N, C}, DType::F64), dw = be().zeros({C}, DType::F64);
  be().rmsnorm_backward(dx, dw, dout, xd, wd, rd);
  auto loss = [&] {
    be().rmsnorm_forward(od, rd, xd, wd, eps);
    return dot(get(od), wout);
  };
  expect_gradient(x, get(dx), loss, [&] { be().upload(xd, x.data(), DType::F64); });
  expect_gradient(w, get(dw), loss, [&] { be().upload(wd, w.data(), DType::F64); });
}

// cos/sin tables as the model builds them, for the plain theta^(-2i/D) frequencies.
std::pair<Tensor, Tensor> Ops::rope_tables(int P, int D, double theta, DType dt) {
  Vec c(P * D / 2), s(P * D / 2);
  for (int p = 0; p < P; ++p)
    for (int i = 0; i < D / 2; ++i) {
      double a = p * std::pow(theta, -2.0 * i / D);
      c[p * D / 2 + i] = std::cos(a);
      s[p * D / 2 + i] = std::sin(a);
    }
  return {make(c, {P, D / 2}, dt), make(s, {P, D / 2}, dt)};
}

TEST_P(Ops, RopeMatchesReferenceAndGradients) {
  REQUIRE_OP(Op::RopeForward, DType::F32);
  const int N = 5, H = 3, D = 8;
  std::vector<int32_t> pos = {0, 1, 2, 7, 3};
  Vec x = random_vec(N * H * D, 8);
  auto [cf, sf] = rope_tables(16, D, 10000.0, DType::F32);
  Tensor xf = make(x, {N, H, D}, DType::F32), pf = make_ids(pos);
  be().rope_forward(xf, pf, cf, sf);
  EXPECT_LT(max_rel_diff(get(xf), tensor::reference::rope(x, pos, N, H, D, 10000.0)), 1e-5);
  REQUIRE_OP(Op::RopeBackward, DType::F64);

  // Not a structured binding: clang 14 (the fuzz and sanitizer build) cannot capture one in a lambda.
  auto tables = rope_tables(16, D, 10000.0, DType::F64);
  Tensor& cd = tables.first;
  Tensor& sd = tables.second;
  Vec wout = random_vec(N * H * D, 9);
  Tensor dx = make(wout, {N, H, D}, DType::F64);
  be().rope_backward(dx, pf, cd, sd);
  Tensor xd = make(x, {N, H, D}, DType::F64);
  auto loss = [&] {
    Tensor y = make(x, {N, H, D}, DType::F64);
    be().rope_forward(y, pf, cd, sd);
    return dot(get(y), wout);
  };
  expect_gradient(x, get(dx), loss, [] {});
}

void Ops::check_attention(const AttnCase& c, uint32_t seed) {
  const int B = c.B, T = c.T, NH = c.NH, NKV = c.NKV, hs = c.hs;
  Vec q = random_vec(B * T * NH * hs, seed), k = random_vec(B * T * NKV * hs, seed + 1),
      v = random_vec(B * T * NKV * hs, seed + 2);
  std::vector<int32_t> docs;
  if (c.docs)
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < T; ++t) docs.push_back(t < (b + 2) ? 0 : (t < T - 1 ? 1 : 2));
  Tensor dids = c.docs ? make_ids(docs) : Tensor();
  const Tensor* dptr = c.docs ? &dids : nullptr;

  Tensor qf = make(q, {B, T, NH, hs}, DType::F32), kf = make(k, {B, T, NKV, hs}, DType::F32),
         vf = make(v, {B, T, NKV, hs}, DType::F32);
  Tensor of = be().empty({B, T, NH, hs}, DType::F32);
  std::unique_ptr<tensor::AttentionState> sf;
  be().attention_forward(of, sf, qf, kf, vf, dptr, B, T);
  EXPECT_LT(max_rel_diff(get(of), tensor::reference::attention(q, k, v, docs, B, T, NH, NKV, hs)),
            1e-5);

  Tensor qd = make(q, {B, T, NH, hs}, DType::F64), kd = make(k, {B, T, NKV, hs}, DType::F64),
         vd = make(v, {B, T, NKV, hs}, DType::F64);
  if (!be().supports(Op::AttentionBackward, DType::F64)) return;
  Tensor od = be().empty({B, T, NH, hs}, DType::F64);
  std::unique_ptr<tensor::AttentionState> sd, sl;
  be().attention_forward(od, sd, qd, kd, vd, dptr, B, T);
  Vec wout = random_vec(B * T * NH * hs, seed + 3);
  Tensor dout = make(wout, {B, T, NH, hs}, DType::F64);
  Tensor dq = be().empty(qd.shape(), DType::F64), dk = be().empty(kd.shape(), DType::F64),
         dv = be().empty(vd.shape(), DType::F64);
  be().attention_backward(dq, dk, dv, dout, *sd, qd, kd, vd, B, T);
  auto loss = [&] {
    be().attention_forward(od, sl, qd, kd, vd, dptr, B, T);
    return dot(get(od), wout);
  };
  expect_gradient(q, get(dq), loss, [&] { be().upload(qd, q.data(), DType::F64); });
  expect_gradient(k, get(dk), loss, [&] { be().upload(kd, k.data(), DType::F64); });
  expect_gradient(v, get(dv), loss, [&] { be().upload(vd, v.data(), DType::F64); });
}

TEST_P(Ops, AttentionMultiHead) {
  REQUIRE_OP(Op::AttentionForward, DType::F32);
  check_attention({2, 5, 2, 2, 4, false}, 10);
}
TEST_P(Ops, AttentionGroupedQuery) {
  REQUIRE_OP(Op::AttentionForward, DType::F32);
  check_attention({2, 5, 4, 2, 4, false}, 20);
}
TEST_P(Ops, AttentionMultiQueryWithDocuments) {
  REQUIRE_OP(Op::AttentionForward, DType::F32);
  check_attention({2, 6, 3, 1, 4, true}, 30);
}

TEST_P(Ops, DocumentMaskIsolatesDocuments) {
  // Changing document 0's tokens must not change any output of document 1.
  REQUIRE_OP(Op::AttentionForward, DType::F64);
  const int B = 1, T = 6, NH = 2, NKV = 1, hs = 4;
  Vec q = random_vec(T * NH * hs, 1), k = random_vec(T * NKV * hs, 2), v = random_vec(T * NKV * hs, 3);
  Tensor docs = make_ids({0, 0, 0, 1, 1, 1});
  auto run = [&](const Vec& kk) {
    Tensor o = be().empty({B, T, NH, hs}, DType::F64);
    std::unique_ptr<tensor::AttentionState> a;
    Tensor qd = make(q, {B, T, NH, hs}, DType::F64), kd = make(kk, {B, T, NKV, hs}, DType::F64),
           vd = make(v, {B, T, NKV, hs}, DType::F64);
    be().attention_forward(o, a, qd, kd, vd, &docs, B, T);
    return get(o);
  };
  Vec base = run(k);
  Vec k2 = k;
  for (int i = 0; i < 3 * hs; ++i) k2[i] += 0.3 * (i % 5) - 0.5;  // not a uniform shift (softmax ignores those)
  Vec changed = run(k2);
  for (int i = 3 * NH * hs; i < T * NH * hs; ++i) EXPECT_DOUBLE_EQ(base[i], changed[i]);
  bool any = false;
  for (int i = 0; i < 3 * NH * hs; ++i) any |= base[i] != changed[i];
  EXPECT_TRUE(any);
}

TEST_P(Ops, CachedAttentionMatchesFullAttention) {
  REQUIRE_OP(Op::AttentionForward, DType::F32);
  REQUIRE_OP(Op::AttentionCached, DType::F32);
  const int T = 7, NH = 4, NKV = 2, hs = 4;
  Vec q = random_vec(T * NH * hs, 41), k = random_vec(T * NKV * hs, 42), v = random_vec(T * NKV * hs, 43);
  Tensor qf = make(q, {1, T, NH, hs}, DType::F32), kf = make(k, {T, NKV, hs}, DType::F32),
         vf = make(v, {T, NKV, hs}, DType::F32);
  Tensor full = be().empty({1, T, NH, hs}, DType::F32);
  std::unique_ptr<tensor::AttentionState> att;
  be().attention_forward(full, att, qf, kf.reshaped({1, T, NKV, hs}), vf.reshaped({1, T, NKV, hs}),
                         nullptr, 1, T);
  // Prefill 4 tokens, then decode the remaining 3 one at a time.
  Vec all = get(full), got;
  for (auto [past, n] : std::vector<std::pair<int, int>>{{0, 4}, {4, 1}, {5, 1}, {6, 1}}) {
    Vec qs(q.begin() + past * NH * hs, q.begin() + (past + n) * NH * hs);
    Tensor qq = make(qs, {n, NH, hs}, DType::F32), o = be().empty({n, NH, hs}, DType::F32);
    be().attention_cached(o, qq, kf, vf, past, n);
    Vec part = get(o);
    got.insert(got.end(), part.begin(), part.end());
  }
  EXPECT_LT(max_rel_diff(got, all), 1e-5);
}

TEST_P(Ops, SwigluMatchesReferenceAndGradients) {
  REQUIRE_OP(Op::SwigluForward, DType::F32);
  const int n = 11;
  Vec g = random_vec(n, 50, 2.0), u = random_vec(n, 51);
  Tensor gf = make(g, {n}, DType::F32), uf = make(u, {n}, DType::F32), of = be().empty({n}, DType::F32);
  be().swiglu_forward(of, gf, uf);
  EXPECT_LT(max_rel_diff(get(of), tensor::reference::swiglu(g, u)), 1e-5);
  REQUIRE_OP(Op::SwigluBackward, DType::F64);
  Vec wout = random_vec(n, 52);
  Tensor gd = make(g, {n}, DType::F64), ud = make(u, {n}, DType::F64), od = be().empty({n}, DType::F64);
  Tensor dout = make(wout, {n}, DType::F64), dg = be().empty({n}, DType::F64),
         du = be().empty({n}, DType::F64);
  be().swiglu_backward(dg, du, dout, gd, ud);
  auto loss = [&] {
    be().swiglu_forward(od, gd, ud);
    return dot(get(od), wout);
  };
  expect_gradient(g, get(dg), loss, [&] { be().upload(gd, g.data(), DType::F64); });
  expect_gradient(u, get(du), loss, [&] { be().upload(ud, u.data(), DType::F64); });
}

TEST_P(Ops, CrossEntropyWithIgnoreMask) {
  REQUIRE_OP(Op::CrossEntropyForward, DType::F32);
  const int N = 4, V = 6;
  Vec z = random_vec(N * V, 60, 3.0);
  std::vector<int32_t> tg = {2, -1, 5, 0};
  Tensor zf = make(z, {N, V}, DType::F32), tf = make_ids(tg), lf = be().empty({N}, DType::F32);
  be().cross_entropy_forward(lf, zf, tf);
  Vec ref = tensor::reference::cross_entropy(z, tg, N, V);
  EXPECT_LT(max_rel_diff(get(lf), ref), 1e-5);
  EXPECT_EQ(get(lf)[1], 0.0);
  REQUIRE_OP(Op::CrossEntropyBackward, DType::F64);

  Tensor zd = make(z, {N, V}, DType::F64), ld = be().empty({N}, DType::F64);
  Tensor dz = be().empty({N, V}, DType::F64);
  be().cross_entropy_backward(dz, zd, tf, 0.5);
  auto loss = [&] {
    be().cross_entropy_forward(ld, zd, tf);
    return 0.5 * be().sum(ld);
  };
  expect_gradient(z, get(dz), loss, [&] { be().upload(zd, z.data(), DType::F64); });
  // In place gives the same gradient.
  be().cross_entropy_backward(zd, zd, tf, 0.5);
  EXPECT_LT(max_rel_diff(get(zd), get(dz)), 1e-15);
}

TEST_P(Ops, EmbeddingGradientsAccumulateRepeatedIds) {
  REQUIRE_OP(Op::EmbeddingForward, DType::F64);
  REQUIRE_OP(Op::EmbeddingBackward, DType::F64);
  const int V = 5, C = 3;
  Vec table = random_vec(V * C, 70);
  Tensor tb = make(table, {V, C}, DType::F64), ids = make_ids({1, 3, 1});
  Tensor out = be().empty({3, C}, DType::F64);
  be().embedding_forward(out, ids, tb);
  Vec o = get(out);
  for (int c = 0; c < C; ++c) EXPECT_EQ(o[2 * C + c], table[1 * C + c]);
  Vec wout = random_vec(3 * C, 71);
  Tensor dt = be().zeros({V, C}, DType::F64), dout = make(wout, {3, C}, DType::F64);
  be().embedding_backward(dt, dout, ids);
  auto loss = [&] {
    be().embedding_forward(out, ids, tb);
    return dot(get(out), wout);
  };
  expect_gradient(table, get(dt), loss, [&] { be().upload(tb, table.data(), DType::F64); });
  Tensor bad = make_ids({7});
  EXPECT_THROW(be().embedding_forward(out, bad, tb), Error);
}

TEST_P(Ops, AdamwStepMatchesFormula) {
  REQUIRE_OP(Op::AdamwUpdate, DType::F64);
  Vec p = {1.0, -2.0}, g = {0.5, -0.25};
  Tensor pt = make(p, {2}, DType::F64), gt = make(g, {2}, DType::F64);
  Tensor m = be().zeros({2}, DType::F64), v = be().zeros({2}, DType::F64);
  be().adamw_update(pt, gt, m, v, 0.1, 0.9, 0.95, 1e-8, 0.01, 1);
  Vec got = get(pt);
  for (int i = 0; i < 2; ++i) {
    // At t = 1 the bias-corrected m̂ = g and v̂ = g², so the step is lr·(sign(g) + wd·p).
    double expect = p[i] - 0.1 * (g[i] / (std::abs(g[i]) + 1e-8) + 0.01 * p[i]);
    EXPECT_NEAR(got[i], expect, 1e-12);
  }
}

TEST_P(Ops, SumsAddAndScale) {
  REQUIRE_OP(Op::Sum, DType::F64);
  REQUIRE_OP(Op::SumSquares, DType::F64);
  REQUIRE_OP(Op::Add, DType::F64);
  REQUIRE_OP(Op::Scale, DType::F64);
  Vec a = random_vec(37, 81), b = random_vec(37, 82);
  Tensor ta = make(a, {37}, DType::F64), tb = make(b, {37}, DType::F64);
  double s = 0, s2 = 0;
  for (double x : a) s += x, s2 += x * x;
  EXPECT_NEAR(be().sum(ta), s, 1e-12);
  EXPECT_NEAR(be().sum_squares(ta), s2, 1e-12);
  be().add(ta, tb);
  be().scale(ta, -0.5);
  Vec got = get(ta);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(got[i], -0.5 * (a[i] + b[i]), 1e-12);
}

// convert() is what mixed precision copies master weights with: bf16 rounds to nearest even, and
// a bf16 value comes back to fp32 exactly; mismatched element counts are an error.
TEST_P(Ops, ConvertRoundsToBf16AndBack) {
  Vec a = random_vec(301, 83);
  Tensor f = make(a, {301}, DType::F32), h = be().empty({301}, DType::BF16),
         back = be().empty({7, 43}, DType::F32);
  be().convert(h, f);
  be().convert(back, h);
  Vec got = get(back);
  for (size_t i = 0; i < a.size(); ++i) {
    float want = tensor::bf16_to_f32(tensor::f32_to_bf16(static_cast<float>(a[i])));
    EXPECT_EQ(static_cast<float>(got[i]), want) << i;
  }
  Tensor short_one = be().empty({300}, DType::F32);
  EXPECT_THROW(be().convert(short_one, h), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, Ops, ::testing::ValuesIn(backends_under_test()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;  // "cuda:0" → "cuda_0"
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

TEST(CpuOps, ReductionsAreDeterministicAcrossThreadCounts) {
  Vec x = random_vec(100003, 80);
  Tensor t = make(x, {100003}, DType::F32);
  auto& cpu = tensor::cpu_backend();
  int before = cpu.threads();
  cpu.set_threads(1);
  double a = cpu.sum_squares(t);
  cpu.set_threads(2);
  double b = cpu.sum_squares(t);
  cpu.set_threads(before);
  EXPECT_EQ(a, b);
}

TEST(Dtype, HalfAndBfloatRoundTrip) {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 1e-6f, 3.14159f}) {
    EXPECT_NEAR(tensor::f16_to_f32(tensor::f32_to_f16(f)), f, std::abs(f) * 1e-3 + 1e-7);
    EXPECT_NEAR(tensor::bf16_to_f32(tensor::f32_to_bf16(f)), f, std::abs(f) * 1e-2 + 1e-30);
  }
  EXPECT_EQ(tensor::f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(tensor::f32_to_bf16(1.0f), 0x3f80);
  EXPECT_TRUE(std::isinf(tensor::f16_to_f32(tensor::f32_to_f16(1e6f))));
}

}  // namespace
}  // namespace nlm::testing

namespace nlm::testing {
namespace {

// The BLAS attention (used by the backend) against the row-at-a-time loop version, with GQA and
// document masking, forward and backward.
TEST(CpuOps, BlasAttentionMatchesLoopVersion) {
  const int B = 2, T = 9, NH = 4, NKV = 2, hs = 8;
  Vec q = random_vec(B * T * NH * hs, 91), k = random_vec(B * T * NKV * hs, 92),
      v = random_vec(B * T * NKV * hs, 93), g = random_vec(B * T * NH * hs, 94);
  std::vector<int32_t> docs;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) docs.push_back(t < 3 + b ? 0 : 1);
  std::vector<double> o1(q.size()), o2(q.size()), a1(B * NH * T * T), a2(a1.size());
  tensor::cpu::attention_forward<double>(o1.data(), a1.data(), q.data(), k.data(), v.data(), docs.data(), B, T, NH, NKV, hs);
  tensor::cpu::attention_forward_loops<double>(o2.data(), a2.data(), q.data(), k.data(), v.data(), docs.data(), B, T, NH, NKV, hs);
  EXPECT_LT(max_rel_diff(o1, o2), 1e-12);
  EXPECT_LT(max_rel_diff(a1, a2), 1e-12);
  std::vector<double> dq1(q.size()), dk1(k.size()), dv1(v.size()), dq2(q.size()), dk2(k.size()), dv2(v.size());
  tensor::cpu::attention_backward<double>(dq1.data(), dk1.data(), dv1.data(), g.data(), a1.data(), q.data(), k.data(), v.data(), B, T, NH, NKV, hs);
  tensor::cpu::attention_backward_loops<double>(dq2.data(), dk2.data(), dv2.data(), g.data(), a1.data(), q.data(), k.data(), v.data(), B, T, NH, NKV, hs);
  EXPECT_LT(max_rel_diff(dq1, dq2), 1e-12);
  EXPECT_LT(max_rel_diff(dk1, dk2), 1e-12);
  EXPECT_LT(max_rel_diff(dv1, dv2), 1e-12);
}

}  // namespace
}  // namespace nlm::testing
