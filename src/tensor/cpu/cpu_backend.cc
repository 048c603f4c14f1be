// CpuBackend: shape and dtype checks, then dispatch to the templated kernels (see cpu_backend.h),
// or for BF16 data to bf16_ops.h, which runs the same fp32 kernels on widened copies.
#include "tensor/cpu/cpu_backend.h"

#include <cblas.h>
#include <omp.h>

#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/runtime.h"
#include "tensor/cpu/bf16_ops.h"
#include "tensor/cpu/kernels.h"
#include "tensor/cpu/sgemm_peak.h"
#include "tensor/op_checks.h"

extern "C" void openblas_set_num_threads(int num_threads);

namespace nlm::tensor {

namespace {

constexpr const char* kBackend = "cpu backend";
using op_checks::last;
using op_checks::rows;
void check(bool ok, const char* op, const std::string& what) {
  op_checks::check(ok, kBackend, op, what);
}
void same_shape(const Tensor& a, const Tensor& b, const char* op) {
  op_checks::same_shape(kBackend, a, b, op);
}
void same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  op_checks::same_dtype(kBackend, a, b, op);
}
void ints(const Tensor& t, const char* op) {
  op_checks::ints(kBackend, t, op);
}
// The op's data dtype: F32, F64 or BF16.
void floating(const Tensor& t, const char* op) {
  check(t.dtype() == DType::F32 || t.dtype() == DType::F64 || t.dtype() == DType::BF16, op,
        "expected F32, F64 or BF16, got " + std::string(dtype_name(t.dtype())));
}
// `t` (a gradient, rstd, losses, a rope table, an AdamW moment) is in the accumulation dtype
// of the op's data dtype (backend.h): F32 for BF16 data, the data dtype itself otherwise.
void accum(const Tensor& t, const Tensor& data, const char* op, const char* what) {
  const DType want = accum_dtype(data.dtype());
  check(t.dtype() == want, op,
        std::string(what) + " must be " + std::string(dtype_name(want)) + " for " +
            std::string(dtype_name(data.dtype())) + " data, got " +
            std::string(dtype_name(t.dtype())));
}
bool bf16(const Tensor& t) { return t.dtype() == DType::BF16; }

// Runs body with T = float or double according to the tensor's dtype.
#define NLM_DISPATCH(tensor, ...)            \
  do {                                       \
    if ((tensor).dtype() == DType::F32) {    \
      using T = float;                       \
      __VA_ARGS__;                           \
    } else {                                 \
      using T = double;                      \
      __VA_ARGS__;                           \
    }                                        \
  } while (0)

template <class T>
const T* ptr_or_null(const Tensor* t) {
  return t ? t->as<T>() : nullptr;
}
template <class T>
T* mut_or_null(Tensor* t) {
  return t ? t->as<T>() : nullptr;
}

// The softmax probabilities P [B,NH,T,T] of one attention_forward, in the accumulation dtype
// (fp32 for BF16 attention).
struct CpuAttentionState final : AttentionState {
  Tensor att;
  int B = 0, T = 0;
};

}  // namespace

CpuBackend::CpuBackend(int threads) { set_threads(threads); }

void CpuBackend::set_threads(int threads) {
  threads_ = threads > 0 ? threads : thread_count();
  omp_set_num_threads(threads_);
  // OpenMP is the only thread pool: kernels split work into blocks and call single-threaded
  // OpenBLAS on each, so BLAS threads never spin against OpenMP threads for the same cores.
  openblas_set_num_threads(1);
}

bool CpuBackend::supports(Op, DType dtype) const {
  return dtype == DType::F32 || dtype == DType::F64 || dtype == DType::BF16;
}

double CpuBackend::peak_flops() { return measure_sgemm_gflops(512, 2) * 1e9; }

void* CpuBackend::allocate(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!p) runtime_error("out of memory allocating " + std::to_string(bytes) + " bytes", "cpu backend");
  return p;
}
void CpuBackend::release(void* ptr, size_t) { std::free(ptr); }

