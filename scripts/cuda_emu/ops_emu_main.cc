// Driver of `scripts/cuda-emulate.sh ops`: calls the CUDA backend's kernel launchers
// (src/tensor/cuda/kernels.h; the kernels' own source runs on CPU threads through the stand-in
// headers here) in fp32 and bf16 and compares with plain double loops written from the
// definitions (and reference.h where it has the op), as tests/tensor/cuda_ops_test.cc does on a
// GPU. Inputs are rounded to the element type first, so the tolerances only cover the kernels'
// fp32 arithmetic and their one rounding on store. Exit status 1 on any mismatch.
//   ops_emu [--all] [--only=NAME]   (--all: larger shapes; --only: the groups named NAME)
#include <cstdio>
#include <random>
#include <string>
#include <type_traits>
#include <cuda_bf16.h>
#include "tensor/cpu/reference.h"
#include "tensor/cuda/cuda_backend_groups.h"
#include "tensor/cuda/cuda_check.h"
#include "tensor/cuda/kernels.h"
namespace nlm::tensor::cuda {
void check_cuda(cudaError_t err, const char* call) { if (err) { std::fprintf(stderr, "%s\n", call); std::abort(); } }
void check_launch(const char*) {}
}
using namespace nlm::tensor;
using cuda::bf16;
using Vec = std::vector<double>;
int fails = 0;
void report(const std::string& what, double d, double tol) {
  std::printf("  %-34s %.2e %s\n", what.c_str(), d, d <= tol ? "ok" : "FAIL");
  if (!(d <= tol)) ++fails;
}
void expect(const std::string& what, bool ok) { std::printf("  %-34s %s\n", what.c_str(), ok ? "ok" : "FAIL"); if (!ok) ++fails; }
template <class E> E to_e(double x) { if constexpr (std::is_same_v<E, float>) return float(x); else return __float2bfloat16_rn(float(x)); }
double from_e(float x) { return x; }
double from_e(bf16 x) { return __bfloat162float(x); }
template <class E> std::vector<E> EV(const Vec& v) { std::vector<E> r; for (double x : v) r.push_back(to_e<E>(x)); return r; }
template <class E> Vec DV(const std::vector<E>& v) { Vec r; for (auto x : v) r.push_back(from_e(x)); return r; }
// Random values already representable in E, so the reference sees the kernel's inputs.
template <class E> Vec rnd(size_t n, unsigned seed, double scale = 1) { std::mt19937 g(seed); std::normal_distribution<double> d(0, scale); Vec v(n); for (auto& x : v) x = from_e(to_e<E>(d(g))); return v; }
// Largest |a−b| / max(1, |b|).
double diff(const Vec& a, const Vec& b) {
  if (a.size() != b.size()) return INFINITY;
  double w = 0; for (size_t i = 0; i < b.size(); ++i) { double d = std::abs(a[i] - b[i]) / std::max(1.0, std::abs(b[i])); if (!(d <= w)) w = std::isnan(d) ? INFINITY : d; }
  return w;
}
template <class E> constexpr double out_tol() { return std::is_same_v<E, float> ? 2e-6 : 8e-3; }
template <class E> const char* nm() { return std::is_same_v<E, float> ? "fp32" : "bf16"; }
std::string tag(const char* op, const char* t) { return std::string(op) + " " + t; }

