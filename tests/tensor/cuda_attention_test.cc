// The CUDA flash-attention kernels (tensor/cuda/flash_attention.h) against the CPU reference:
// forward (out and logsumexp), backward (dq, dk, dv) and KV-cache decoding, on random shapes with
// odd T, grouped-query heads, head sizes 16 to 256 and document masks, in fp32 (tight tolerance)
// and bf16 (bf16 tolerance). The kernels are called directly on cudaMalloc'ed buffers, without
// the backend class. Without a CUDA device every GPU test skips with "no CUDA device: skipped"
// and CUDA's reason. The file is empty in builds without CUDA.
//
// The comparison code is shared by two implementations: "cuda" (the kernels) and "cpu" (the CPU
// backend's BLAS attention kernels, which exist everywhere). The cpu run exercises, on a machine
// with no GPU, the very reference side, input rounding, logsumexp layout and tolerances that the
// cuda run relies on, so a GPU session only has the kernels left to find wrong.
#ifdef NATIVELM_HAS_CUDA
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "core/error.h"
#include "tensor/cpu/kernels.h"
#include "tensor/cpu/reference.h"
#include "tensor/cuda/flash_attention.h"
#include "tensor/dtype.h"
#include "tensor_helpers.h"

namespace nlm::testing {
namespace {

using Ids = std::vector<int32_t>;
enum class Prec { F32, BF16 };

struct Case {
  int B, T, NH, NKV, hs;
  bool docs;
};

std::string describe(const Case& c, Prec p) {
  return "B=" + std::to_string(c.B) + " T=" + std::to_string(c.T) + " NH=" + std::to_string(c.NH) +
         " NKV=" + std::to_string(c.NKV) + " hs=" + std::to_string(c.hs) +
         (c.docs ? " docs" : "") + (p == Prec::BF16 ? " bf16" : " fp32");
}

// Rounds every value to what `p` can hold, so the reference sees exactly the kernels' inputs.
Vec rounded(Vec v, Prec p) {
  if (p == Prec::BF16)
    for (auto& x : v) x = tensor::bf16_to_f32(tensor::f32_to_bf16(static_cast<float>(x)));
  else
    for (auto& x : v) x = static_cast<float>(x);
  return v;
}

// Document ids per row: runs of random length (some longer than a 32-token tile, so whole tiles
// are masked), and in odd rows an id that comes back after another document (ids need not
// increase; equality is what counts).
Ids random_docs(int B, int T, uint32_t seed) {
  std::mt19937 rng(seed);
  Ids docs;
  for (int b = 0; b < B; ++b) {
    int id = 0, left = 1 + static_cast<int>(rng() % 45);
    for (int t = 0; t < T; ++t) {
      if (left-- == 0) {
        id = (b % 2 == 1 && id == 1) ? 0 : id + 1;
        left = static_cast<int>(rng() % 45);
      }
      docs.push_back(id);
    }
  }
  return docs;
}

struct Problem {
  Case c;
  Vec q, k, v, dout;
  Ids docs;  // empty: no document mask
};

Problem make_problem(const Case& c, Prec p, uint32_t seed) {
  const size_t nq = static_cast<size_t>(c.B) * c.T * c.NH * c.hs,
               nk = static_cast<size_t>(c.B) * c.T * c.NKV * c.hs;
  Problem pr{c, rounded(random_vec(nq, seed), p), rounded(random_vec(nk, seed + 1), p),
             rounded(random_vec(nk, seed + 2), p), rounded(random_vec(nq, seed + 3), p), {}};
  if (c.docs) pr.docs = random_docs(c.B, c.T, seed + 4);
  return pr;
}

struct Outputs {
  Vec out, lse, dq, dk, dv;
};

// lse [B,NH,T] from the probabilities att [B,NH,T,T]: a token always attends to itself, so
// logsumexp_t = s_tt − log P_tt with s_tt = q_t·k_t/√hs.
template <class R>
Vec lse_from_att(const Problem& pr, const std::vector<R>& att) {
  const Case& c = pr.c;
  const int group = c.NH / c.NKV;
  Vec lse(static_cast<size_t>(c.B) * c.NH * c.T);
  for (int b = 0; b < c.B; ++b)
    for (int h = 0; h < c.NH; ++h)
      for (int t = 0; t < c.T; ++t) {
        const double* qt = &pr.q[((static_cast<size_t>(b) * c.T + t) * c.NH + h) * c.hs];
        const double* kt = &pr.k[((static_cast<size_t>(b) * c.T + t) * c.NKV + h / group) * c.hs];
        double s = 0;
        for (int d = 0; d < c.hs; ++d) s += qt[d] * kt[d];
        const size_t row = (static_cast<size_t>(b) * c.NH + h) * c.T + t;
        lse[row] = s / std::sqrt(static_cast<double>(c.hs)) -
                   std::log(static_cast<double>(att[row * c.T + t]));
      }
  return lse;
}

// The reference: the CPU loop kernels in fp64 for out, probabilities and gradients; out is also
// checked against reference::attention, the textbook version.
Outputs reference_outputs(const Problem& pr) {
  const Case& c = pr.c;
  const int32_t* docs = pr.docs.empty() ? nullptr : pr.docs.data();
  Outputs r;
  r.out.resize(pr.q.size());
  Vec att(static_cast<size_t>(c.B) * c.NH * c.T * c.T);
  tensor::cpu::attention_forward_loops<double>(r.out.data(), att.data(), pr.q.data(), pr.k.data(),
                                               pr.v.data(), docs, c.B, c.T, c.NH, c.NKV, c.hs);
  EXPECT_LT(max_rel_diff(r.out, tensor::reference::attention(pr.q, pr.k, pr.v, pr.docs, c.B, c.T,
                                                             c.NH, c.NKV, c.hs)),
            1e-12);
  r.lse = lse_from_att(pr, att);
  r.dq.resize(pr.q.size());
  r.dk.resize(pr.k.size());
  r.dv.resize(pr.v.size());
  tensor::cpu::attention_backward_loops<double>(r.dq.data(), r.dk.data(), r.dv.data(),
                                                pr.dout.data(), att.data(), pr.q.data(),
                                                pr.k.data(), pr.v.data(), c.B, c.T, c.NH, c.NKV,
                                                c.hs);
  return r;
}

// One implementation under test: forward + backward, and cached decoding. Inputs are already
// rounded to the precision; outputs come back as doubles.
class Impl {
 public:
  virtual ~Impl() = default;
  // Empty when it can run here; else why not (the skip message).
  virtual std::string unavailable() const = 0;
  virtual Outputs run(const Problem& pr, Prec p) = 0;
  // q [Tq,NH,hs]; kcache, vcache [Tmax,NKV,hs] with rows 0..past+Tq−1 filled.
  virtual Vec cached(const Vec& q, const Vec& kc, const Vec& vc, int Tmax, int past, int Tq,
                     int NH, int NKV, int hs, Prec p) = 0;
};

// ---- the CPU backend's kernels (float, BLAS), outputs rounded to the precision ---------------
std::vector<float> to_float(const Vec& v) { return {v.begin(), v.end()}; }
Vec to_double(const std::vector<float>& v, Prec p) { return rounded(Vec(v.begin(), v.end()), p); }

class CpuImpl : public Impl {
 public:
  std::string unavailable() const override { return {}; }
  Outputs run(const Problem& pr, Prec p) override {
    const Case& c = pr.c;
    const int32_t* docs = pr.docs.empty() ? nullptr : pr.docs.data();
    auto q = to_float(pr.q), k = to_float(pr.k), v = to_float(pr.v), dout = to_float(pr.dout);
    std::vector<float> out(q.size()), att(static_cast<size_t>(c.B) * c.NH * c.T * c.T);
    tensor::cpu::attention_forward<float>(out.data(), att.data(), q.data(), k.data(), v.data(),
                                          docs, c.B, c.T, c.NH, c.NKV, c.hs);
    std::vector<float> dq(q.size()), dk(k.size()), dv(v.size());
    tensor::cpu::attention_backward<float>(dq.data(), dk.data(), dv.data(), dout.data(),
                                           att.data(), q.data(), k.data(), v.data(), c.B, c.T,
                                           c.NH, c.NKV, c.hs);
    return {to_double(out, p), lse_from_att(pr, att), to_double(dq, p), to_double(dk, p),
            to_double(dv, p)};
  }
  Vec cached(const Vec& q, const Vec& kc, const Vec& vc, int, int past, int Tq, int NH, int NKV,
             int hs, Prec p) override {
    auto qf = to_float(q), kf = to_float(kc), vf = to_float(vc);
    std::vector<float> out(q.size());
    tensor::cpu::attention_cached<float>(out.data(), qf.data(), kf.data(), vf.data(), past, Tq,
                                         NH, NKV, hs);
    return to_double(out, p);
  }
};

// ---- the CUDA kernels -----------------------------------------------------------------------
std::string cuda_unavailable() {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess || n == 0) {
    cudaGetLastError();  // clear the sticky "no device" error
    return std::string("no CUDA device: skipped (") +
           (err != cudaSuccess ? cudaGetErrorString(err) : "none found") + ")";
  }
  return {};
}

void cuda_ok(cudaError_t err, const char* what) {
  ASSERT_EQ(err, cudaSuccess) << what << ": " << cudaGetErrorString(err);
}

// A device buffer of n elements of the precision (or fp32 / int32 for lse, docs, workspace).
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes) : bytes_(bytes) {
    cuda_ok(cudaMalloc(&ptr_, bytes_ ? bytes_ : 1), "cudaMalloc");
  }
  ~DeviceBuffer() { cudaFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <class E>
  E* as() const { return static_cast<E*>(ptr_); }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_;
};

