// Driver of `scripts/cuda-emulate.sh attention`: calls the CUDA attention API (whose kernels run on
// CPU threads through the stand-in headers here) and compares with the CPU backend's fp64 loop
// kernels, as tests/tensor/cuda_attention_test.cc does on a GPU. Exit status 1 on any mismatch.
//   attention_emu [--all]   (--all adds head size 256 and bf16 at the test's larger shapes)
#include <cstdio>
#include <random>
#include <string>
#include <type_traits>
#include <cuda_bf16.h>
#include "core/error.h"
#include "tensor/cpu/kernels.h"
#include "tensor/cpu/reference.h"
#include "tensor/cuda/flash_attention.h"
#include "tensor/cuda/cuda_check.h"
namespace nlm::tensor::cuda {
void check_cuda(cudaError_t err, const char* call) { if (err) { std::fprintf(stderr, "%s\n", call); std::abort(); } }
void check_launch(const char*) {}
}
namespace nlm::tensor::cpu {
template <> void gemm<float>(bool, bool, int, int, int, float, const float*, int, const float*, int, float, float*, int) { std::abort(); }
template <> void gemm<double>(bool, bool, int, int, int, double, const double*, int, const double*, int, double, double*, int) { std::abort(); }
}
using namespace nlm::tensor;
using Vec = std::vector<double>;
Vec rnd(size_t n, unsigned seed) { std::mt19937 g(seed); std::normal_distribution<double> d; Vec v(n); for (auto& x : v) x = float(d(g)); return v; }
std::vector<float> F(const Vec& v) { return {v.begin(), v.end()}; }
double diff(const std::vector<float>& a, const Vec& b) { double w = 0; for (size_t i = 0; i < b.size(); ++i) w = std::max(w, std::abs(a[i] - b[i]) / std::max(1.0, std::abs(b[i]))); return w; }
int fails = 0;
void report(const char* what, double d, double tol) { std::printf("  %-5s %.2e %s\n", what, d, d < tol ? "ok" : "FAIL"); if (!(d < tol)) ++fails; }
template <class E> E to_e(double x);
template <> float to_e<float>(double x) { return float(x); }
template <> __nv_bfloat16 to_e<__nv_bfloat16>(double x) { return __float2bfloat16_rn(float(x)); }
double from_e(float x) { return x; }
double from_e(__nv_bfloat16 x) { return __bfloat162float(x); }
template <class E> std::vector<E> EV(const Vec& v) { std::vector<E> r; for (double x : v) r.push_back(to_e<E>(x)); return r; }
template <class E> std::vector<float> FV(const std::vector<E>& v) { std::vector<float> r; for (auto x : v) r.push_back(float(from_e(x))); return r; }
Vec round_to(Vec v, bool bf) { if (bf) for (auto& x : v) x = __bfloat162float(__float2bfloat16_rn(float(x))); return v; }
template <class E = float>
void run(int B, int T, int NH, int NKV, int hs, bool docs_on, unsigned seed) {
  constexpr bool bf = !std::is_same_v<E, float>;
  const double tol_o = bf ? 1e-2 : 2e-5, tol_g = bf ? 2e-2 : 1e-4;
  std::printf("B=%d T=%d NH=%d NKV=%d hs=%d docs=%d %s\n", B, T, NH, NKV, hs, docs_on, bf ? "bf16" : "fp32");
  Vec q = round_to(rnd(size_t(B) * T * NH * hs, seed), bf), k = round_to(rnd(size_t(B) * T * NKV * hs, seed + 1), bf), v = round_to(rnd(k.size(), seed + 2), bf), dout = round_to(rnd(q.size(), seed + 3), bf);
  std::vector<int32_t> docs;
  if (docs_on) { std::mt19937 g(seed); for (int b = 0; b < B; ++b) { int id = 0; for (int t = 0; t < T; ++t) { if (g() % 13 == 0) id = (b % 2) ? 1 - id : id + 1; docs.push_back(id);} } }
  const int32_t* dp = docs_on ? docs.data() : nullptr;
  Vec out(q.size()), att(size_t(B) * NH * T * T), dq(q.size()), dk(k.size()), dv(v.size());
  cpu::attention_forward_loops<double>(out.data(), att.data(), q.data(), k.data(), v.data(), dp, B, T, NH, NKV, hs);
  cpu::attention_backward_loops<double>(dq.data(), dk.data(), dv.data(), dout.data(), att.data(), q.data(), k.data(), v.data(), B, T, NH, NKV, hs);
  Vec lse(size_t(B) * NH * T);
  for (int b = 0; b < B; ++b) for (int h = 0; h < NH; ++h) for (int t = 0; t < T; ++t) {
    double s = 0; for (int d = 0; d < hs; ++d) s += q[((size_t(b) * T + t) * NH + h) * hs + d] * k[((size_t(b) * T + t) * NKV + h / (NH / NKV)) * hs + d];
    size_t row = (size_t(b) * NH + h) * T + t; lse[row] = s / std::sqrt(double(hs)) - std::log(att[row * T + t]); }
  auto qf = EV<E>(q), kf = EV<E>(k), vf = EV<E>(v), df = EV<E>(dout);
  std::vector<E> of(q.size()), dqf(q.size()), dkf(k.size()), dvf(v.size());
  std::vector<float> lf(lse.size());
  cuda::flash_attention_forward<E>(of.data(), lf.data(), qf.data(), kf.data(), vf.data(), dp, B, T, NH, NKV, hs, nullptr);
  report("out", diff(FV(of), out), tol_o); report("lse", diff(lf, lse), 2e-5);
  std::vector<float> ws(cuda::flash_attention_backward_workspace(B, T, NH, NKV, hs) / 4);
  cuda::flash_attention_backward<E>(dqf.data(), dkf.data(), dvf.data(), df.data(), of.data(), lf.data(), qf.data(), kf.data(), vf.data(), dp, B, T, NH, NKV, hs, ws.data(), nullptr);
  report("dq", diff(FV(dqf), dq), tol_g); report("dk", diff(FV(dkf), dk), tol_g); report("dv", diff(FV(dvf), dv), tol_g);
}
void cached(int past, int Tq, int NH, int NKV, int hs, unsigned seed) {
  std::printf("cached past=%d Tq=%d NH=%d NKV=%d hs=%d\n", past, Tq, NH, NKV, hs);
  int T = past + Tq;
  Vec q = rnd(size_t(T) * NH * hs, seed), k = rnd(size_t(T) * NKV * hs, seed + 1), v = rnd(k.size(), seed + 2);
  Vec full = reference::attention(q, k, v, {}, 1, T, NH, NKV, hs);
  auto qf = F(Vec(q.begin() + size_t(past) * NH * hs, q.end()));
  auto kf = F(k), vf = F(v); kf.resize(kf.size() + 7 * NKV * hs, NAN); vf.resize(kf.size(), NAN);
  std::vector<float> of(qf.size());
  cuda::attention_cached<float>(of.data(), qf.data(), kf.data(), vf.data(), past, Tq, NH, NKV, hs, nullptr);
  report("out", diff(of, Vec(full.begin() + size_t(past) * NH * hs, full.end())), 2e-5);
}
int main(int argc, char** argv) {
  run(1, 37, 2, 1, 32, false, 1);
  run(2, 37, 4, 2, 64, true, 11);
  run(1, 70, 3, 3, 16, true, 21);
  run(1, 40, 2, 1, 80, false, 31);
  cached(0, 37, 4, 2, 32, 51);
  emu_sms = 4;  // a small GPU, so short caches already split over the keys
  cached(150, 1, 2, 1, 32, 61);
  cached(100, 3, 2, 2, 64, 71);
  cached(70, 40, 2, 1, 16, 81);
  if (argc > 1 && std::string(argv[1]) == "--all") {
    run(1, 33, 2, 2, 256, true, 41);
    run<__nv_bfloat16>(1, 45, 6, 2, 128, true, 43);
    run<__nv_bfloat16>(2, 160, 4, 2, 128, true, 47);
    run<__nv_bfloat16>(1, 129, 6, 2, 64, false, 49);
  }
  std::printf("%s\n", fails ? "FAILURES" : "all ok");
  return fails != 0;
}