void CpuBackend::upload(Tensor& t, const void* host, DType host_type) {
  tensor::convert(host, host_type, t.raw(), t.dtype(), static_cast<size_t>(t.numel()));
}
void CpuBackend::download(const Tensor& t, void* host, DType host_type) {
  tensor::convert(t.raw(), t.dtype(), host, host_type, static_cast<size_t>(t.numel()));
}
void CpuBackend::convert(Tensor& dst, const Tensor& src) {
  if (dst.numel() != src.numel())
    runtime_error("convert from " + shape_string(src.shape()) + " to " + shape_string(dst.shape()) +
                      ": element counts differ",
                  "cpu backend");
  tensor::convert(src.raw(), src.dtype(), dst.raw(), dst.dtype(), static_cast<size_t>(src.numel()));
}
void CpuBackend::zero(Tensor& t) { std::memset(t.raw(), 0, t.bytes()); }
void CpuBackend::copy_range(Tensor& dst, int64_t dst_offset, const Tensor& src, int64_t src_offset,
                            int64_t n) {
  same_dtype(dst, src, "copy_range");
  check(dst_offset >= 0 && src_offset >= 0 && n >= 0 && dst_offset + n <= dst.numel() &&
            src_offset + n <= src.numel(),
        "copy_range", "out of range");
  const size_t es = dtype_size(dst.dtype());
  std::memcpy(static_cast<char*>(dst.raw()) + dst_offset * es,
              static_cast<const char*>(src.raw()) + src_offset * es, n * es);
}

void CpuBackend::add(Tensor& a, const Tensor& b) {
  same_shape(a, b, "add");
  same_dtype(a, b, "add");
  floating(a, "add");
  if (bf16(a)) return cpu::bf16::add(a, b);
  NLM_DISPATCH(a, cpu::add<T>(a.as<T>(), b.as<T>(), a.numel()));
}
void CpuBackend::scale(Tensor& x, double s) {
  floating(x, "scale");
  if (bf16(x)) return cpu::bf16::scale(x, s);
  NLM_DISPATCH(x, cpu::scale<T>(x.as<T>(), x.numel(), T(s)));
}
void CpuBackend::mul(Tensor& a, const Tensor& b) {
  same_shape(a, b, "mul");
  same_dtype(a, b, "mul");
  floating(a, "mul");
  if (bf16(a)) return cpu::bf16::mul(a, b);
  NLM_DISPATCH(a, cpu::mul<T>(a.as<T>(), b.as<T>(), a.numel()));
}
double CpuBackend::sum(const Tensor& x) {
  floating(x, "sum");
  if (bf16(x)) return cpu::bf16::sum(x);
  double r = 0;
  NLM_DISPATCH(x, r = cpu::sum<T>(x.as<T>(), x.numel()));
  return r;
}
double CpuBackend::sum_squares(const Tensor& x) {
  floating(x, "sum_squares");
  if (bf16(x)) return cpu::bf16::sum_squares(x);
  double r = 0;
  NLM_DISPATCH(x, r = cpu::sum_squares<T>(x.as<T>(), x.numel()));
  return r;
}

void CpuBackend::embedding_forward(Tensor& out, const Tensor& ids, const Tensor& table) {
  ints(ids, "embedding_forward");
  floating(table, "embedding_forward");
  same_dtype(out, table, "embedding_forward");
  const int N = static_cast<int>(ids.numel()), C = last(table), V = rows(table);
  check(out.numel() == static_cast<int64_t>(N) * C, "embedding_forward", "out must be [N,C]");
  const int32_t* id = ids.as<int32_t>();
  for (int n = 0; n < N; ++n)
    if (id[n] < 0 || id[n] >= V)
      runtime_error("token id " + std::to_string(id[n]) + " out of range for vocabulary of " +
                        std::to_string(V),
                    "embedding", "the data was made with a different tokenizer");
  if (bf16(out)) return cpu::bf16::embedding_forward(out, id, table, N, C);
  NLM_DISPATCH(out, cpu::embedding_forward<T>(out.as<T>(), id, table.as<T>(), N, C));
}
void CpuBackend::embedding_backward(Tensor& dtable, const Tensor& dout, const Tensor& ids) {
  ints(ids, "embedding_backward");
  floating(dout, "embedding_backward");
  accum(dtable, dout, "embedding_backward", "dtable");
  const int N = static_cast<int>(ids.numel()), C = last(dtable);
  check(dout.numel() == static_cast<int64_t>(N) * C, "embedding_backward", "dout must be [N,C]");
  if (bf16(dout))
    return cpu::bf16::embedding_backward(dtable.as<float>(), dout, ids.as<int32_t>(), N, C);
  NLM_DISPATCH(dtable, cpu::embedding_backward<T>(dtable.as<T>(), dout.as<T>(), ids.as<int32_t>(), N, C));
}