size_t elem_size(Prec p) { return p == Prec::BF16 ? 2 : 4; }

std::unique_ptr<DeviceBuffer> upload(const Vec& v, Prec p) {
  auto buf = std::make_unique<DeviceBuffer>(v.size() * elem_size(p));
  if (p == Prec::BF16) {
    std::vector<uint16_t> h(v.size());
    for (size_t i = 0; i < v.size(); ++i) h[i] = tensor::f32_to_bf16(static_cast<float>(v[i]));
    cuda_ok(cudaMemcpy(buf->as<void>(), h.data(), buf->bytes(), cudaMemcpyHostToDevice), "upload");
  } else {
    auto h = to_float(v);
    cuda_ok(cudaMemcpy(buf->as<void>(), h.data(), buf->bytes(), cudaMemcpyHostToDevice), "upload");
  }
  return buf;
}

Vec download(const DeviceBuffer& buf, size_t n, Prec p) {
  Vec out(n);
  if (p == Prec::BF16) {
    std::vector<uint16_t> h(n);
    cuda_ok(cudaMemcpy(h.data(), buf.as<void>(), n * 2, cudaMemcpyDeviceToHost), "download");
    for (size_t i = 0; i < n; ++i) out[i] = tensor::bf16_to_f32(h[i]);
  } else {
    std::vector<float> h(n);
    cuda_ok(cudaMemcpy(h.data(), buf.as<void>(), n * 4, cudaMemcpyDeviceToHost), "download");
    for (size_t i = 0; i < n; ++i) out[i] = h[i];
  }
  return out;
}

