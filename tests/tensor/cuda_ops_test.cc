// The CUDA backend in BF16 against the CPU backend in fp32: every op on random shapes, odd sizes
// included (N = 1, C = 7, V not a multiple of 32, head sizes 64 and 128), with inputs rounded to
// bf16 first so only the GPU's bf16 storage and its own summation order differ, within bf16
// tolerances. The fp32 path of the same backend runs through the parametrised tests of
// ops_test.cc. Without a CUDA device (or in a build without CUDA) these tests are skipped, and
// say so. Then the parts that run on any machine: the peak-FLOP/s table, the embedding
// backward's id grouping, and the cuBLAS loader.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "model/classifier.h"
#include "tensor/backend.h"
#include "tensor/cpu/reference.h"
#include "tensor_helpers.h"
#ifdef NATIVELM_HAS_CUDA
#include "tensor/cuda/cublas_loader.h"
#include "tensor/cuda/cuda_backend.h"
#include "tensor/cuda/cuda_devices.h"
#endif

namespace nlm::testing {
namespace {

using tensor::DType;
using tensor::Tensor;

bool has_cuda() {
  auto names = tensor::registered_devices();
  return std::find(names.begin(), names.end(), "cuda:0") != names.end();
}

// What CUDA said when it found no GPU, in CUDA builds.
std::string reason() {
#ifdef NATIVELM_HAS_CUDA
  return " (" + tensor::cuda::no_device_reason() + ")";
#else
  return " (a build without CUDA)";
#endif
}

Vec bf16_rounded(Vec v) {
  for (double& x : v) x = tensor::bf16_to_f32(tensor::f32_to_bf16(static_cast<float>(x)));
  return v;
}

// bf16 keeps 8 significant bits: one rounding is 2^-9 relative; sums over a few hundred terms
// in fp32 and a final rounding stay within a few 1e-3 of the fp32 result.
constexpr double kTol = 2e-2;

class CudaBf16 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!has_cuda()) GTEST_SKIP() << "no CUDA device: skipped" << reason();
  }
  tensor::Backend& gpu() { return tensor::backend_for("cuda:0"); }
  tensor::Backend& cpu() { return tensor::backend_for("cpu"); }
  // The same (bf16-rounded) values as a BF16 (or `dt`) GPU tensor and an F32 CPU tensor.
  std::pair<Tensor, Tensor> pair(const Vec& v, tensor::Shape shape, DType dt = DType::BF16) {
    Vec r = dt == DType::BF16 ? bf16_rounded(v) : v;
    return {make(r, shape, dt, gpu()), make(r, shape, DType::F32, cpu())};
  }
  void expect_close(const Tensor& got, const Tensor& want, const std::string& what,
                    double tol = kTol) {
    EXPECT_LT(max_rel_diff(get(got), get(want)), tol) << what;
  }
};