template <class E> void elementwise(int64_t n) {
  std::printf("elementwise %s n=%lld\n", nm<E>(), (long long)n);
  const double tol = out_tol<E>();
  Vec a = rnd<E>(n, 1), b = rnd<E>(n, 2);
  { auto x = EV<E>(a), y = EV<E>(b); cuda::add<E>(x.data(), y.data(), n, nullptr); Vec r(n); for (int64_t i = 0; i < n; ++i) r[i] = a[i] + b[i]; report("add", diff(DV(x), r), tol); }
  { auto x = EV<E>(a); cuda::scale<E>(x.data(), n, -0.37f, nullptr); Vec r(n); for (int64_t i = 0; i < n; ++i) r[i] = a[i] * double(-0.37f); report("scale", diff(DV(x), r), tol); }
  { auto x = EV<E>(a), y = EV<E>(b); cuda::mul<E>(x.data(), y.data(), n, nullptr); Vec r(n); for (int64_t i = 0; i < n; ++i) r[i] = a[i] * b[i]; report("mul", diff(DV(x), r), tol); }
  { const int OC = 37; const int64_t N = n / OC; Vec bias = rnd<E>(OC, 3); auto x = EV<E>(Vec(a.begin(), a.begin() + N * OC)); auto bb = EV<E>(bias);
    cuda::add_bias<E>(x.data(), bb.data(), N, OC, nullptr); Vec r(N * OC); for (int64_t i = 0; i < N * OC; ++i) r[i] = a[i] + bias[i % OC]; report("add_bias", diff(DV(x), r), tol); }
  { auto g = EV<E>(a), u = EV<E>(b); std::vector<E> out(n); cuda::swiglu_forward<E>(out.data(), g.data(), u.data(), n, nullptr);
    report("swiglu_forward", diff(DV(out), reference::swiglu(a, b)), 4 * tol);
    Vec dout = rnd<E>(n, 4); auto d = EV<E>(dout); std::vector<E> dg(n), du(n);
    cuda::swiglu_backward<E>(dg.data(), du.data(), d.data(), g.data(), u.data(), n, nullptr);
    Vec rg(n), ru(n);
    for (int64_t i = 0; i < n; ++i) { double s = 1 / (1 + std::exp(-a[i])); ru[i] = dout[i] * a[i] * s; rg[i] = dout[i] * b[i] * (s + a[i] * s * (1 - s)); }
    report("swiglu_backward dgate", diff(DV(dg), rg), 4 * tol); report("swiglu_backward dup", diff(DV(du), ru), 4 * tol); }
  { std::vector<float> fs(a.begin(), a.end()); fs[0] = 1.00390625f; fs[1] = 1.01171875f;  // ties: to even (1.0, 1.015625)
    std::vector<bf16> h(n); cuda::convert<float, bf16>(h.data(), fs.data(), n, nullptr);
    std::vector<float> back(n); cuda::convert<bf16, float>(back.data(), h.data(), n, nullptr);
    Vec r(n); for (int64_t i = 0; i < n; ++i) r[i] = from_e(to_e<bf16>(fs[i]));
    report("convert fp32->bf16->fp32", diff(Vec(back.begin(), back.end()), r), 0);
    expect("convert rounds ties to even", back[0] == 1.0f && back[1] == 1.015625f); }
}

template <class P> void adamw(int64_t n) {
  std::printf("adamw param %s n=%lld\n", nm<P>(), (long long)n);
  Vec p = rnd<P>(n, 5), g = rnd<float>(n, 6), m = rnd<float>(n, 7, 0.1), v = rnd<float>(n, 8, 0.1);
  for (auto& x : v) x = std::abs(x);
  auto pp = EV<P>(p); std::vector<float> gf(g.begin(), g.end()), mf(m.begin(), m.end()), vf(v.begin(), v.end());
  const float lr = 1e-2f, b1 = 0.9f, b2 = 0.95f, eps = 1e-8f, wd = 0.1f, c1 = 1 / (1 - 0.9f * 0.9f), c2 = 1 / (1 - 0.95f * 0.95f);
  cuda::adamw_update<P>(pp.data(), gf.data(), mf.data(), vf.data(), n, lr, b1, b2, eps, wd, c1, c2, nullptr);
  Vec rp(n), rm(n), rv(n);
  for (int64_t i = 0; i < n; ++i) { rm[i] = b1 * m[i] + (1 - double(b1)) * g[i]; rv[i] = b2 * v[i] + (1 - double(b2)) * g[i] * g[i];
    rp[i] = p[i] - lr * ((rm[i] * c1) / (std::sqrt(rv[i] * c2) + eps) + wd * p[i]); }
  report("adamw m", diff(Vec(mf.begin(), mf.end()), rm), 2e-6); report("adamw v", diff(Vec(vf.begin(), vf.end()), rv), 2e-6);
  report("adamw param", diff(DV(pp), rp), out_tol<P>());
}

