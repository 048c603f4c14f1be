// BF16 ops of the CPU backend through fp32 scratch (see bf16_ops.h).
#include "tensor/cpu/bf16_ops.h"

#include <omp.h>

#include <cstring>
#include <vector>

#include "tensor/cpu/kernels.h"
#include "tensor/dtype.h"

namespace nlm::tensor::cpu::bf16 {

namespace {

// Per-thread fp32 buffers, one per operand slot of an op, grown to the largest size asked and
// then reused: an op never allocates once a step's shapes have been seen. Per thread, because
// the process-wide backend may be called from several threads (the server's worker and a test).
class Workspace {
 public:
  static constexpr int kSlots = 7;
  float* get(int slot, int64_t n) {
    std::vector<float>& b = bufs_[slot];
    if (b.size() < static_cast<size_t>(n)) b.resize(static_cast<size_t>(n));
    return b.data();
  }

 private:
  std::vector<float> bufs_[kSlots];
};
thread_local Workspace workspace;

// Parallel only where it pays: converting a few thousand elements is cheaper than waking threads.
constexpr int64_t kParallelMin = 1 << 15;

const uint16_t* bits(const Tensor& t) { return t.as<uint16_t>(); }
uint16_t* bits(Tensor& t) { return t.as<uint16_t>(); }

void widen(const uint16_t* src, float* dst, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
}
void narrow(const float* src, uint16_t* dst, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
}

// The first n elements of t (all by default) widened into scratch slot `slot`.
float* load(const Tensor& t, int slot, int64_t n = -1) {
  if (n < 0) n = t.numel();
  float* f = workspace.get(slot, n);
  widen(bits(t), f, n);
  return f;
}
// Uninitialised scratch for an output the kernel overwrites.
float* scratch(const Tensor& t, int slot) { return workspace.get(slot, t.numel()); }
// Rounds an fp32 result into t, once.
void store(const float* f, Tensor& t) { narrow(f, bits(t), t.numel()); }

}  // namespace

// Elementwise ops need no scratch: each element is widened, computed in fp32 and rounded.
void add(Tensor& a, const Tensor& b) {
  uint16_t* x = bits(a);
  const uint16_t* y = bits(b);
  const int64_t n = a.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) x[i] = f32_to_bf16(bf16_to_f32(x[i]) + bf16_to_f32(y[i]));
}
void scale(Tensor& t, double s) {
  uint16_t* x = bits(t);
  const float f = static_cast<float>(s);
  const int64_t n = t.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) x[i] = f32_to_bf16(bf16_to_f32(x[i]) * f);
}
void mul(Tensor& a, const Tensor& b) {
  uint16_t* x = bits(a);
  const uint16_t* y = bits(b);
  const int64_t n = a.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) x[i] = f32_to_bf16(bf16_to_f32(x[i]) * bf16_to_f32(y[i]));
}
// Through the fp32 kernels, whose fixed blocks make the sums independent of the thread count.
double sum(const Tensor& x) { return cpu::sum<float>(load(x, 0), x.numel()); }
double sum_squares(const Tensor& x) { return cpu::sum_squares<float>(load(x, 0), x.numel()); }

// A row gather copies bf16 bits unchanged: nothing to widen (the table may be the whole vocabulary).
void embedding_forward(Tensor& out, const int32_t* ids, const Tensor& table, int N, int C) {
  uint16_t* o = bits(out);
  const uint16_t* t = bits(table);
#pragma omp parallel for schedule(static) if (int64_t(N) * C >= kParallelMin)
  for (int n = 0; n < N; ++n)
    std::memcpy(o + int64_t(n) * C, t + int64_t(ids[n]) * C, sizeof(uint16_t) * C);
}
void embedding_backward(float* dtable, const Tensor& dout, const int32_t* ids, int N, int C) {
  cpu::embedding_backward<float>(dtable, load(dout, 0), ids, N, C);
}

void matmul_forward(Tensor& out, const Tensor& inp, const Tensor& weight, const Tensor* bias,
                    int N, int C, int OC) {
  float* o = scratch(out, 3);
  cpu::matmul_forward<float>(o, load(inp, 0), load(weight, 1), bias ? load(*bias, 2) : nullptr, N,
                             C, OC);
  store(o, out);
}
void matmul_backward(Tensor* dinp, float* dweight, float* dbias, const Tensor& dout,
                     const Tensor& inp, const Tensor& weight, int N, int C, int OC,
                     bool accumulate_dinp) {
  // Only what the asked-for gradients read is widened: a frozen weight skips inp.
  const float* g = load(dout, 0);
  const float* x = dweight ? load(inp, 1) : nullptr;
  const float* w = dinp ? load(weight, 2) : nullptr;
  float* dx = !dinp ? nullptr : accumulate_dinp ? load(*dinp, 3) : scratch(*dinp, 3);
  cpu::matmul_backward<float>(dx, dweight, dbias, g, x, w, N, C, OC, accumulate_dinp);
  if (dinp) store(dx, *dinp);
}