TEST_F(CudaBf16, Matmul) {
  struct Case {
    int N, C, OC;
  };
  uint32_t seed = 100;
  for (Case c : {Case{1, 7, 5}, Case{5, 64, 33}, Case{37, 128, 96}, Case{64, 200, 129}}) {
    const std::string what =
        "N=" + std::to_string(c.N) + " C=" + std::to_string(c.C) + " OC=" + std::to_string(c.OC);
    auto [xg, xc] = pair(random_vec(c.N * c.C, ++seed), {c.N, c.C});
    auto [wg, wc] = pair(random_vec(c.OC * c.C, ++seed, 0.2), {c.OC, c.C});
    auto [bg, bc] = pair(random_vec(c.OC, ++seed), {c.OC});
    auto [dog, doc] = pair(random_vec(c.N * c.OC, ++seed), {c.N, c.OC});
    Tensor og = gpu().empty({c.N, c.OC}, DType::BF16), oc = cpu().empty({c.N, c.OC}, DType::F32);
    gpu().matmul_forward(og, xg, wg, &bg);
    cpu().matmul_forward(oc, xc, wc, &bc);
    expect_close(og, oc, "forward " + what);
    gpu().matmul_forward(og, xg, wg, nullptr);
    cpu().matmul_forward(oc, xc, wc, nullptr);
    expect_close(og, oc, "forward without bias " + what);

    // dinp (=, then +=), dweight and dbias (+= into fp32 buffers that start non-zero).
    Vec dw0 = random_vec(c.OC * c.C, ++seed), db0 = random_vec(c.OC, ++seed);
    Tensor dxg = gpu().empty({c.N, c.C}, DType::BF16), dxc = cpu().empty({c.N, c.C}, DType::F32);
    Tensor dwg = make(dw0, {c.OC, c.C}, DType::F32, gpu()),
           dwc = make(dw0, {c.OC, c.C}, DType::F32, cpu());
    Tensor dbg = make(db0, {c.OC}, DType::F32, gpu()), dbc = make(db0, {c.OC}, DType::F32, cpu());
    gpu().matmul_backward(&dxg, &dwg, &dbg, dog, xg, wg, false);
    cpu().matmul_backward(&dxc, &dwc, &dbc, doc, xc, wc, false);
    expect_close(dxg, dxc, "dinp " + what);
    expect_close(dwg, dwc, "dweight " + what, 1e-3);  // fp32 output: no bf16 rounding
    expect_close(dbg, dbc, "dbias " + what, 1e-3);
    gpu().matmul_backward(&dxg, nullptr, nullptr, dog, xg, wg, true);
    cpu().matmul_backward(&dxc, nullptr, nullptr, doc, xc, wc, true);
    expect_close(dxg, dxc, "dinp += " + what);
    expect_close(dwg, dwc, "dweight untouched " + what, 1e-3);
  }
}

TEST_F(CudaBf16, Rmsnorm) {
  struct Case {
    int N, C;
  };
  uint32_t seed = 200;
  for (Case c : {Case{1, 7}, Case{13, 64}, Case{9, 1000}, Case{300, 128}}) {
    const std::string what = "N=" + std::to_string(c.N) + " C=" + std::to_string(c.C);
    auto [xg, xc] = pair(random_vec(c.N * c.C, ++seed), {c.N, c.C});
    auto [wg, wc] = pair(random_vec(c.C, ++seed), {c.C});
    auto [dyg, dyc] = pair(random_vec(c.N * c.C, ++seed), {c.N, c.C});
    Tensor og = gpu().empty({c.N, c.C}, DType::BF16), oc = cpu().empty({c.N, c.C}, DType::F32);
    Tensor rg = gpu().empty({c.N}, DType::F32), rc = cpu().empty({c.N}, DType::F32);
    gpu().rmsnorm_forward(og, rg, xg, wg, 1e-5);
    cpu().rmsnorm_forward(oc, rc, xc, wc, 1e-5);
    expect_close(og, oc, "forward " + what);
    expect_close(rg, rc, "rstd " + what, 1e-4);
    Vec dx0 = random_vec(c.N * c.C, ++seed);
    auto [dxg, dxc] = pair(dx0, {c.N, c.C});  // dinp accumulates
    Tensor dwg = gpu().zeros({c.C}, DType::F32), dwc = cpu().zeros({c.C}, DType::F32);
    gpu().rmsnorm_backward(dxg, dwg, dyg, xg, wg, rg);
    cpu().rmsnorm_backward(dxc, dwc, dyc, xc, wc, rc);
    expect_close(dxg, dxc, "dinp " + what);
    expect_close(dwg, dwc, "dweight " + what, 1e-3);
  }
}

TEST_F(CudaBf16, RopeForwardAndBackward) {
  for (int D : {64, 128}) {
    const int N = 5, H = 3, P = 40;
    std::vector<int32_t> pos = {0, 1, 17, 39, 3};
    Vec cs(P * D / 2), sn(P * D / 2);
    for (int p = 0; p < P; ++p)
      for (int i = 0; i < D / 2; ++i) {
        double a = p * std::pow(10000.0, -2.0 * i / D);
        cs[p * D / 2 + i] = std::cos(a);
        sn[p * D / 2 + i] = std::sin(a);
      }
    auto [cg, cc] = pair(cs, {P, D / 2}, DType::F32);
    auto [sg, sc] = pair(sn, {P, D / 2}, DType::F32);
    Tensor pg = make_ids(pos, gpu()), pc = make_ids(pos, cpu());
    auto [xg, xc] = pair(random_vec(N * H * D, 300 + D), {N, H, D});
    gpu().rope_forward(xg, pg, cg, sg);
    cpu().rope_forward(xc, pc, cc, sc);
    expect_close(xg, xc, "forward D=" + std::to_string(D));
    gpu().rope_backward(xg, pg, cg, sg);
    cpu().rope_backward(xc, pc, cc, sc);
    expect_close(xg, xc, "backward D=" + std::to_string(D));
  }
}