template <class E> void reductions(int64_t n) {
  std::printf("reduce_sum %s n=%lld\n", nm<E>(), (long long)n);
  Vec a = rnd<E>(n, 9); auto x = EV<E>(a);
  std::vector<double> scratch(cuda::reduce_scratch_doubles(), NAN);
  double s = NAN, q = NAN, rs = 0, rq = 0;
  for (double v : a) { rs += v; rq += v * v; }
  cuda::reduce_sum<E>(&s, scratch.data(), x.data(), n, false, nullptr);
  cuda::reduce_sum<E>(&q, scratch.data(), x.data(), n, true, nullptr);
  report("sum", std::abs(s - rs) / std::max(1.0, std::abs(rs)), 1e-12);
  report("sum_squares", std::abs(q - rq) / std::max(1.0, rq), 1e-12);
}

template <class E> void bias_grad(int N, int OC) {
  std::printf("bias_grad %s N=%d OC=%d\n", nm<E>(), N, OC);
  Vec d = rnd<E>(size_t(N) * OC, 10); auto df = EV<E>(d);
  Vec b0 = rnd<float>(OC, 11); std::vector<float> db(b0.begin(), b0.end()), scratch(cuda::bias_grad_scratch_floats(OC), NAN);
  cuda::bias_grad<E>(db.data(), scratch.data(), df.data(), N, OC, nullptr);
  Vec r = b0; for (int n = 0; n < N; ++n) for (int c = 0; c < OC; ++c) r[c] += d[size_t(n) * OC + c];
  report("dbias +=", diff(Vec(db.begin(), db.end()), r), 1e-5 * std::sqrt(double(N)));
}

template <class E> void rmsnorm(int N, int C) {
  std::printf("rmsnorm %s N=%d C=%d\n", nm<E>(), N, C);
  const float eps = 1e-5f;
  Vec x = rnd<E>(size_t(N) * C, 12), w = rnd<E>(C, 13), dout = rnd<E>(x.size(), 14), dx0 = rnd<E>(x.size(), 15), dw0 = rnd<float>(C, 16);
  auto xf = EV<E>(x), wf = EV<E>(w), df = EV<E>(dout), dxf = EV<E>(dx0);
  std::vector<E> out(x.size()); std::vector<float> rstd(N, NAN), dw(dw0.begin(), dw0.end()), scratch(cuda::rmsnorm_backward_scratch_floats(N, C), NAN);
  cuda::rmsnorm_forward<E>(out.data(), rstd.data(), xf.data(), wf.data(), N, C, eps, nullptr);
  report("rmsnorm_forward", diff(DV(out), reference::rmsnorm(x, w, N, C, eps)), 4 * out_tol<E>());
  Vec rr(N), rdx = dx0, rdw = dw0;
  for (int n = 0; n < N; ++n) {
    double ss = 0; for (int c = 0; c < C; ++c) ss += x[size_t(n) * C + c] * x[size_t(n) * C + c];
    const double r = 1 / std::sqrt(ss / C + double(eps)); rr[n] = r;
    double dot = 0; for (int c = 0; c < C; ++c) dot += dout[size_t(n) * C + c] * w[c] * x[size_t(n) * C + c] * r;
    for (int c = 0; c < C; ++c) { size_t i = size_t(n) * C + c; rdx[i] += r * (dout[i] * w[c] - x[i] * r * dot / C); rdw[c] += dout[i] * x[i] * r; }
  }
  report("rmsnorm rstd", diff(Vec(rstd.begin(), rstd.end()), rr), 1e-5);
  cuda::rmsnorm_backward<E>(dxf.data(), dw.data(), scratch.data(), df.data(), xf.data(), wf.data(), rstd.data(), N, C, nullptr);
  report("rmsnorm_backward dinp +=", diff(DV(dxf), rdx), 4 * out_tol<E>());
  report("rmsnorm_backward dweight +=", diff(Vec(dw.begin(), dw.end()), rdw), 1e-4);
}