template <class E>
E* dev(const std::unique_ptr<DeviceBuffer>& b) { return b->as<E>(); }

class CudaImpl : public Impl {
 public:
  std::string unavailable() const override { return cuda_unavailable(); }
  Outputs run(const Problem& pr, Prec p) override {
    return p == Prec::BF16 ? run_as<__nv_bfloat16>(pr, p) : run_as<float>(pr, p);
  }
  Vec cached(const Vec& q, const Vec& kc, const Vec& vc, int Tmax, int past, int Tq, int NH,
             int NKV, int hs, Prec p) override {
    return p == Prec::BF16 ? cached_as<__nv_bfloat16>(q, kc, vc, Tmax, past, Tq, NH, NKV, hs, p)
                           : cached_as<float>(q, kc, vc, Tmax, past, Tq, NH, NKV, hs, p);
  }

 private:
  template <class E>
  Outputs run_as(const Problem& pr, Prec p) {
    const Case& c = pr.c;
    auto q = upload(pr.q, p), k = upload(pr.k, p), v = upload(pr.v, p), dout = upload(pr.dout, p);
    auto out = std::make_unique<DeviceBuffer>(pr.q.size() * elem_size(p));
    auto lse = std::make_unique<DeviceBuffer>(static_cast<size_t>(c.B) * c.NH * c.T * 4);
    std::unique_ptr<DeviceBuffer> docs;
    if (!pr.docs.empty()) {
      docs = std::make_unique<DeviceBuffer>(pr.docs.size() * 4);
      cuda_ok(cudaMemcpy(docs->as<void>(), pr.docs.data(), docs->bytes(), cudaMemcpyHostToDevice),
              "upload docs");
    }
    const int32_t* d = docs ? docs->as<int32_t>() : nullptr;
    tensor::cuda::flash_attention_forward<E>(dev<E>(out), dev<float>(lse), dev<E>(q), dev<E>(k),
                                             dev<E>(v), d, c.B, c.T, c.NH, c.NKV, c.hs, nullptr);
    DeviceBuffer ws(tensor::cuda::flash_attention_backward_workspace(c.B, c.T, c.NH, c.NKV, c.hs));
    auto dq = std::make_unique<DeviceBuffer>(pr.q.size() * elem_size(p));
    auto dk = std::make_unique<DeviceBuffer>(pr.k.size() * elem_size(p));
    auto dv = std::make_unique<DeviceBuffer>(pr.v.size() * elem_size(p));
    tensor::cuda::flash_attention_backward<E>(dev<E>(dq), dev<E>(dk), dev<E>(dv), dev<E>(dout),
                                              dev<E>(out), dev<float>(lse), dev<E>(q), dev<E>(k),
                                              dev<E>(v), d, c.B, c.T, c.NH, c.NKV, c.hs,
                                              ws.as<void>(), nullptr);
    cuda_ok(cudaDeviceSynchronize(), "attention kernels");
    return {download(*out, pr.q.size(), p), download(*lse, lse->bytes() / 4, Prec::F32),
            download(*dq, pr.q.size(), p), download(*dk, pr.k.size(), p),
            download(*dv, pr.v.size(), p)};
  }