TEST_F(CudaBf16, Swiglu) {
  uint32_t seed = 400;
  for (int n : {1, 7, 1001}) {
    auto [gg, gc] = pair(random_vec(n, ++seed, 2.0), {n});
    auto [ug, uc] = pair(random_vec(n, ++seed), {n});
    auto [dg, dc] = pair(random_vec(n, ++seed), {n});
    Tensor og = gpu().empty({n}, DType::BF16), oc = cpu().empty({n}, DType::F32);
    gpu().swiglu_forward(og, gg, ug);
    cpu().swiglu_forward(oc, gc, uc);
    expect_close(og, oc, "forward n=" + std::to_string(n));
    Tensor dgg = gpu().empty({n}, DType::BF16), dug = gpu().empty({n}, DType::BF16);
    Tensor dgc = cpu().empty({n}, DType::F32), duc = cpu().empty({n}, DType::F32);
    gpu().swiglu_backward(dgg, dug, dg, gg, ug);
    cpu().swiglu_backward(dgc, duc, dc, gc, uc);
    expect_close(dgg, dgc, "dgate n=" + std::to_string(n));
    expect_close(dug, duc, "dup n=" + std::to_string(n));
  }
}

TEST_F(CudaBf16, CrossEntropyForwardAndBackwardInPlace) {
  uint32_t seed = 500;
  for (int V : {1, 7, 1000, 5003}) {
    const int N = 6;
    std::vector<int32_t> tg = {0, -1, V - 1, V / 2, 0, -5};
    auto [zg, zc] = pair(random_vec(N * V, ++seed, 3.0), {N, V});
    Tensor tgg = make_ids(tg, gpu()), tgc = make_ids(tg, cpu());
    Tensor lg = gpu().empty({N}, DType::F32), lc = cpu().empty({N}, DType::F32);
    gpu().cross_entropy_forward(lg, zg, tgg);
    cpu().cross_entropy_forward(lc, zc, tgc);
    expect_close(lg, lc, "losses V=" + std::to_string(V), 1e-4);
    EXPECT_EQ(get(lg)[1], 0.0);
    Tensor dg = gpu().empty({N, V}, DType::BF16), dc = cpu().empty({N, V}, DType::F32);
    gpu().cross_entropy_backward(dg, zg, tgg, 0.25);
    cpu().cross_entropy_backward(dc, zc, tgc, 0.25);
    expect_close(dg, dc, "dlogits V=" + std::to_string(V), 1e-2);
    gpu().cross_entropy_backward(zg, zg, tgg, 0.25);  // in place
    EXPECT_EQ(get(zg), get(dg)) << "in place V=" << V;
  }
}

