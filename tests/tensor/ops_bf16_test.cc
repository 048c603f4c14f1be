// Every op in BF16 on every registered backend that has it (a backend without BF16 skips, saying
// so), against the same backend's F32 op on the same bf16-rounded inputs: a BF16 result may
// differ by its one final rounding (2^-8 relative), while the accum_dtype results of backend.h
// (parameter gradients, rstd, losses, AdamW moments) are F32 and must match the F32 op to fp32
// precision, which a bf16 round trip would miss by far. Also: those tensors in any other dtype
// are an error. These run on the CPU here and on the CUDA backend wherever a GPU exists.
#include <gtest/gtest.h>

#include <tuple>

#include <cmath>

#include "core/error.h"
#include "fake_backend.h"
#include "tensor/backend.h"
#include "tensor_helpers.h"

namespace nlm::testing {
namespace {

using tensor::DType;
using tensor::Op;
using tensor::Tensor;

constexpr double kBf16Tol = 8e-3;  // one rounding of a bf16 result, with slack
constexpr double kFp32Tol = 1e-4;  // an fp32 result: a bf16 round trip would be ~4e-3 off

// v as a BF16 tensor holds it: the inputs both precisions compute from.
Vec rounded(const Vec& v) {
  Vec r(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    r[i] = tensor::bf16_to_f32(tensor::f32_to_bf16(static_cast<float>(v[i])));
  return r;
}

class Bf16Ops : public ::testing::TestWithParam<std::string> {
 protected:
  tensor::Backend& be() { return tensor::backend_for(GetParam()); }
  // The same (bf16-rounded) values as a BF16 and as an F32 tensor.
  std::pair<Tensor, Tensor> pair(const Vec& v, const tensor::Shape& shape) {
    Vec r = rounded(v);
    return {make(r, shape, DType::BF16, be()), make(r, shape, DType::F32, be())};
  }
  Tensor f32(const Vec& v, const tensor::Shape& shape) { return make(v, shape, DType::F32, be()); }
  Tensor ids(const std::vector<int32_t>& v) { return make_ids(v, be()); }
  // The BF16 result against the F32 one, within one bf16 rounding.
  void expect_bf16(const Tensor& b, const Tensor& f, const char* what) {
    EXPECT_EQ(b.dtype(), DType::BF16) << what;
    EXPECT_LT(max_rel_diff(get(b), get(f)), kBf16Tol) << what;
  }
  void expect_fp32(const Tensor& b, const Tensor& f, const char* what) {
    EXPECT_EQ(b.dtype(), DType::F32) << what;
    EXPECT_LT(max_rel_diff(get(b), get(f)), kFp32Tol) << what;
  }
};

// Ends the test as skipped when the backend lacks `op` in BF16 (or its F32 reference).
#define REQUIRE_BF16(op)                                                                         \
  if (!be().supports(op, DType::BF16) || !be().supports(op, DType::F32))                         \
  GTEST_SKIP() << be().name() << " has no " << tensor::op_name(op) << " for BF16; not tested here"

TEST_P(Bf16Ops, ElementwiseAndSums) {
  REQUIRE_BF16(Op::Add);
  REQUIRE_BF16(Op::Scale);
  REQUIRE_BF16(Op::Mul);
  REQUIRE_BF16(Op::Sum);
  REQUIRE_BF16(Op::SumSquares);
  const Vec a = random_vec(1001, 1), b = random_vec(1001, 2);
  // Named tensors rather than structured bindings: the resync lambda captures them, which
  // clang before 16 refuses for bindings.
  auto a_pair = pair(a, {7, 11, 13}), b_pair = pair(b, {7, 11, 13});
  Tensor &ab = a_pair.first, &af = a_pair.second, &bb = b_pair.first, &bf = b_pair.second;
  EXPECT_NEAR(be().sum(ab), be().sum(af), 1e-4);
  EXPECT_NEAR(be().sum_squares(ab), be().sum_squares(af), 1e-4 * be().sum_squares(af));
  // Each op compared from the same bf16 start: af takes ab's values before the next one.
  auto resync = [&] {
    Vec v = get(ab);
    be().upload(af, v.data(), DType::F64);
  };
  be().add(ab, bb);
  be().add(af, bf);
  expect_bf16(ab, af, "add");
  resync();
  be().mul(ab, bb);
  be().mul(af, bf);
  expect_bf16(ab, af, "mul");
  resync();
  be().scale(ab, -0.37);
  be().scale(af, -0.37);
  expect_bf16(ab, af, "scale");
  Tensor wrong = be().zeros({7, 11, 13}, DType::F32);
  EXPECT_THROW(be().add(ab, wrong), Error);
}

TEST_P(Bf16Ops, EmbeddingGathersExactlyAndAccumulatesInFp32) {
  REQUIRE_BF16(Op::EmbeddingForward);
  REQUIRE_BF16(Op::EmbeddingBackward);
  const int V = 9, C = 5;
  const Vec table = random_vec(V * C, 3);
  auto [tb, tf] = pair(table, {V, C});
  Tensor id = ids({4, 0, 4, 8, 2, 4});
  Tensor ob = be().empty({6, C}, DType::BF16), of = be().empty({6, C}, DType::F32);
  be().embedding_forward(ob, id, tb);
  be().embedding_forward(of, id, tf);
  EXPECT_EQ(get(ob), get(of));  // a gather: bf16 values copied unchanged

  auto [gb, gf] = pair(random_vec(6 * C, 4), {6, C});
  Tensor db = f32(random_vec(V * C, 5), {V, C}), df = f32(get(db), {V, C});  // += into old values
  be().embedding_backward(db, gb, id);
  be().embedding_backward(df, gf, id);
  expect_fp32(db, df, "dtable");
  Tensor d16 = be().zeros({V, C}, DType::BF16);
  EXPECT_THROW(be().embedding_backward(d16, gb, id), Error);
}

TEST_P(Bf16Ops, MatmulWithFp32ParameterGradients) {
  REQUIRE_BF16(Op::MatmulForward);
  REQUIRE_BF16(Op::MatmulBackward);
  const int N = 37, C = 29, OC = 19;  // odd sizes
  auto [xb, xf] = pair(random_vec(N * C, 6), {N, C});
  auto [wb, wf] = pair(random_vec(OC * C, 7, 0.3), {OC, C});
  auto [bb, bf] = pair(random_vec(OC, 8), {OC});
  Tensor ob = be().empty({N, OC}, DType::BF16), of = be().empty({N, OC}, DType::F32);
  be().matmul_forward(ob, xb, wb, &bb);
  be().matmul_forward(of, xf, wf, &bf);
  expect_bf16(ob, of, "out");

  auto [gb, gf] = pair(random_vec(N * OC, 9), {N, OC});
  Tensor dxb = be().empty({N, C}, DType::BF16), dxf = be().empty({N, C}, DType::F32);
  Tensor dwb = be().zeros({OC, C}, DType::F32), dwf = be().zeros({OC, C}, DType::F32);
  Tensor dbb = be().zeros({OC}, DType::F32), dbf = be().zeros({OC}, DType::F32);
  be().matmul_backward(&dxb, &dwb, &dbb, gb, xb, wb, false);
  be().matmul_backward(&dxf, &dwf, &dbf, gf, xf, wf, false);
  expect_bf16(dxb, dxf, "dinp");
  expect_fp32(dwb, dwf, "dweight");
  expect_fp32(dbb, dbf, "dbias");
  // Parameter gradients accumulate in fp32; dinp accumulates when asked.
  be().matmul_backward(&dxb, &dwb, &dbb, gb, xb, wb, true);
  be().matmul_backward(&dxf, &dwf, &dbf, gf, xf, wf, true);
  expect_bf16(dxb, dxf, "dinp accumulated");
  expect_fp32(dwb, dwf, "dweight accumulated");
  expect_fp32(dbb, dbf, "dbias accumulated");
  // A frozen weight: dinp only.
  be().matmul_backward(&dxb, nullptr, nullptr, gb, xb, wb, false);
  be().matmul_backward(&dxf, nullptr, nullptr, gf, xf, wf, false);
  expect_bf16(dxb, dxf, "dinp of a frozen weight");
  Tensor dw16 = be().zeros({OC, C}, DType::BF16);
  EXPECT_THROW(be().matmul_backward(&dxb, &dw16, nullptr, gb, xb, wb, false), Error);
  EXPECT_THROW(be().matmul_forward(ob, xf, wb, nullptr), Error);
}

TEST_P(Bf16Ops, RmsnormWithFp32StatisticsAndGradients) {
  REQUIRE_BF16(Op::RmsnormForward);
  REQUIRE_BF16(Op::RmsnormBackward);
  const int N = 13, C = 24;
  auto [xb, xf] = pair(random_vec(N * C, 10, 2.0), {N, C});
  auto [wb, wf] = pair(random_vec(C, 11), {C});
  Tensor ob = be().empty({N, C}, DType::BF16), of = be().empty({N, C}, DType::F32);
  Tensor rb = be().empty({N}, DType::F32), rf = be().empty({N}, DType::F32);
  be().rmsnorm_forward(ob, rb, xb, wb, 1e-5);
  be().rmsnorm_forward(of, rf, xf, wf, 1e-5);
  expect_bf16(ob, of, "out");
  expect_fp32(rb, rf, "rstd");

  auto [gb, gf] = pair(random_vec(N * C, 12), {N, C});
  auto [dxb, dxf] = pair(random_vec(N * C, 13), {N, C});  // dinp accumulates
  Tensor dwb = f32(random_vec(C, 14), {C}), dwf = f32(get(dwb), {C});
  be().rmsnorm_backward(dxb, dwb, gb, xb, wb, rb);
  be().rmsnorm_backward(dxf, dwf, gf, xf, wf, rf);
  expect_bf16(dxb, dxf, "dinp");
  expect_fp32(dwb, dwf, "dweight");
  Tensor r16 = be().empty({N}, DType::BF16);
  EXPECT_THROW(be().rmsnorm_forward(ob, r16, xb, wb, 1e-5), Error);
}

TEST_P(Bf16Ops, RopeReadsFp32Tables) {
  REQUIRE_BF16(Op::RopeForward);
  REQUIRE_BF16(Op::RopeBackward);
  const int N = 6, H = 3, D = 8, P = 32;
  Vec c(P * D / 2), s(P * D / 2);
  for (int p = 0; p < P; ++p)
    for (int i = 0; i < D / 2; ++i) {
      double a = p * std::pow(10000.0, -2.0 * i / D);
      c[p * D / 2 + i] = std::cos(a);
      s[p * D / 2 + i] = std::sin(a);
    }
  Tensor cf = f32(c, {P, D / 2}), sf = f32(s, {P, D / 2}), pos = ids({0, 1, 5, 31, 2, 17});
  auto [xb, xf] = pair(random_vec(N * H * D, 15), {N, H, D});
  be().rope_forward(xb, pos, cf, sf);
  be().rope_forward(xf, pos, cf, sf);
  expect_bf16(xb, xf, "rope forward");
  be().rope_backward(xb, pos, cf, sf);
  be().rope_backward(xf, pos, cf, sf);
  expect_bf16(xb, xf, "rope backward");
  Tensor c16 = make(c, {P, D / 2}, DType::BF16, be()), s16 = make(s, {P, D / 2}, DType::BF16, be());
  EXPECT_THROW(be().rope_forward(xb, pos, c16, s16), Error);
}

TEST_P(Bf16Ops, AttentionGroupedQueryWithDocuments) {
  REQUIRE_BF16(Op::AttentionForward);
  REQUIRE_BF16(Op::AttentionBackward);
  const int B = 2, T = 7, NH = 4, NKV = 2, hs = 8;
  std::vector<int32_t> docs;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) docs.push_back(t < 3 + b ? 0 : 1);
  Tensor d = ids(docs);
  auto [qb, qf] = pair(random_vec(B * T * NH * hs, 16), {B, T, NH, hs});
  auto [kb, kf] = pair(random_vec(B * T * NKV * hs, 17), {B, T, NKV, hs});
  auto [vb, vf] = pair(random_vec(B * T * NKV * hs, 18), {B, T, NKV, hs});
  Tensor ob = be().empty(qb.shape(), DType::BF16), of = be().empty(qf.shape(), DType::F32);
  std::unique_ptr<tensor::AttentionState> sb, sf;
  be().attention_forward(ob, sb, qb, kb, vb, &d, B, T);
  be().attention_forward(of, sf, qf, kf, vf, &d, B, T);
  expect_bf16(ob, of, "out");

  auto [gb, gf] = pair(random_vec(B * T * NH * hs, 19), {B, T, NH, hs});
  Tensor dqb = be().empty(qb.shape(), DType::BF16), dkb = be().empty(kb.shape(), DType::BF16),
         dvb = be().empty(vb.shape(), DType::BF16);
  Tensor dqf = be().empty(qf.shape(), DType::F32), dkf = be().empty(kf.shape(), DType::F32),
         dvf = be().empty(vf.shape(), DType::F32);
  be().attention_backward(dqb, dkb, dvb, gb, *sb, qb, kb, vb, B, T);
  be().attention_backward(dqf, dkf, dvf, gf, *sf, qf, kf, vf, B, T);
  // A flash-attention backward (the CUDA kernels, as FlashAttention-2) takes D = rowsum(dO∘O) from
  // the forward's stored bf16 output, a second rounding the CPU's fp32 path does not make; dS =
  // P∘(dP − D) then carries it, so the gradients get two roundings' worth of tolerance.
  for (auto [b, f, what] : {std::tuple{&dqb, &dqf, "dq"}, {&dkb, &dkf, "dk"}, {&dvb, &dvf, "dv"}}) {
    EXPECT_EQ(b->dtype(), DType::BF16) << what;
    EXPECT_LT(max_rel_diff(get(*b), get(*f)), 2 * kBf16Tol) << what;
  }
}

TEST_P(Bf16Ops, CachedAttentionReadsOnlyFilledRows) {
  REQUIRE_BF16(Op::AttentionCached);
  const int Tmax = 16, past = 5, Tq = 3, NH = 4, NKV = 2, hs = 8;
  // Rows past the filled ones hold garbage that must not be read.
  Vec kc = random_vec(Tmax * NKV * hs, 20), vc = random_vec(Tmax * NKV * hs, 21);
  for (size_t i = size_t(past + Tq) * NKV * hs; i < kc.size(); ++i) kc[i] = vc[i] = 1e30;
  auto [kb, kf] = pair(kc, {Tmax, NKV, hs});
  auto [vb, vf] = pair(vc, {Tmax, NKV, hs});
  auto [qb, qf] = pair(random_vec(Tq * NH * hs, 22), {Tq, NH, hs});
  Tensor ob = be().empty(qb.shape(), DType::BF16), of = be().empty(qf.shape(), DType::F32);
  be().attention_cached(ob, qb, kb, vb, past, Tq);
  be().attention_cached(of, qf, kf, vf, past, Tq);
  expect_bf16(ob, of, "cached attention");
}

TEST_P(Bf16Ops, Swiglu) {
  REQUIRE_BF16(Op::SwigluForward);
  REQUIRE_BF16(Op::SwigluBackward);
  const int n = 301;
  auto [gb, gf] = pair(random_vec(n, 23, 3.0), {n});
  auto [ub, uf] = pair(random_vec(n, 24), {n});
  Tensor ob = be().empty({n}, DType::BF16), of = be().empty({n}, DType::F32);
  be().swiglu_forward(ob, gb, ub);
  be().swiglu_forward(of, gf, uf);
  expect_bf16(ob, of, "out");
  auto [db, df] = pair(random_vec(n, 25), {n});
  Tensor dgb = be().empty({n}, DType::BF16), dub = be().empty({n}, DType::BF16);
  Tensor dgf = be().empty({n}, DType::F32), duf = be().empty({n}, DType::F32);
  be().swiglu_backward(dgb, dub, db, gb, ub);
  be().swiglu_backward(dgf, duf, df, gf, uf);
  expect_bf16(dgb, dgf, "dgate");
  expect_bf16(dub, duf, "dup");
}

TEST_P(Bf16Ops, CrossEntropyWithFp32Losses) {
  REQUIRE_BF16(Op::CrossEntropyForward);
  REQUIRE_BF16(Op::CrossEntropyBackward);
  const int N = 9, V = 50;
  auto [zb, zf] = pair(random_vec(N * V, 26, 4.0), {N, V});
  Tensor tg = ids({3, -1, 49, 0, 7, 7, -1, 12, 30});
  Tensor lb = be().empty({N}, DType::F32), lf = be().empty({N}, DType::F32);
  be().cross_entropy_forward(lb, zb, tg);
  be().cross_entropy_forward(lf, zf, tg);
  expect_fp32(lb, lf, "losses");
  EXPECT_EQ(get(lb)[1], 0.0);
  Tensor db = be().empty({N, V}, DType::BF16), df = be().empty({N, V}, DType::F32);
  be().cross_entropy_backward(db, zb, tg, 0.25);
  be().cross_entropy_backward(df, zf, tg, 0.25);
  // Probabilities are small: compare against the largest, not 1.
  Vec gb = get(db), gf = get(df);
  double worst = 0, scale = 0;
  for (size_t i = 0; i < gf.size(); ++i) {
    worst = std::max(worst, std::abs(gb[i] - gf[i]));
    scale = std::max(scale, std::abs(gf[i]));
  }
  EXPECT_LT(worst, kBf16Tol * scale);
  be().cross_entropy_backward(zb, zb, tg, 0.25);  // in place
  EXPECT_EQ(get(zb), gb);
  Tensor l16 = be().empty({N}, DType::BF16);
  EXPECT_THROW(be().cross_entropy_forward(l16, db, tg), Error);
}

TEST_P(Bf16Ops, AdamwOnBf16ParamWithFp32Moments) {
  REQUIRE_BF16(Op::AdamwUpdate);
  const int n = 257;
  auto [pb, pf] = pair(random_vec(n, 27), {n});
  Tensor g = f32(random_vec(n, 28, 0.1), {n});
  Tensor mb = be().zeros({n}, DType::F32), vb = be().zeros({n}, DType::F32);
  Tensor mf = be().zeros({n}, DType::F32), vf = be().zeros({n}, DType::F32);
  for (int t = 1; t <= 3; ++t) {
    be().adamw_update(pb, g, mb, vb, 1e-2, 0.9, 0.95, 1e-8, 0.1, t);
    be().adamw_update(pf, g, mf, vf, 1e-2, 0.9, 0.95, 1e-8, 0.1, t);
    expect_bf16(pb, pf, "param");
    expect_fp32(mb, mf, "m");
    expect_fp32(vb, vf, "v");
    Vec p = get(pb);  // each step compared from the same bf16 start
    be().upload(pf, p.data(), DType::F64);
  }
  Tensor m16 = be().zeros({n}, DType::BF16);
  EXPECT_THROW(be().adamw_update(pb, g, m16, vb, 1e-2, 0.9, 0.95, 1e-8, 0.1, 4), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, Bf16Ops,
                         ::testing::ValuesIn([] {
                           fake_backend();
                           return tensor::registered_devices();
                         }()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;  // "cuda:0" → "cuda_0"
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
}  // namespace nlm::testing