void CpuBackend::matmul_forward(Tensor& out, const Tensor& inp, const Tensor& weight,
                                const Tensor* bias) {
  floating(inp, "matmul_forward");
  same_dtype(inp, weight, "matmul_forward");
  same_dtype(out, weight, "matmul_forward");
  const int C = last(weight), OC = rows(weight), N = rows(inp);
  check(last(inp) == C, "matmul_forward", "inp " + shape_string(inp.shape()) + " vs weight " +
                                              shape_string(weight.shape()));
  check(out.numel() == static_cast<int64_t>(N) * OC, "matmul_forward", "out must be [N,OC]");
  check(!bias || bias->numel() == OC, "matmul_forward", "bias must be [OC]");
  if (bias) same_dtype(*bias, weight, "matmul_forward");
  if (bf16(inp)) return cpu::bf16::matmul_forward(out, inp, weight, bias, N, C, OC);
  NLM_DISPATCH(inp, cpu::matmul_forward<T>(out.as<T>(), inp.as<T>(), weight.as<T>(),
                                           ptr_or_null<T>(bias), N, C, OC));
}
void CpuBackend::matmul_backward(Tensor* dinp, Tensor* dweight, Tensor* dbias, const Tensor& dout,
                                 const Tensor& inp, const Tensor& weight, bool accumulate_dinp) {
  const int C = last(weight), OC = rows(weight), N = rows(inp);
  floating(inp, "matmul_backward");
  same_dtype(inp, weight, "matmul_backward");
  same_dtype(dout, weight, "matmul_backward");
  if (dinp) same_dtype(*dinp, weight, "matmul_backward");
  if (dweight) same_shape(*dweight, weight, "matmul_backward");
  if (dweight) accum(*dweight, inp, "matmul_backward", "dweight");
  if (dbias) accum(*dbias, inp, "matmul_backward", "dbias");
  check(!dbias || dbias->numel() == OC, "matmul_backward", "dbias must be [OC]");
  check(dout.numel() == static_cast<int64_t>(N) * OC, "matmul_backward", "dout must be [N,OC]");
  check(!dinp || dinp->numel() == inp.numel(), "matmul_backward", "dinp must be [N,C]");
  if (bf16(inp))
    return cpu::bf16::matmul_backward(dinp, mut_or_null<float>(dweight), mut_or_null<float>(dbias),
                                      dout, inp, weight, N, C, OC, accumulate_dinp);
  NLM_DISPATCH(inp, cpu::matmul_backward<T>(mut_or_null<T>(dinp), mut_or_null<T>(dweight),
                                            mut_or_null<T>(dbias), dout.as<T>(), inp.as<T>(),
                                            weight.as<T>(), N, C, OC, accumulate_dinp));
}