// The chunked LM head + cross-entropy of model/classifier.h on the GPU, in chunks of 3 of 10 rows
// (views whose offsets are not the 256-byte alignment a GEMM may assume, a short last chunk, a
// chunk of only ignored targets), against the CPU in fp32 with all rows in one chunk: losses,
// logits, and every backward (fused, per-row weights, given dlogits) into dh (=) and dW (+=).
TEST_F(CudaBf16, ChunkedClassifierMatchesCpu) {
  const int N = 10, C = 24, V = 37;
  auto [hg, hc] = pair(random_vec(N * C, 601), {N, C});
  auto [wg, wc] = pair(random_vec(V * C, 602, 0.5), {V, C});
  const std::vector<int32_t> tg = {0, 5, V - 1, -1, -1, -1, 7, 3, -1, 12};
  Tensor tgg = make_ids(tg, gpu()), tgc = make_ids(tg, cpu());
  Tensor chunk_g = gpu().empty({3, V}, DType::BF16), chunk_c = cpu().empty({N, V}, DType::F32);
  const model::Classifier g{gpu(), hg, wg, tgg, chunk_g}, c{cpu(), hc, wc, tgc, chunk_c};
  Tensor lg = gpu().empty({N}, DType::F32), lc = cpu().empty({N}, DType::F32);
  g.loss(lg);
  c.loss(lc);
  expect_close(lg, lc, "losses", 2e-2);
  EXPECT_EQ(get(lg)[4], 0.0);
  std::vector<float> zg(N * V), zc(N * V);
  g.logits(zg.data());
  c.logits(zc.data());
  EXPECT_LT(max_rel_diff(Vec(zg.begin(), zg.end()), Vec(zc.begin(), zc.end())), kTol) << "logits";
  std::vector<double> w(N);
  for (int n = 0; n < N; ++n) w[static_cast<size_t>(n)] = 0.25 * (n % 3) - 0.3;
  const Vec dv = random_vec(N * V, 603, 0.1);
  const std::vector<float> d(dv.begin(), dv.end());
  for (int variant = 0; variant < 3; ++variant) {
    const std::string what = variant == 0 ? "fused" : variant == 1 ? "weighted" : "given dlogits";
    Tensor dhg = gpu().empty({N, C}, DType::BF16), dhc = cpu().empty({N, C}, DType::F32);
    Tensor dwg = make(Vec(V * C, 0.5), {V, C}, DType::F32, gpu()), dwc = make(Vec(V * C, 0.5), {V, C}, DType::F32, cpu());
    Tensor lfg = gpu().empty({N}, DType::F32), lfc = cpu().empty({N}, DType::F32);
    if (variant == 0) {
      g.backward(dhg, &dwg, 0.125, nullptr, &lfg);
      c.backward(dhc, &dwc, 0.125, nullptr, &lfc);
      expect_close(lfg, lfc, "fused losses", 2e-2);
    } else if (variant == 1) {
      g.backward(dhg, &dwg, 1.0, &w, nullptr);
      c.backward(dhc, &dwc, 1.0, &w, nullptr);
    } else {
      g.backward_from(d.data(), dhg, &dwg);
      c.backward_from(d.data(), dhc, &dwc);
    }
    expect_close(dhg, dhc, what + " dh");
    expect_close(dwg, dwc, what + " dW +=");
  }
}

TEST_F(CudaBf16, CrossEntropyReportsTargetBeyondVocabulary) {
  Tensor z = gpu().zeros({2, 7}, DType::BF16), losses = gpu().empty({2}, DType::F32);
  Tensor tg = make_ids({3, 7}, gpu());
  gpu().cross_entropy_forward(losses, z, tg);
  EXPECT_THROW(gpu().synchronize(), Error);
  gpu().synchronize();  // reported once
}

TEST_F(CudaBf16, RopeReportsPositionBeyondTable) {
  Tensor x = gpu().zeros({2, 1, 64}, DType::BF16);
  Tensor c = gpu().zeros({4, 32}, DType::F32), s = gpu().zeros({4, 32}, DType::F32);
  Tensor pos = make_ids({1, 4}, gpu());
  gpu().rope_forward(x, pos, c, s);
  EXPECT_THROW(get(x), Error);
  EXPECT_NO_THROW(get(x));
}