template <class E> void rope(int N, int H, int D, int P) {
  std::printf("rope %s N=%d H=%d D=%d P=%d\n", nm<E>(), N, H, D, P);
  const double theta = 10000; const int half = D / 2;
  std::vector<float> cs(size_t(P) * half), sn(cs.size());
  for (int p = 0; p < P; ++p) for (int i = 0; i < half; ++i) { double a = p * std::pow(theta, -2.0 * i / D); cs[size_t(p) * half + i] = float(std::cos(a)); sn[size_t(p) * half + i] = float(std::sin(a)); }
  std::vector<int32_t> pos(N); for (int n = 0; n < N; ++n) pos[n] = (n * 7 + 3) % P;
  Vec x = rnd<E>(size_t(N) * H * D, 17); auto xf = EV<E>(x);
  cuda::DeviceError err{};
  cuda::rope_rotate<E>(xf.data(), pos.data(), cs.data(), sn.data(), N, H, D, P, 1, &err, nullptr);
  const double tol = std::is_same_v<E, float> ? 1e-5 : 1e-2;
  report("rope forward", diff(DV(xf), reference::rope(x, pos, N, H, D, theta)), tol);
  // Backward: the transpose (rotation by −θ) of a gradient, against the explicit formula.
  Vec g = rnd<E>(x.size(), 18), r(x.size()); auto gf = EV<E>(g);
  for (int n = 0; n < N; ++n) for (int h = 0; h < H; ++h) for (int i = 0; i < half; ++i) {
    size_t o = (size_t(n) * H + h) * D; double c = cs[size_t(pos[n]) * half + i], s = sn[size_t(pos[n]) * half + i];
    r[o + i] = g[o + i] * c + g[o + i + half] * s; r[o + i + half] = -g[o + i] * s + g[o + i + half] * c; }
  cuda::rope_rotate<E>(gf.data(), pos.data(), cs.data(), sn.data(), N, H, D, P, -1, &err, nullptr);
  report("rope backward", diff(DV(gf), r), tol);
  expect("rope: no error reported", err.code == 0);
  pos[1] = P; auto yf = EV<E>(x);
  cuda::rope_rotate<E>(yf.data(), pos.data(), cs.data(), sn.data(), N, H, D, P, 1, &err, nullptr);
  expect("rope: bad position reported", err.code == cuda::kBadPosition && err.value == P && err.limit == P && err.row == 1);
  const Vec y = DV(yf);
  expect("rope: bad position row untouched", diff(Vec(y.begin() + H * D, y.begin() + 2 * H * D), Vec(x.begin() + H * D, x.begin() + 2 * H * D)) == 0);
}

template <class E> void embedding(int V, int C) {
  std::printf("embedding %s V=%d C=%d\n", nm<E>(), V, C);
  std::vector<int32_t> ids = {3, 0, 3, V - 1, 5, 3, 0, 7, 5, 3, 1};
  const int N = int(ids.size());
  Vec table = rnd<E>(size_t(V) * C, 19); auto tf = EV<E>(table);
  std::vector<E> out(size_t(N) * C); cuda::DeviceError err{};
  cuda::embedding_forward<E>(out.data(), ids.data(), tf.data(), N, C, V, &err, nullptr);
  Vec r(out.size()); for (int n = 0; n < N; ++n) for (int c = 0; c < C; ++c) r[size_t(n) * C + c] = table[size_t(ids[n]) * C + c];
  report("embedding_forward", diff(DV(out), r), 0); expect("embedding: no error", err.code == 0);
  Vec dout = rnd<E>(out.size(), 20), dt0 = rnd<float>(table.size(), 21); auto df = EV<E>(dout);
  std::vector<float> dt(dt0.begin(), dt0.end());
  const cuda::IdGroups gr = cuda::group_by_id(ids);
  const int32_t* pk = gr.packed.data();
  cuda::embedding_backward<E>(dt.data(), df.data(), pk, pk + N, pk + N + gr.segments + 1, gr.segments, C, nullptr);
  Vec rd = dt0; for (int n = 0; n < N; ++n) for (int c = 0; c < C; ++c) rd[size_t(ids[n]) * C + c] += dout[size_t(n) * C + c];
  report("embedding_backward dtable +=", diff(Vec(dt.begin(), dt.end()), rd), 1e-6);
  ids[4] = V; ids[6] = -2;
  cuda::embedding_forward<E>(out.data(), ids.data(), tf.data(), N, C, V, &err, nullptr);
  bool zero = true; for (int c = 0; c < C; ++c) zero &= from_e(out[size_t(4) * C + c]) == 0 && from_e(out[size_t(6) * C + c]) == 0;
  // Two bad rows race to report (on a GPU too): the error names one of them, with its own id.
  const bool named = (err.row == 4 && err.value == V) || (err.row == 6 && err.value == -2);
  expect("embedding: bad id reported, zero rows", err.code == cuda::kBadTokenId && named && zero);
}