void CpuBackend::rmsnorm_forward(Tensor& out, Tensor& rstd, const Tensor& inp, const Tensor& weight,
                                 double eps) {
  floating(inp, "rmsnorm_forward");
  same_shape(out, inp, "rmsnorm_forward");
  same_dtype(out, inp, "rmsnorm_forward");
  same_dtype(weight, inp, "rmsnorm_forward");
  accum(rstd, inp, "rmsnorm_forward", "rstd");
  const int C = last(inp), N = rows(inp);
  check(weight.numel() == C && rstd.numel() == N, "rmsnorm_forward", "weight [C], rstd [N]");
  if (bf16(inp))
    return cpu::bf16::rmsnorm_forward(out, rstd.as<float>(), inp, weight, N, C, float(eps));
  NLM_DISPATCH(inp, cpu::rmsnorm_forward<T>(out.as<T>(), rstd.as<T>(), inp.as<T>(), weight.as<T>(),
                                            N, C, T(eps)));
}
void CpuBackend::rmsnorm_backward(Tensor& dinp, Tensor& dweight, const Tensor& dout,
                                  const Tensor& inp, const Tensor& weight, const Tensor& rstd) {
  same_shape(dinp, inp, "rmsnorm_backward");
  same_shape(dout, inp, "rmsnorm_backward");
  floating(inp, "rmsnorm_backward");
  same_dtype(dinp, inp, "rmsnorm_backward");
  same_dtype(dout, inp, "rmsnorm_backward");
  same_dtype(weight, inp, "rmsnorm_backward");
  accum(dweight, inp, "rmsnorm_backward", "dweight");
  accum(rstd, inp, "rmsnorm_backward", "rstd");
  const int C = last(inp), N = rows(inp);
  check(weight.numel() == C && dweight.numel() == C && rstd.numel() == N, "rmsnorm_backward",
        "weight and dweight [C], rstd [N]");
  if (bf16(inp))
    return cpu::bf16::rmsnorm_backward(dinp, dweight.as<float>(), dout, inp, weight,
                                       rstd.as<float>(), N, C);
  NLM_DISPATCH(inp, cpu::rmsnorm_backward<T>(dinp.as<T>(), dweight.as<T>(), dout.as<T>(),
                                             inp.as<T>(), weight.as<T>(), rstd.as<T>(), N, C));
}

void CpuBackend::rope(Tensor& x, const Tensor& pos, const Tensor& cos, const Tensor& sin, int sign) {
  floating(x, "rope");
  ints(pos, "rope");
  accum(cos, x, "rope", "the cos table");
  accum(sin, x, "rope", "the sin table");
  check(x.rank() >= 2, "rope", "x must be [N,H,D]");
  const int D = last(x), H = static_cast<int>(x.shape()[x.rank() - 2]);
  const int N = static_cast<int>(x.numel() / (static_cast<int64_t>(H) * D));
  same_shape(cos, sin, "rope");
  check(pos.numel() == N && D % 2 == 0 && last(cos) == D / 2, "rope", "pos [N], cos [P,D/2]");
  const int P = rows(cos);
  const int32_t* p = pos.as<int32_t>();
  for (int n = 0; n < N; ++n)
    if (p[n] < 0 || p[n] >= P)
      runtime_error("position " + std::to_string(p[n]) + " beyond the RoPE table of " +
                        std::to_string(P),
                    "rope", "use a shorter sequence or raise max_position_embeddings");
  if (bf16(x))
    return cpu::bf16::rope_rotate(x, p, cos.as<float>(), sin.as<float>(), N, H, D, sign);
  NLM_DISPATCH(x, cpu::rope_rotate<T>(x.as<T>(), p, cos.as<T>(), sin.as<T>(), N, H, D, sign));
}
void CpuBackend::rope_forward(Tensor& x, const Tensor& pos, const Tensor& cos, const Tensor& sin) {
  rope(x, pos, cos, sin, +1);
}
void CpuBackend::rope_backward(Tensor& dx, const Tensor& pos, const Tensor& cos, const Tensor& sin) {
  rope(dx, pos, cos, sin, -1);
}