TEST_F(CudaBf16, EmbeddingForwardAndDeterministicBackward) {
  const int V = 37, C = 65;
  std::vector<int32_t> ids = {3, 0, 36, 3, 3, 12, 0};
  const int N = static_cast<int>(ids.size());
  auto [tg, tc] = pair(random_vec(V * C, 600), {V, C});
  Tensor ig = make_ids(ids, gpu()), ic = make_ids(ids, cpu());
  Tensor og = gpu().empty({N, C}, DType::BF16), oc = cpu().empty({N, C}, DType::F32);
  gpu().embedding_forward(og, ig, tg);
  cpu().embedding_forward(oc, ic, tc);
  EXPECT_EQ(get(og), get(oc));  // a gather: exact
  auto [dg, dc] = pair(random_vec(N * C, 601), {N, C});
  Vec start = random_vec(V * C, 602);
  Tensor dtg = make(start, {V, C}, DType::F32, gpu()), dtc = make(start, {V, C}, DType::F32, cpu());
  gpu().embedding_backward(dtg, dg, ig);
  cpu().embedding_backward(dtc, dc, ic);
  expect_close(dtg, dtc, "dtable", 1e-5);
  // Ids uploaded anew between forward and backward are the ones backward uses.
  std::vector<int32_t> other = {1, 1, 1, 1, 1, 1, 1};
  gpu().upload(ig, other.data(), DType::I32);
  cpu().upload(ic, other.data(), DType::I32);
  gpu().embedding_backward(dtg, dg, ig);
  cpu().embedding_backward(dtc, dc, ic);
  expect_close(dtg, dtc, "dtable after new ids", 1e-5);
  Tensor bad = make_ids({V}, gpu()), one = gpu().empty({1, C}, DType::BF16);
  EXPECT_THROW(gpu().embedding_forward(one, bad, tg), Error);
}

TEST_F(CudaBf16, ElementwiseAndReductions) {
  for (int n : {1, 7, 4099}) {
    Vec a = random_vec(n, 700 + n), b = random_vec(n, 800 + n);
    auto [ag, ac] = pair(a, {n});
    auto [bg, bc] = pair(b, {n});
    EXPECT_NEAR(gpu().sum(ag), cpu().sum(ac), 1e-9 * n);  // same bf16 values, summed in double
    EXPECT_NEAR(gpu().sum_squares(ag), cpu().sum_squares(ac), 1e-9 * n);
    EXPECT_EQ(gpu().sum_squares(ag), gpu().sum_squares(ag));  // a fixed order: same bits
    gpu().add(ag, bg);
    cpu().add(ac, bc);
    expect_close(ag, ac, "add");
    gpu().mul(ag, bg);
    cpu().mul(ac, bc);
    expect_close(ag, ac, "mul");
    gpu().scale(ag, -0.37);
    cpu().scale(ac, -0.37);
    expect_close(ag, ac, "scale");
  }
}

TEST_F(CudaBf16, AdamwOnFp32MasterAndBf16Params) {
  const int n = 1001;
  Vec p = random_vec(n, 900), g = random_vec(n, 901), m = random_vec(n, 902, 0.1),
      v0 = random_vec(n, 903);
  for (double& x : v0) x = x * x;
  for (DType pt : {DType::F32, DType::BF16}) {
    auto [pg, pc] = pair(p, {n}, pt);
    Tensor gg = make(g, {n}, DType::F32, gpu()), gc = make(g, {n}, DType::F32, cpu());
    Tensor mg = make(m, {n}, DType::F32, gpu()), mc = make(m, {n}, DType::F32, cpu());
    Tensor vg = make(v0, {n}, DType::F32, gpu()), vc = make(v0, {n}, DType::F32, cpu());
    gpu().adamw_update(pg, gg, mg, vg, 1e-2, 0.9, 0.95, 1e-8, 0.1, 3);
    cpu().adamw_update(pc, gc, mc, vc, 1e-2, 0.9, 0.95, 1e-8, 0.1, 3);
    expect_close(pg, pc, std::string("param ") + std::string(tensor::dtype_name(pt)),
                 pt == DType::F32 ? 1e-5 : kTol);
    expect_close(mg, mc, "m", 1e-6);
    expect_close(vg, vc, "v", 1e-6);
  }
}