  template <class E>
  Vec cached_as(const Vec& q, const Vec& kc, const Vec& vc, int Tmax, int past, int Tq, int NH,
                int NKV, int hs, Prec p) {
    // Rows past+Tq .. Tmax−1 of the cache hold NaN: reading them would show in the output.
    Vec kfull(kc), vfull(vc);
    kfull.resize(static_cast<size_t>(Tmax) * NKV * hs, std::numeric_limits<double>::quiet_NaN());
    vfull.resize(kfull.size(), std::numeric_limits<double>::quiet_NaN());
    auto dq = upload(q, p), dk = upload(kfull, p), dv = upload(vfull, p);
    auto out = std::make_unique<DeviceBuffer>(q.size() * elem_size(p));
    tensor::cuda::attention_cached<E>(dev<E>(out), dev<E>(dq), dev<E>(dk), dev<E>(dv), past, Tq,
                                      NH, NKV, hs, nullptr);
    cuda_ok(cudaDeviceSynchronize(), "attention_cached");
    return download(*out, q.size(), p);
  }
};

Impl& impl_named(const std::string& name) {
  static CpuImpl cpu;
  static CudaImpl cuda;
  return name == "cuda" ? static_cast<Impl&>(cuda) : cpu;
}

// ---- the comparisons ------------------------------------------------------------------------
// |a − b| / max(1, |b|) over all elements. fp32: accumulation order only (the kernels' source run
// on CPU threads came within 2e-6). bf16: inputs are exact in both, the kernels round out, dq,
// dk, dv to bf16 (relative 2⁻⁹) and compute D = rowsum(dout·out) from the rounded out, an error
// that dk sums over the queries and the group's heads: 1.1e-2 at T=160 with two heads a group.
struct Tolerance {
  double out, lse, grad;
};
Tolerance tolerance(Prec p) {
  return p == Prec::F32 ? Tolerance{2e-5, 2e-5, 1e-4} : Tolerance{1e-2, 2e-5, 5e-2};
}