void CpuBackend::attention_forward(Tensor& out, std::unique_ptr<AttentionState>& state,
                                   const Tensor& q, const Tensor& k, const Tensor& v,
                                   const Tensor* docs, int B, int Tn) {
  floating(q, "attention_forward");
  same_dtype(k, q, "attention_forward");
  same_dtype(v, q, "attention_forward");
  same_dtype(out, q, "attention_forward");
  same_shape(k, v, "attention_forward");
  same_shape(out, q, "attention_forward");
  const int hs = last(q), NH = static_cast<int>(q.numel() / (int64_t(B) * Tn * hs));
  const int NKV = static_cast<int>(k.numel() / (int64_t(B) * Tn * hs));
  check(q.numel() == int64_t(B) * Tn * NH * hs && k.numel() == int64_t(B) * Tn * NKV * hs &&
            NKV > 0 && NH % NKV == 0,
        "attention_forward", "q [B,T,NH,hs], k/v [B,T,NKV,hs]");
  check(!docs || (docs->numel() == int64_t(B) * Tn && docs->dtype() == DType::I32),
        "attention_forward", "docs must be I32 [B,T]");
  const Shape att_shape = {B, NH, Tn, Tn};
  auto* s = dynamic_cast<CpuAttentionState*>(state.get());
  const DType att_dtype = accum_dtype(q.dtype());
  if (!s || s->att.shape() != att_shape || s->att.dtype() != att_dtype) {
    auto fresh = std::make_unique<CpuAttentionState>();
    fresh->att = empty(att_shape, att_dtype);
    s = fresh.get();
    state = std::move(fresh);
  }
  s->B = B;
  s->T = Tn;
  const int32_t* d = docs ? docs->as<int32_t>() : nullptr;
  if (bf16(q))
    return cpu::bf16::attention_forward(out, s->att.as<float>(), q, k, v, d, B, Tn, NH, NKV, hs);
  NLM_DISPATCH(q, cpu::attention_forward<T>(out.as<T>(), s->att.as<T>(), q.as<T>(), k.as<T>(),
                                            v.as<T>(), d, B, Tn, NH, NKV, hs));
}
void CpuBackend::attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout,
                                    AttentionState& state, const Tensor& q, const Tensor& k,
                                    const Tensor& v, int B, int Tn) {
  same_shape(dq, q, "attention_backward");
  same_shape(dk, k, "attention_backward");
  same_shape(dv, v, "attention_backward");
  same_shape(dout, q, "attention_backward");
  floating(q, "attention_backward");
  for (const Tensor* t : std::initializer_list<const Tensor*>{&dq, &dk, &dv, &dout, &k, &v})
    same_dtype(*t, q, "attention_backward");
  auto* s = dynamic_cast<CpuAttentionState*>(&state);
  check(s != nullptr, "attention_backward", "the state comes from another backend");
  check(s->B == B && s->T == Tn && s->att.dtype() == accum_dtype(q.dtype()), "attention_backward",
        "the state belongs to a forward of another shape or dtype");
  const int hs = last(q), NH = static_cast<int>(q.numel() / (int64_t(B) * Tn * hs));
  const int NKV = static_cast<int>(k.numel() / (int64_t(B) * Tn * hs));
  if (bf16(q))
    return cpu::bf16::attention_backward(dq, dk, dv, dout, s->att.as<float>(), q, k, v, B, Tn, NH,
                                         NKV, hs);
  NLM_DISPATCH(q, cpu::attention_backward<T>(dq.as<T>(), dk.as<T>(), dv.as<T>(), dout.as<T>(),
                                             s->att.as<T>(), q.as<T>(), k.as<T>(), v.as<T>(), B,
                                             Tn, NH, NKV, hs));
}
void CpuBackend::attention_cached(Tensor& out, const Tensor& q, const Tensor& kcache,
                                  const Tensor& vcache, int past, int Tq) {
  same_shape(out, q, "attention_cached");
  floating(q, "attention_cached");
  for (const Tensor* t : std::initializer_list<const Tensor*>{&out, &kcache, &vcache})
    same_dtype(*t, q, "attention_cached");
  same_shape(kcache, vcache, "attention_cached");
  check(kcache.rank() == 3, "attention_cached", "caches must be [Tmax,NKV,hs]");
  const int hs = last(q), NH = static_cast<int>(q.numel() / (int64_t(Tq) * hs));
  const int NKV = static_cast<int>(kcache.dim(1));
  check(past >= 0 && Tq > 0 && past + Tq <= kcache.dim(0) && NH % NKV == 0 &&
            kcache.dim(2) == hs,
        "attention_cached", "cache too short or of another head size");
  if (bf16(q)) return cpu::bf16::attention_cached(out, q, kcache, vcache, past, Tq, NH, NKV, hs);
  NLM_DISPATCH(q, cpu::attention_cached<T>(out.as<T>(), q.as<T>(), kcache.as<T>(), vcache.as<T>(),
                                           past, Tq, NH, NKV, hs));
}