TEST_F(CudaBf16, AttentionForwardBackwardAndCached) {
  struct Case {
    int B, T, NH, NKV, hs;
    bool docs;
  };
  uint32_t seed = 1000;
  for (Case c : {Case{1, 1, 2, 1, 64, false}, Case{2, 37, 4, 2, 64, true},
                 Case{1, 70, 2, 2, 128, false}, Case{2, 19, 6, 3, 128, true}}) {
    const std::string what = "T=" + std::to_string(c.T) + " hs=" + std::to_string(c.hs);
    const tensor::Shape qs = {c.B, c.T, c.NH, c.hs}, ks = {c.B, c.T, c.NKV, c.hs};
    auto [qg, qc] = pair(random_vec(c.B * c.T * c.NH * c.hs, ++seed), qs);
    auto [kg, kc] = pair(random_vec(c.B * c.T * c.NKV * c.hs, ++seed), ks);
    auto [vg, vc] = pair(random_vec(c.B * c.T * c.NKV * c.hs, ++seed), ks);
    auto [dog, doc] = pair(random_vec(c.B * c.T * c.NH * c.hs, ++seed), qs);
    std::vector<int32_t> docs;
    for (int b = 0; b < c.B; ++b)
      for (int t = 0; t < c.T; ++t) docs.push_back(t < c.T / 3 + b ? 0 : 1);
    Tensor dgpu = make_ids(c.docs ? docs : std::vector<int32_t>{0}, gpu());
    Tensor dcpu = make_ids(c.docs ? docs : std::vector<int32_t>{0}, cpu());
    Tensor og = gpu().empty(qs, DType::BF16), oc = cpu().empty(qs, DType::F32);
    std::unique_ptr<tensor::AttentionState> sg, sc;
    gpu().attention_forward(og, sg, qg, kg, vg, c.docs ? &dgpu : nullptr, c.B, c.T);
    cpu().attention_forward(oc, sc, qc, kc, vc, c.docs ? &dcpu : nullptr, c.B, c.T);
    expect_close(og, oc, "forward " + what);
    gpu().zero(og);  // the state keeps its own copy of out
    Tensor dqg = gpu().empty(qs, DType::BF16), dkg = gpu().empty(ks, DType::BF16),
           dvg = gpu().empty(ks, DType::BF16);
    Tensor dqc = cpu().empty(qs, DType::F32), dkc = cpu().empty(ks, DType::F32),
           dvc = cpu().empty(ks, DType::F32);
    gpu().attention_backward(dqg, dkg, dvg, dog, *sg, qg, kg, vg, c.B, c.T);
    cpu().attention_backward(dqc, dkc, dvc, doc, *sc, qc, kc, vc, c.B, c.T);
    expect_close(dqg, dqc, "dq " + what, 5e-2);
    expect_close(dkg, dkc, "dk " + what, 5e-2);
    expect_close(dvg, dvc, "dv " + what, 5e-2);
    if (c.B != 1 || c.docs) continue;
    // Decoding: prefill all but the last token, then the last one.
    const int past = c.T - 1;
    Tensor kcache = kg.reshaped({c.T, c.NKV, c.hs}), vcache = vg.reshaped({c.T, c.NKV, c.hs});
    Tensor q1 = gpu().empty({1, c.NH, c.hs}, DType::BF16),
           o1 = gpu().empty({1, c.NH, c.hs}, DType::BF16);
    gpu().copy_range(q1, 0, qg, int64_t(past) * c.NH * c.hs, int64_t(c.NH) * c.hs);
    gpu().attention_cached(o1, q1, kcache, vcache, past, 1);
    Vec full = get(oc), last(full.end() - c.NH * c.hs, full.end());
    EXPECT_LT(max_rel_diff(get(o1), last), kTol) << "cached " << what;
  }
}

TEST_F(CudaBf16, ConvertAndCopies) {
  Vec a = random_vec(1003, 1100);
  Tensor f = make(a, {1003}, DType::F32, gpu()), h = gpu().empty({1003}, DType::BF16);
  gpu().convert(h, f);
  Vec got = get(h);
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(static_cast<float>(got[i]),
              tensor::bf16_to_f32(tensor::f32_to_bf16(static_cast<float>(a[i]))));
  Tensor c = gpu().zeros({1003}, DType::BF16);
  gpu().copy_range(c, 3, h, 0, 1000);
  Vec cg = get(c);
  EXPECT_EQ(cg[0], 0.0);
  EXPECT_EQ(cg[3], got[0]);
  EXPECT_EQ(cg[1002], got[999]);
  EXPECT_THROW(gpu().copy_range(c, 4, h, 0, 1000), Error);
}

TEST_F(CudaBf16, TensorsOfAnotherBackendAreRefused) {
  Tensor g = gpu().zeros({4}, DType::F32), c = cpu().zeros({4}, DType::F32);
  EXPECT_THROW(gpu().add(g, c), Error);
  EXPECT_THROW(gpu().scale(c, 2.0), Error);
  EXPECT_NO_THROW(gpu().add(g, g));
}