class CudaAttention : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string why = impl().unavailable();
    if (!why.empty()) GTEST_SKIP() << why;
  }
  Impl& impl() { return impl_named(GetParam()); }

  void check(const Case& c, Prec p, uint32_t seed) {
    SCOPED_TRACE(describe(c, p));
    const Problem pr = make_problem(c, p, seed);
    const Outputs ref = reference_outputs(pr);
    const Outputs got = impl().run(pr, p);
    const Tolerance tol = tolerance(p);
    EXPECT_LT(max_rel_diff(got.out, ref.out), tol.out) << "out";
    EXPECT_LT(max_rel_diff(got.lse, ref.lse), tol.lse) << "lse";
    EXPECT_LT(max_rel_diff(got.dq, ref.dq), tol.grad) << "dq";
    EXPECT_LT(max_rel_diff(got.dk, ref.dk), tol.grad) << "dk";
    EXPECT_LT(max_rel_diff(got.dv, ref.dv), tol.grad) << "dv";
  }

  // Prefill or decode of Tq tokens at past .. past+Tq−1 against rows of full causal attention.
  void check_cached(int past, int Tq, int NH, int NKV, int hs, Prec p, uint32_t seed) {
    SCOPED_TRACE("cached past=" + std::to_string(past) + " Tq=" + std::to_string(Tq) +
                 " NH=" + std::to_string(NH) + " NKV=" + std::to_string(NKV) +
                 " hs=" + std::to_string(hs) + (p == Prec::BF16 ? " bf16" : " fp32"));
    const int T = past + Tq;
    const Vec q = rounded(random_vec(static_cast<size_t>(T) * NH * hs, seed), p),
              k = rounded(random_vec(static_cast<size_t>(T) * NKV * hs, seed + 1), p),
              v = rounded(random_vec(static_cast<size_t>(T) * NKV * hs, seed + 2), p);
    const Vec full = tensor::reference::attention(q, k, v, {}, 1, T, NH, NKV, hs);
    const size_t first = static_cast<size_t>(past) * NH * hs;
    const Vec qnew(q.begin() + static_cast<ptrdiff_t>(first), q.end());
    const Vec want(full.begin() + static_cast<ptrdiff_t>(first), full.end());
    const Vec got = impl().cached(qnew, k, v, T + 7, past, Tq, NH, NKV, hs, p);
    EXPECT_LT(max_rel_diff(got, want), tolerance(p).out);
  }
};

const Case kCases[] = {
    {1, 1, 4, 2, 64, false},    // one token
    {2, 37, 4, 2, 64, false},   // odd T, GQA
    {2, 37, 4, 2, 64, true},
    {1, 70, 6, 1, 128, false},  // multi-query
    {2, 70, 6, 1, 128, true},
    {2, 33, 4, 4, 16, true},    // small head size (padded to the 32 bucket)
    {1, 41, 2, 1, 80, true},    // head size between buckets
    {1, 100, 4, 2, 64, true},   // several tiles, some skipped by the document mask
    {1, 35, 2, 2, 256, true},   // the largest head size
    {2, 160, 4, 2, 128, true},  // five tiles each way
    {1, 129, 6, 2, 64, false},  // one row past a tile boundary
};