void CpuBackend::swiglu_forward(Tensor& out, const Tensor& gate, const Tensor& up) {
  same_shape(out, gate, "swiglu_forward");
  same_shape(up, gate, "swiglu_forward");
  floating(gate, "swiglu_forward");
  same_dtype(out, gate, "swiglu_forward");
  same_dtype(up, gate, "swiglu_forward");
  if (bf16(gate)) return cpu::bf16::swiglu_forward(out, gate, up);
  NLM_DISPATCH(gate, cpu::swiglu_forward<T>(out.as<T>(), gate.as<T>(), up.as<T>(), gate.numel()));
}
void CpuBackend::swiglu_backward(Tensor& dgate, Tensor& dup, const Tensor& dout, const Tensor& gate,
                                 const Tensor& up) {
  same_shape(dgate, gate, "swiglu_backward");
  same_shape(dup, gate, "swiglu_backward");
  same_shape(dout, gate, "swiglu_backward");
  floating(gate, "swiglu_backward");
  for (const Tensor* t : std::initializer_list<const Tensor*>{&dgate, &dup, &dout, &up})
    same_dtype(*t, gate, "swiglu_backward");
  if (bf16(gate)) return cpu::bf16::swiglu_backward(dgate, dup, dout, gate, up);
  NLM_DISPATCH(gate, cpu::swiglu_backward<T>(dgate.as<T>(), dup.as<T>(), dout.as<T>(), gate.as<T>(),
                                             up.as<T>(), gate.numel()));
}

void CpuBackend::cross_entropy_forward(Tensor& losses, const Tensor& logits, const Tensor& targets) {
  ints(targets, "cross_entropy_forward");
  floating(logits, "cross_entropy_forward");
  accum(losses, logits, "cross_entropy_forward", "losses");
  const int V = last(logits), N = rows(logits);
  check(targets.numel() == N && losses.numel() == N, "cross_entropy_forward", "targets, losses [N]");
  const int32_t* tg = targets.as<int32_t>();
  for (int n = 0; n < N; ++n)
    if (tg[n] >= V) runtime_error("target id " + std::to_string(tg[n]) + " >= vocabulary " +
                                      std::to_string(V), "cross_entropy");
  if (bf16(logits)) return cpu::bf16::cross_entropy_forward(losses.as<float>(), logits, tg, N, V);
  NLM_DISPATCH(logits, cpu::cross_entropy_forward<T>(losses.as<T>(), logits.as<T>(), tg, N, V));
}
void CpuBackend::cross_entropy_backward(Tensor& dlogits, const Tensor& logits, const Tensor& targets,
                                        double scale) {
  same_shape(dlogits, logits, "cross_entropy_backward");
  floating(logits, "cross_entropy_backward");
  same_dtype(dlogits, logits, "cross_entropy_backward");
  ints(targets, "cross_entropy_backward");
  const int V = last(logits), N = rows(logits);
  check(targets.numel() == N, "cross_entropy_backward", "targets [N]");
  if (bf16(logits))
    return cpu::bf16::cross_entropy_backward(dlogits, logits, targets.as<int32_t>(), N, V,
                                             float(scale));
  NLM_DISPATCH(logits, cpu::cross_entropy_backward<T>(dlogits.as<T>(), logits.as<T>(),
                                                      targets.as<int32_t>(), N, V, T(scale)));
}

void CpuBackend::adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr,
                              double beta1, double beta2, double eps, double weight_decay,
                              int64_t t) {
  same_shape(param, grad, "adamw_update");
  same_shape(param, m, "adamw_update");
  same_shape(param, v, "adamw_update");
  floating(param, "adamw_update");
  accum(grad, param, "adamw_update", "grad");
  accum(m, param, "adamw_update", "m");
  accum(v, param, "adamw_update", "v");
  if (bf16(param))
    return cpu::bf16::adamw_update(param, grad.as<float>(), m.as<float>(), v.as<float>(), lr, beta1,
                                   beta2, eps, weight_decay, t);
  NLM_DISPATCH(param, cpu::adamw_update<T>(param.as<T>(), grad.as<T>(), m.as<T>(), v.as<T>(),
                                           param.numel(), lr, beta1, beta2, eps, weight_decay, t));
}

CpuBackend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

}  // namespace nlm::tensor