TEST_F(CudaBf16, SupportsBf16AndF32ButNotF64) {
  EXPECT_TRUE(gpu().supports(tensor::Op::MatmulForward, DType::BF16));
  EXPECT_TRUE(gpu().supports(tensor::Op::AttentionCached, DType::F32));
  EXPECT_FALSE(gpu().supports(tensor::Op::MatmulForward, DType::F64));
  EXPECT_GT(gpu().peak_flops(), 1e12);
}

// ---- any machine ------------------------------------------------------------------------------

TEST(CudaDevices, MissingCudaIsAUsageErrorNamingTheBuildOption) {
  if (has_cuda()) GTEST_SKIP() << "a CUDA device is present: the error case cannot happen";
  try {
    tensor::backend_for("cuda");
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(msg.find("this build has: cpu"), std::string::npos) << msg;
    EXPECT_NE(msg.find("-DNATIVELM_CUDA=ON"), std::string::npos) << msg;
  }
}

#ifdef NATIVELM_HAS_CUDA
TEST(CudaDevices, PeakFlopsFollowsTheSpecSheets) {
  using tensor::cuda::spec_peak_flops;
  // H100/H200 SXM report a 1980 MHz boost clock, but the 989.4 TFLOP/s bf16 figure is the spec.
  EXPECT_DOUBLE_EQ(spec_peak_flops(90, 132, 1980000, DType::BF16), 989.4e12);
  EXPECT_NEAR(spec_peak_flops(90, 132, 1980000, DType::F32), 66.9e12, 0.1e12);
  EXPECT_DOUBLE_EQ(spec_peak_flops(80, 108, 1410000, DType::BF16), 312e12);
  EXPECT_NEAR(spec_peak_flops(80, 108, 1410000, DType::F32), 19.5e12, 0.1e12);
  // L40S (sm_89, 142 SMs at 2520 MHz): 362 TFLOP/s dense bf16.
  EXPECT_NEAR(spec_peak_flops(89, 142, 2520000, DType::BF16), 366e12, 5e12);
  // A newer capability takes the newest row; F64 has no figure.
  EXPECT_DOUBLE_EQ(spec_peak_flops(100, 10, 1000000, DType::BF16), 4096.0 * 10 * 1e9);
  EXPECT_EQ(spec_peak_flops(90, 132, 1980000, DType::F64), 0.0);
}

TEST(CudaDevices, EmbeddingGroupsKeepTokenOrderWithinAnId) {
  auto g = tensor::cuda::group_by_id({5, 2, 5, 0, 2, 5});
  const int N = 6;
  ASSERT_EQ(g.segments, 3);
  ASSERT_EQ(g.packed.size(), size_t(N + g.segments + 1 + g.segments));
  std::vector<int32_t> order(g.packed.begin(), g.packed.begin() + N);
  std::vector<int32_t> start(g.packed.begin() + N, g.packed.begin() + N + 4);
  std::vector<int32_t> ids(g.packed.begin() + N + 4, g.packed.end());
  EXPECT_EQ(order, (std::vector<int32_t>{3, 1, 4, 0, 2, 5}));
  EXPECT_EQ(start, (std::vector<int32_t>{0, 1, 3, 6}));
  EXPECT_EQ(ids, (std::vector<int32_t>{0, 2, 5}));
  auto empty = tensor::cuda::group_by_id({});
  EXPECT_EQ(empty.segments, 0);
  EXPECT_EQ(empty.packed, std::vector<int32_t>{0});
}

TEST(CudaDevices, CublasLoadsWithoutAGpu) {
  // dlopen and every symbol lookup work on any machine with the toolkit; no GPU is touched.
  const auto& api = tensor::cuda::cublas();
  EXPECT_NE(api.LtMatmul, nullptr);
  EXPECT_NE(api.GemmEx, nullptr);
  EXPECT_STRNE(api.LtGetStatusString(CUBLAS_STATUS_NOT_SUPPORTED), "");
  EXPECT_EQ(tensor::cuda::cublas_if_loaded(), &api);
}
#endif

}  // namespace
}  // namespace nlm::testing