TEST_P(CudaAttention, ForwardBackwardFp32) {
  uint32_t seed = 100;
  for (const Case& c : kCases) check(c, Prec::F32, seed += 10);
}

TEST_P(CudaAttention, ForwardBackwardBf16) {
  uint32_t seed = 500;
  for (const Case& c : kCases) check(c, Prec::BF16, seed += 10);
}

TEST_P(CudaAttention, CachedPrefillAndDecode) {
  uint32_t seed = 900;
  for (Prec p : {Prec::F32, Prec::BF16}) {
    check_cached(0, 37, 4, 2, 64, p, seed += 10);    // prefill, odd length
    check_cached(37, 1, 4, 2, 64, p, seed += 10);    // decode one token
    check_cached(20, 5, 6, 1, 128, p, seed += 10);   // a few tokens, multi-query
    check_cached(300, 1, 4, 2, 64, p, seed += 10);   // long cache: split over the keys
    check_cached(250, 3, 6, 1, 128, p, seed += 10);  // split, several new tokens
    check_cached(1200, 1, 4, 2, 64, p, seed += 10);  // many splits
    check_cached(70, 40, 2, 1, 16, p, seed += 10);   // prefill after a cache, small head
  }
}

INSTANTIATE_TEST_SUITE_P(Impls, CudaAttention, ::testing::Values("cpu", "cuda"),
                         [](const auto& info) { return info.param; });

// The CUDA kernels alone.
class CudaAttentionKernels : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = cuda_unavailable();
    if (!why.empty()) GTEST_SKIP() << why;
  }
};

// Backward without atomics: two runs give the same bits.
TEST_F(CudaAttentionKernels, BackwardIsDeterministic) {
  const Problem pr = make_problem({2, 100, 6, 2, 64, true}, Prec::BF16, 77);
  CudaImpl cuda;
  const Outputs a = cuda.run(pr, Prec::BF16), b = cuda.run(pr, Prec::BF16);
  EXPECT_EQ(a.dq, b.dq);
  EXPECT_EQ(a.dk, b.dk);
  EXPECT_EQ(a.dv, b.dv);
}

// Shape errors are caught on the host before anything touches the GPU, so these run anywhere.
TEST(CudaAttentionShapes, BadShapesAreClearErrors) {
  auto message = [](auto&& call) {
    try {
      call();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  float* none = nullptr;
  EXPECT_NE(message([&] {
              tensor::cuda::flash_attention_forward<float>(none, nullptr, none, none, none,
                                                           nullptr, 1, 8, 4, 2, 257, nullptr);
            }).find("head size over 256"),
            std::string::npos);
  EXPECT_NE(message([&] {
              tensor::cuda::flash_attention_backward<float>(
                  none, none, none, none, none, nullptr, none, none, none, nullptr, 1, 8, 6, 4, 64,
                  nullptr, nullptr);
            }).find("multiple of the key/value heads"),
            std::string::npos);
  EXPECT_NE(message([&] {
              tensor::cuda::attention_cached<float>(none, none, none, none, 4, 1, 4, 0, 64,
                                                    nullptr);
            }).find("must be positive"),
            std::string::npos);
  EXPECT_NE(message([&] {
              tensor::cuda::attention_cached<float>(none, none, none, none, -1, 1, 4, 2, 64,
                                                    nullptr);
            }).find("negative cache length"),
            std::string::npos);
  EXPECT_NE(message([] { tensor::cuda::flash_attention_backward_workspace(1, 8, 4, 3, 64); })
                .find("multiple"),
            std::string::npos);
}

}  // namespace
}  // namespace nlm::testing
#endif  // NATIVELM_HAS_CUDA