void rmsnorm_forward(Tensor& out, float* rstd, const Tensor& inp, const Tensor& weight, int N,
                     int C, float eps) {
  float* o = scratch(out, 2);
  cpu::rmsnorm_forward<float>(o, rstd, load(inp, 0), load(weight, 1), N, C, eps);
  store(o, out);
}
void rmsnorm_backward(Tensor& dinp, float* dweight, const Tensor& dout, const Tensor& inp,
                      const Tensor& weight, const float* rstd, int N, int C) {
  float* dx = load(dinp, 0);  // accumulates
  cpu::rmsnorm_backward<float>(dx, dweight, load(dout, 1), load(inp, 2), load(weight, 3), rstd, N,
                               C);
  store(dx, dinp);
}

void rope_rotate(Tensor& x, const int32_t* pos, const float* cos, const float* sin, int N, int H,
                 int D, int sign) {
  float* f = load(x, 0);
  cpu::rope_rotate<float>(f, pos, cos, sin, N, H, D, sign);
  store(f, x);
}

void attention_forward(Tensor& out, float* att, const Tensor& q, const Tensor& k, const Tensor& v,
                       const int32_t* docs, int B, int T, int NH, int NKV, int hs) {
  float* o = scratch(out, 3);
  cpu::attention_forward<float>(o, att, load(q, 0), load(k, 1), load(v, 2), docs, B, T, NH, NKV, hs);
  store(o, out);
}
void attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const float* att,
                        const Tensor& q, const Tensor& k, const Tensor& v, int B, int T, int NH,
                        int NKV, int hs) {
  float *fdq = scratch(dq, 4), *fdk = scratch(dk, 5), *fdv = scratch(dv, 6);
  cpu::attention_backward<float>(fdq, fdk, fdv, load(dout, 0), att, load(q, 1), load(k, 2),
                                 load(v, 3), B, T, NH, NKV, hs);
  store(fdq, dq);
  store(fdk, dk);
  store(fdv, dv);
}
void attention_cached(Tensor& out, const Tensor& q, const Tensor& kcache, const Tensor& vcache,
                      int past, int Tq, int NH, int NKV, int hs) {
  const int64_t rows = int64_t(past + Tq) * NKV * hs;
  float* o = scratch(out, 3);
  cpu::attention_cached<float>(o, load(q, 0), load(kcache, 1, rows), load(vcache, 2, rows), past, Tq,
                               NH, NKV, hs);
  store(o, out);
}

void swiglu_forward(Tensor& out, const Tensor& gate, const Tensor& up) {
  float* o = scratch(out, 2);
  cpu::swiglu_forward<float>(o, load(gate, 0), load(up, 1), out.numel());
  store(o, out);
}
void swiglu_backward(Tensor& dgate, Tensor& dup, const Tensor& dout, const Tensor& gate,
                     const Tensor& up) {
  float *dg = scratch(dgate, 3), *du = scratch(dup, 4);
  cpu::swiglu_backward<float>(dg, du, load(dout, 0), load(gate, 1), load(up, 2), gate.numel());
  store(dg, dgate);
  store(du, dup);
}

void cross_entropy_forward(float* losses, const Tensor& logits, const int32_t* targets, int N,
                           int V) {
  cpu::cross_entropy_forward<float>(losses, load(logits, 0), targets, N, V);
}
void cross_entropy_backward(Tensor& dlogits, const Tensor& logits, const int32_t* targets, int N,
                            int V, float scale) {
  // In place in the scratch copy, so dlogits may alias logits.
  float* f = load(logits, 0);
  cpu::cross_entropy_backward<float>(f, f, targets, N, V, scale);
  store(f, dlogits);
}

void adamw_update(Tensor& param, const float* grad, float* m, float* v, double lr, double beta1,
                  double beta2, double eps, double weight_decay, int64_t t) {
  float* p = load(param, 0);
  cpu::adamw_update<float>(p, grad, m, v, param.numel(), lr, beta1, beta2, eps, weight_decay, t);
  store(p, param);
}

}  // namespace nlm::tensor::cpu::bf16