template <class E> void classifier(int N, int V) {
  std::printf("cross_entropy %s N=%d V=%d\n", nm<E>(), N, V);
  Vec z = rnd<E>(size_t(N) * V, 22, 3);
  std::vector<int32_t> t(N); for (int n = 0; n < N; ++n) t[n] = n == 1 ? -1 : int32_t((n * 2654435761u) % V);
  auto zf = EV<E>(z); std::vector<float> losses(N, NAN); cuda::DeviceError err{};
  cuda::cross_entropy_forward<E>(losses.data(), zf.data(), t.data(), N, V, &err, nullptr);
  report("cross_entropy_forward", diff(Vec(losses.begin(), losses.end()), reference::cross_entropy(z, t, N, V)), 1e-5);
  const float scale = 1.0f / N;
  Vec rd(z.size(), 0);
  for (int n = 0; n < N; ++n) { if (t[n] < 0) continue; double m = -INFINITY, s = 0; for (int v = 0; v < V; ++v) m = std::max(m, z[size_t(n) * V + v]);
    for (int v = 0; v < V; ++v) s += std::exp(z[size_t(n) * V + v] - m);
    for (int v = 0; v < V; ++v) rd[size_t(n) * V + v] = scale * (std::exp(z[size_t(n) * V + v] - m) / s - (v == t[n])); }
  std::vector<E> d(z.size(), to_e<E>(NAN));
  cuda::cross_entropy_backward<E>(d.data(), zf.data(), t.data(), N, V, scale, &err, nullptr);
  const double tol = std::is_same_v<E, float> ? 1e-6 : 4e-3;
  report("cross_entropy_backward", diff(DV(d), rd), tol);
  cuda::cross_entropy_backward<E>(zf.data(), zf.data(), t.data(), N, V, scale, &err, nullptr);
  report("cross_entropy_backward in place", diff(DV(zf), rd), tol);
  expect("cross_entropy: no error (ignored target)", err.code == 0);
  t[N - 1] = V; zf = EV<E>(z);
  cuda::cross_entropy_forward<E>(losses.data(), zf.data(), t.data(), N, V, &err, nullptr);
  expect("cross_entropy: bad target reported", err.code == cuda::kBadTarget && err.value == V && err.row == N - 1 && losses[N - 1] == 0);
}

std::string only;  // run only the groups whose name contains this (argument --only=NAME)
bool want(const char* group) { return only.empty() || std::string(group).find(only) != std::string::npos; }
template <class E> void all_ops(bool more) {
  if (want("elementwise")) elementwise<E>(1000);
  if (want("adamw")) adamw<E>(777);
  if (want("reduce_sum")) reductions<E>(more ? 300007 : 70001);
  if (more && want("reduce_sum")) reductions<E>(0);
  if (want("bias_grad")) { bias_grad<E>(70, 77); bias_grad<E>(1, 33); }
  if (want("rmsnorm")) { rmsnorm<E>(5, 300); rmsnorm<E>(1, 7); }
  if (more && want("rmsnorm")) rmsnorm<E>(300, 40);  // more rows than backward blocks
  if (want("rope")) rope<E>(6, 3, 16, 10);
  if (want("embedding")) { embedding<E>(9, 300); embedding<E>(9, 7); }
  if (want("cross_entropy")) { classifier<E>(4, 1); classifier<E>(4, 37); classifier<E>(3, 5003); }
}

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  bool more = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--all") more = true;
    else if (a.rfind("--only=", 0) == 0) only = a.substr(7);
    else { std::fprintf(stderr, "usage: ops_emu [--all] [--only=NAME]\n"); return 2; }
  }
  all_ops<float>(more);
  all_ops<bf16>(more);
  std::printf("%s\n", fails ? "FAILURES" : "all ok");
  return fails != 0;
}
