// CudaBackend: shape and dtype checks on the host, then kernels queued on the device's stream
// (see cuda_backend.h). Also the device list for the registry and the peak-FLOP/s table.
#include "tensor/cuda/cuda_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"
#include "tensor/cuda/cuda_check.h"
#include "tensor/cuda/cuda_devices.h"
#include "tensor/cuda/flash_attention.h"
#include "tensor/cuda/kernels.h"
#include "tensor/cuda/matmul.h"
#include "tensor/op_checks.h"

namespace nlm::tensor::cuda {

namespace {

constexpr const char* kBackend = "cuda backend";
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
// A data tensor: F32 or BF16.
void floating(const Tensor& t, const char* op) {
  check(t.dtype() == DType::F32 || t.dtype() == DType::BF16, op,
        "expected F32 or BF16, got " + std::string(dtype_name(t.dtype())));
}
// A tensor of the contract's accumulation dtype (always F32 here).
void accum(const Tensor& t, const char* op, const char* what) {
  check(t.dtype() == DType::F32, op,
        std::string(what) + " must be F32, got " + std::string(dtype_name(t.dtype())));
}

// Runs body with T = float or bf16 according to the tensor's dtype (checked by floating()).
#define NLM_CUDA_DISPATCH(tensor, ...)     \
  do {                                     \
    if ((tensor).dtype() == DType::BF16) { \
      using T = bf16;                      \
      __VA_ARGS__;                         \
    } else {                               \
      using T = float;                     \
      __VA_ARGS__;                         \
    }                                      \
  } while (0)

cudaDataType_t cuda_type(DType t) { return t == DType::BF16 ? CUDA_R_16BF : CUDA_R_32F; }

// What flash attention needs for backward.
struct CudaAttentionState final : AttentionState {
  Tensor lse;   // F32 [B,NH,T]
  Tensor out;   // the forward's output, copied: the caller may reuse its tensor
  Tensor docs;  // I32 [B,T] copy, or undefined
  int B = 0, T = 0, NH = 0, NKV = 0, hs = 0;
  DType dtype = DType::F32;
};

// Dense FLOP per clock per SM (an FMA is 2) for a compute capability: tensor-core bf16 with fp32
// accumulation, and fp32 on CUDA cores. From NVIDIA's architecture whitepapers: A100 (sm_80)
// 312 TFLOP/s bf16 at 108 SMs × 1.41 GHz; GA10x (sm_86) and AD10x (sm_89) data-centre parts;
// H100 (sm_90) 989.4 TFLOP/s at 132 SMs × 1.83 GHz. Newer or unlisted GPUs take the row of the
// nearest older capability.
struct SmRate {
  int cc;  // major*10 + minor
  double bf16, fp32;
};
constexpr SmRate kSmRates[] = {{80, 2048, 128}, {86, 512, 256}, {89, 1024, 256}, {90, 4096, 256}};

// The spec sheet figures where the reported (maximum boost) clock overstates the clock the
// spec's tensor throughput is quoted at: H100/H200 SXM and H100 PCIe.
struct SpecPeak {
  int cc, sms;
  double bf16;
};
constexpr SpecPeak kSpecPeaks[] = {{90, 132, 989.4e12}, {90, 114, 756.0e12}, {80, 108, 312.0e12}};

}  // namespace

struct CudaBackend::Impl {
  cudaStream_t stream = nullptr;
  Matmul matmul;
  DeviceError* err = nullptr;  // device error word
  double* result = nullptr;    // device: one reduction result
  double* reduce_scratch = nullptr;
  int sms = 0, cc = 0, clock_khz = 0;
  // The ids of the last embedding_forward, kept on the host for embedding_backward's grouping;
  // forgotten when their memory is written or freed.
  const void* ids_ptr = nullptr;
  std::vector<int32_t> ids_host;
  std::vector<int32_t> groups;  // order[N] | start[S+1] | seg_id[S], for the upload
};

CudaBackend::CudaBackend(int device) : device_(device) {}

CudaBackend::~CudaBackend() {
  // Backends live until exit (device_backends); this only runs for one made by hand.
  if (!impl_) return;
  cudaSetDevice(device_);
  if (impl_->stream) cudaStreamSynchronize(impl_->stream);
  cudaFree(impl_->err);
  cudaFree(impl_->result);
  cudaFree(impl_->reduce_scratch);
  if (impl_->stream) cudaStreamDestroy(impl_->stream);
}

CudaBackend::Impl& CudaBackend::impl() {
  NLM_CUDA(cudaSetDevice(device_));
  if (impl_) return *impl_;
  auto fresh = std::make_unique<Impl>();
  NLM_CUDA(cudaStreamCreateWithFlags(&fresh->stream, cudaStreamNonBlocking));
  // Freed blocks stay in the pool for the next step instead of going back to the driver.
  cudaMemPool_t pool = nullptr;
  NLM_CUDA(cudaDeviceGetDefaultMemPool(&pool, device_));
  uint64_t keep = std::numeric_limits<uint64_t>::max();
  NLM_CUDA(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
  NLM_CUDA(cudaMalloc(&fresh->err, sizeof(DeviceError)));
  // On the backend's stream: a non-blocking stream is not ordered after the legacy one.
  NLM_CUDA(cudaMemsetAsync(fresh->err, 0, sizeof(DeviceError), fresh->stream));
  NLM_CUDA(cudaMalloc(&fresh->result, sizeof(double)));
  NLM_CUDA(cudaMalloc(&fresh->reduce_scratch, sizeof(double) * reduce_scratch_doubles()));
  int major = 0, minor = 0;
  NLM_CUDA(cudaDeviceGetAttribute(&fresh->sms, cudaDevAttrMultiProcessorCount, device_));
  NLM_CUDA(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device_));
  NLM_CUDA(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device_));
  NLM_CUDA(cudaDeviceGetAttribute(&fresh->clock_khz, cudaDevAttrClockRate, device_));
  fresh->cc = major * 10 + minor;
  impl_ = std::move(fresh);
  return *impl_;
}

cudaStream_t CudaBackend::stream() { return impl().stream; }

bool CudaBackend::supports(Op, DType dtype) const {
  return dtype == DType::F32 || dtype == DType::BF16;
}

double CudaBackend::peak_flops() { return peak_flops(DType::BF16); }

double CudaBackend::peak_flops(DType dtype) {
  Impl& im = impl();
  return spec_peak_flops(im.cc, im.sms, im.clock_khz, dtype);
}

double spec_peak_flops(int cc, int sms, int clock_khz, DType dtype) {
  if (dtype != DType::BF16 && dtype != DType::F32) return 0;
  if (dtype == DType::BF16)
    for (const SpecPeak& s : kSpecPeaks)
      if (s.cc == cc && s.sms == sms) return s.bf16;
  const SmRate* rate = &kSmRates[0];
  for (const SmRate& r : kSmRates)
    if (r.cc <= cc) rate = &r;
  const double per_clock = dtype == DType::BF16 ? rate->bf16 : rate->fp32;
  return per_clock * sms * clock_khz * 1e3;
}

// ---- memory -----------------------------------------------------------------------------------

void* CudaBackend::allocate(size_t bytes) {
  Impl& im = impl();
  void* p = nullptr;
  NLM_CUDA(cudaMallocAsync(&p, std::max<size_t>(bytes, 256), im.stream));
  return p;
}

void CudaBackend::release(void* ptr, size_t bytes) {
  if (!ptr) return;
  forget_ids(ptr, bytes);
  // Called from Storage's destructor, possibly while the process exits and the driver is gone:
  // failures are ignored rather than thrown.
  if (!impl_ || cudaSetDevice(device_) != cudaSuccess) return;
  if (cudaFreeAsync(ptr, impl_->stream) != cudaSuccess) cudaGetLastError();
}

void CudaBackend::own(const char* op, std::initializer_list<const Tensor*> tensors) const {
  for (const Tensor* t : tensors)
    if (t && t->defined() && &t->backend() != this)
      check(false, op, "a tensor of " + t->backend().name() + " given to " + name());
}

void CudaBackend::forget_ids(const void* ptr, size_t bytes) {
  if (!impl_ || !impl_->ids_ptr) return;
  auto a = reinterpret_cast<uintptr_t>(ptr), b = reinterpret_cast<uintptr_t>(impl_->ids_ptr);
  size_t ids_bytes = impl_->ids_host.size() * sizeof(int32_t);
  if (a < b + ids_bytes && b < a + std::max<size_t>(bytes, 1)) impl_->ids_ptr = nullptr;
}

void CudaBackend::upload(Tensor& t, const void* host, DType host_type) {
  own("upload", {&t});
  Impl& im = impl();
  if (t.numel() == 0) return;
  forget_ids(t.raw(), t.bytes());
  std::vector<char> staging;
  const void* src = host;
  if (host_type != t.dtype()) {
    staging.resize(t.bytes());
    tensor::convert(host, host_type, staging.data(), t.dtype(), static_cast<size_t>(t.numel()));
    src = staging.data();
  }
  NLM_CUDA(cudaMemcpyAsync(t.raw(), src, t.bytes(), cudaMemcpyHostToDevice, im.stream));
  NLM_CUDA(cudaStreamSynchronize(im.stream));  // `staging` and the caller's buffer may go away
}

void CudaBackend::download(const Tensor& t, void* host, DType host_type) {
  own("download", {&t});
  Impl& im = impl();
  if (t.numel() == 0) return;
  std::vector<char> staging;
  void* dst = host_type == t.dtype() ? host : (staging.resize(t.bytes()), staging.data());
  NLM_CUDA(cudaMemcpyAsync(dst, t.raw(), t.bytes(), cudaMemcpyDeviceToHost, im.stream));
  NLM_CUDA(cudaStreamSynchronize(im.stream));
  check_device_errors();
  if (dst != host)
    tensor::convert(staging.data(), t.dtype(), host, host_type, static_cast<size_t>(t.numel()));
}

void CudaBackend::synchronize() {
  Impl& im = impl();
  NLM_CUDA(cudaStreamSynchronize(im.stream));
  check_device_errors();
}

void CudaBackend::check_device_errors() {
  Impl& im = impl();
  DeviceError e{};
  NLM_CUDA(cudaMemcpyAsync(&e, im.err, sizeof(e), cudaMemcpyDeviceToHost, im.stream));
  NLM_CUDA(cudaStreamSynchronize(im.stream));
  if (e.code == kNoError) return;
  NLM_CUDA(cudaMemsetAsync(im.err, 0, sizeof(DeviceError), im.stream));
  const std::string v = std::to_string(e.value), lim = std::to_string(e.limit),
                    row = " (row " + std::to_string(e.row) + ")";
  switch (e.code) {
    case kBadTokenId:
      runtime_error("token id " + v + " out of range for vocabulary of " + lim + row, "embedding",
                    "the data was made with a different tokenizer");
    case kBadPosition:
      runtime_error("position " + v + " beyond the RoPE table of " + lim + row, "rope",
                    "use a shorter sequence or raise max_position_embeddings");
    case kBadTarget:
      runtime_error("target id " + v + " >= vocabulary " + lim + row, "cross_entropy");
    default:
      runtime_error("unknown device error " + std::to_string(e.code), "cuda backend");
  }
}

void CudaBackend::zero(Tensor& t) {
  own("zero", {&t});
  Impl& im = impl();
  forget_ids(t.raw(), t.bytes());
  if (t.numel() > 0) NLM_CUDA(cudaMemsetAsync(t.raw(), 0, t.bytes(), im.stream));
}

void CudaBackend::copy_range(Tensor& dst, int64_t dst_offset, const Tensor& src, int64_t src_offset,
                             int64_t n) {
  own("copy_range", {&dst, &src});
  Impl& im = impl();
  same_dtype(dst, src, "copy_range");
  check(dst_offset >= 0 && src_offset >= 0 && n >= 0 && dst_offset + n <= dst.numel() &&
            src_offset + n <= src.numel(),
        "copy_range", "out of range");
  if (n == 0) return;
  const size_t es = dtype_size(dst.dtype());
  char* d = static_cast<char*>(dst.raw()) + dst_offset * es;
  forget_ids(d, n * es);
  NLM_CUDA(cudaMemcpyAsync(d, static_cast<const char*>(src.raw()) + src_offset * es, n * es,
                           cudaMemcpyDeviceToDevice, im.stream));
}

void CudaBackend::convert(Tensor& dst, const Tensor& src) {
  own("convert", {&dst, &src});
  check(dst.numel() == src.numel(), "convert",
        "from " + shape_string(src.shape()) + " to " + shape_string(dst.shape()) +
            ": element counts differ");
  Impl& im = impl();
  const int64_t n = src.numel();
  if (dst.dtype() == src.dtype()) {
    forget_ids(dst.raw(), dst.bytes());
    if (n > 0)
      NLM_CUDA(
          cudaMemcpyAsync(dst.raw(), src.raw(), src.bytes(), cudaMemcpyDeviceToDevice, im.stream));
  } else if (src.dtype() == DType::F32 && dst.dtype() == DType::BF16) {
    cuda::convert(dst.as<bf16>(), src.as<float>(), n, im.stream);
  } else if (src.dtype() == DType::BF16 && dst.dtype() == DType::F32) {
    cuda::convert(dst.as<float>(), src.as<bf16>(), n, im.stream);
  } else {
    Backend::convert(dst, src);  // other floating pairs (F16, F64 storage) through the host
  }
}

// ---- elementwise and reductions -----------------------------------------------------------------

void CudaBackend::add(Tensor& a, const Tensor& b) {
  own("add", {&a, &b});
  same_shape(a, b, "add");
  same_dtype(a, b, "add");
  floating(a, "add");
  cudaStream_t s = impl().stream;
  NLM_CUDA_DISPATCH(a, cuda::add<T>(a.as<T>(), b.as<T>(), a.numel(), s));
}
void CudaBackend::scale(Tensor& x, double v) {
  own("scale", {&x});
  floating(x, "scale");
  cudaStream_t s = impl().stream;
  NLM_CUDA_DISPATCH(x, cuda::scale<T>(x.as<T>(), x.numel(), static_cast<float>(v), s));
}
void CudaBackend::mul(Tensor& a, const Tensor& b) {
  own("mul", {&a, &b});
  same_shape(a, b, "mul");
  same_dtype(a, b, "mul");
  floating(a, "mul");
  cudaStream_t s = impl().stream;
  NLM_CUDA_DISPATCH(a, cuda::mul<T>(a.as<T>(), b.as<T>(), a.numel(), s));
}

double CudaBackend::reduce(const Tensor& x, bool squares) {
  own("sum", {&x});
  Impl& im = impl();
  NLM_CUDA_DISPATCH(
      x, reduce_sum<T>(im.result, im.reduce_scratch, x.as<T>(), x.numel(), squares, im.stream));
  double r = 0;
  NLM_CUDA(cudaMemcpyAsync(&r, im.result, sizeof(double), cudaMemcpyDeviceToHost, im.stream));
  NLM_CUDA(cudaStreamSynchronize(im.stream));
  check_device_errors();
  return r;
}

double CudaBackend::sum(const Tensor& x) {
  floating(x, "sum");
  return reduce(x, false);
}
double CudaBackend::sum_squares(const Tensor& x) {
  floating(x, "sum_squares");
  return reduce(x, true);
}

// ---- layers -----------------------------------------------------------------------------------

namespace {
// Device scratch for one op, back to the stream-ordered pool when the op has queued its kernels
// (the free is ordered after them on the same stream).
class Scratch {
 public:
  Scratch(CudaBackend& be, size_t bytes) : be_(be), bytes_(bytes), ptr_(be.allocate(bytes)) {}
  ~Scratch() { be_.release(ptr_, bytes_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class X>
  X* as() const {
    return static_cast<X*>(ptr_);
  }

 private:
  CudaBackend& be_;
  size_t bytes_;
  void* ptr_;
};

void check_ids(const std::vector<int32_t>& ids, int V) {
  for (size_t n = 0; n < ids.size(); ++n)
    if (ids[n] < 0 || ids[n] >= V)
      runtime_error("token id " + std::to_string(ids[n]) + " out of range for vocabulary of " +
                        std::to_string(V),
                    "embedding", "the data was made with a different tokenizer");
}
}  // namespace

void CudaBackend::embedding_forward(Tensor& out, const Tensor& ids, const Tensor& table) {
  own("embedding_forward", {&out, &ids, &table});
  ints(ids, "embedding_forward");
  floating(table, "embedding_forward");
  same_dtype(out, table, "embedding_forward");
  const int N = static_cast<int>(ids.numel()), C = last(table), V = rows(table);
  check(out.numel() == static_cast<int64_t>(N) * C, "embedding_forward", "out must be [N,C]");
  Impl& im = impl();
  // The ids come to the host once: checked here (an error before any kernel runs) and kept for
  // embedding_backward's grouping.
  im.ids_ptr = nullptr;
  im.ids_host.resize(static_cast<size_t>(N));
  if (N > 0) {
    NLM_CUDA(cudaMemcpyAsync(im.ids_host.data(), ids.raw(), ids.bytes(), cudaMemcpyDeviceToHost,
                             im.stream));
    NLM_CUDA(cudaStreamSynchronize(im.stream));
  }
  check_ids(im.ids_host, V);
  im.ids_ptr = ids.raw();
  NLM_CUDA_DISPATCH(out, cuda::embedding_forward<T>(out.as<T>(), ids.as<int32_t>(), table.as<T>(),
                                                    N, C, V, im.err, im.stream));
}

void CudaBackend::embedding_backward(Tensor& dtable, const Tensor& dout, const Tensor& ids) {
  own("embedding_backward", {&dtable, &dout, &ids});
  ints(ids, "embedding_backward");
  floating(dout, "embedding_backward");
  accum(dtable, "embedding_backward", "dtable");
  const int N = static_cast<int>(ids.numel()), C = last(dtable), V = rows(dtable);
  check(dout.numel() == static_cast<int64_t>(N) * C, "embedding_backward", "dout must be [N,C]");
  if (N == 0) return;
  Impl& im = impl();
  if (im.ids_ptr != ids.raw() || im.ids_host.size() != static_cast<size_t>(N)) {
    im.ids_ptr = nullptr;
    im.ids_host.resize(static_cast<size_t>(N));
    NLM_CUDA(cudaMemcpyAsync(im.ids_host.data(), ids.raw(), ids.bytes(), cudaMemcpyDeviceToHost,
                             im.stream));
    NLM_CUDA(cudaStreamSynchronize(im.stream));
    im.ids_ptr = ids.raw();
  }
  check_ids(im.ids_host, V);  // the forward may have used a table of another size
  IdGroups groups = group_by_id(im.ids_host);
  im.groups = std::move(groups.packed);
  const std::vector<int32_t>& g = im.groups;
  const int segments = groups.segments;
  Scratch dev(*this, g.size() * sizeof(int32_t));
  NLM_CUDA(cudaMemcpyAsync(dev.as<int32_t>(), g.data(), g.size() * sizeof(int32_t),
                           cudaMemcpyHostToDevice, im.stream));
  const int32_t* d = dev.as<int32_t>();
  NLM_CUDA_DISPATCH(dout,
                    cuda::embedding_backward<T>(dtable.as<float>(), dout.as<T>(), d, d + N,
                                                d + N + segments + 1, segments, C, im.stream));
  // im.groups stays untouched until the next call, after the copy has been staged.
}

void CudaBackend::matmul_forward(Tensor& out, const Tensor& inp, const Tensor& weight,
                                 const Tensor* bias) {
  own("matmul_forward", {&out, &inp, &weight, bias});
  floating(inp, "matmul_forward");
  same_dtype(inp, weight, "matmul_forward");
  same_dtype(out, weight, "matmul_forward");
  const int C = last(weight), OC = rows(weight), N = rows(inp);
  check(last(inp) == C, "matmul_forward",
        "inp " + shape_string(inp.shape()) + " vs weight " + shape_string(weight.shape()));
  check(out.numel() == static_cast<int64_t>(N) * OC, "matmul_forward", "out must be [N,OC]");
  check(!bias || (bias->numel() == OC && bias->dtype() == out.dtype()), "matmul_forward",
        "bias must be [OC] of the data dtype");
  Impl& im = impl();
  // Row-major out[N,OC] = inp[N,C]·W[OC,C]^T is column-major out^T = W^T(as stored,
  // transposed)·inp^T.
  Gemm g;
  g.trans_a = true;
  g.m = OC, g.n = N, g.k = C;
  g.a = weight.raw(), g.lda = C;
  g.b = inp.raw(), g.ldb = C;
  g.d = out.raw(), g.ldd = OC;
  g.ab_type = g.d_type = cuda_type(inp.dtype());
  g.bias = bias ? bias->raw() : nullptr;
  im.matmul.run(g, im.stream);
}

void CudaBackend::matmul_backward(Tensor* dinp, Tensor* dweight, Tensor* dbias, const Tensor& dout,
                                  const Tensor& inp, const Tensor& weight, bool accumulate_dinp) {
  own("matmul_backward", {dinp, dweight, dbias, &dout, &inp, &weight});
  floating(inp, "matmul_backward");
  same_dtype(inp, weight, "matmul_backward");
  same_dtype(dout, weight, "matmul_backward");
  const int C = last(weight), OC = rows(weight), N = rows(inp);
  check(dout.numel() == static_cast<int64_t>(N) * OC, "matmul_backward", "dout must be [N,OC]");
  Impl& im = impl();
  const cudaDataType_t type = cuda_type(inp.dtype());
  if (dinp) {
    check(dinp->numel() == inp.numel(), "matmul_backward", "dinp must be [N,C]");
    same_dtype(*dinp, inp, "matmul_backward");
    // dinp[N,C] = dout[N,OC]·W[OC,C]: column-major dinp^T = W^T·dout^T, both as stored.
    Gemm g;
    g.m = C, g.n = N, g.k = OC;
    g.a = weight.raw(), g.lda = C;
    g.b = dout.raw(), g.ldb = OC;
    g.d = dinp->raw(), g.ldd = C;
    g.ab_type = g.d_type = type;
    g.beta = accumulate_dinp ? 1.0f : 0.0f;
    im.matmul.run(g, im.stream);
  }
  if (dweight) {
    same_shape(*dweight, weight, "matmul_backward");
    accum(*dweight, "matmul_backward", "dweight");
    // dW[OC,C] += dout^T·inp: column-major dW^T[C,OC] += inp^T(as stored)·dout(transposed).
    Gemm g;
    g.trans_b = true;
    g.m = C, g.n = OC, g.k = N;
    g.a = inp.raw(), g.lda = C;
    g.b = dout.raw(), g.ldb = OC;
    g.d = dweight->raw(), g.ldd = C;
    g.ab_type = type;
    g.d_type = CUDA_R_32F;
    g.beta = 1.0f;
    im.matmul.run(g, im.stream);
  }
  if (dbias) {
    check(dbias->numel() == OC, "matmul_backward", "dbias must be [OC]");
    accum(*dbias, "matmul_backward", "dbias");
    Scratch partial(*this, sizeof(float) * bias_grad_scratch_floats(OC));
    NLM_CUDA_DISPATCH(dout, bias_grad<T>(dbias->as<float>(), partial.as<float>(), dout.as<T>(), N,
                                         OC, im.stream));
  }
}

void CudaBackend::rmsnorm_forward(Tensor& out, Tensor& rstd, const Tensor& inp,
                                  const Tensor& weight, double eps) {
  own("rmsnorm_forward", {&out, &rstd, &inp, &weight});
  floating(inp, "rmsnorm_forward");
  same_shape(out, inp, "rmsnorm_forward");
  same_dtype(out, inp, "rmsnorm_forward");
  same_dtype(weight, inp, "rmsnorm_forward");
  accum(rstd, "rmsnorm_forward", "rstd");
  const int C = last(inp), N = rows(inp);
  check(weight.numel() == C && rstd.numel() == N, "rmsnorm_forward", "weight [C], rstd [N]");
  Impl& im = impl();
  NLM_CUDA_DISPATCH(
      inp, cuda::rmsnorm_forward<T>(out.as<T>(), rstd.as<float>(), inp.as<T>(), weight.as<T>(), N,
                                    C, static_cast<float>(eps), im.stream));
}

void CudaBackend::rmsnorm_backward(Tensor& dinp, Tensor& dweight, const Tensor& dout,
                                   const Tensor& inp, const Tensor& weight, const Tensor& rstd) {
  own("rmsnorm_backward", {&dinp, &dweight, &dout, &inp, &weight, &rstd});
  floating(inp, "rmsnorm_backward");
  same_shape(dinp, inp, "rmsnorm_backward");
  same_shape(dout, inp, "rmsnorm_backward");
  same_dtype(dinp, inp, "rmsnorm_backward");
  same_dtype(dout, inp, "rmsnorm_backward");
  same_dtype(weight, inp, "rmsnorm_backward");
  accum(dweight, "rmsnorm_backward", "dweight");
  accum(rstd, "rmsnorm_backward", "rstd");
  const int C = last(inp), N = rows(inp);
  check(weight.numel() == C && dweight.numel() == C && rstd.numel() == N, "rmsnorm_backward",
        "weight, dweight [C], rstd [N]");
  Impl& im = impl();
  Scratch partial(*this, sizeof(float) * rmsnorm_backward_scratch_floats(N, C));
  NLM_CUDA_DISPATCH(inp, cuda::rmsnorm_backward<T>(
                             dinp.as<T>(), dweight.as<float>(), partial.as<float>(), dout.as<T>(),
                             inp.as<T>(), weight.as<T>(), rstd.as<float>(), N, C, im.stream));
}

void CudaBackend::rope(Tensor& x, const Tensor& pos, const Tensor& cos, const Tensor& sin,
                       int sign) {
  own("rope", {&x, &pos, &cos, &sin});
  floating(x, "rope");
  ints(pos, "rope");
  accum(cos, "rope", "the cos table");
  accum(sin, "rope", "the sin table");
  same_shape(cos, sin, "rope");
  check(x.rank() >= 2, "rope", "x must be [N,H,D]");
  const int D = last(x), H = static_cast<int>(x.shape()[x.rank() - 2]);
  const int N = static_cast<int>(x.numel() / (static_cast<int64_t>(H) * D));
  check(pos.numel() == N && D % 2 == 0 && last(cos) == D / 2, "rope", "pos [N], cos [P,D/2]");
  Impl& im = impl();
  NLM_CUDA_DISPATCH(
      x, rope_rotate<T>(x.as<T>(), pos.as<int32_t>(), cos.as<float>(), sin.as<float>(), N, H, D,
                        rows(cos), sign, im.err, im.stream));
}
void CudaBackend::rope_forward(Tensor& x, const Tensor& pos, const Tensor& cos, const Tensor& sin) {
  rope(x, pos, cos, sin, +1);
}
void CudaBackend::rope_backward(Tensor& dx, const Tensor& pos, const Tensor& cos,
                                const Tensor& sin) {
  rope(dx, pos, cos, sin, -1);
}

void CudaBackend::attention_forward(Tensor& out, std::unique_ptr<AttentionState>& state,
                                    const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor* docs, int B, int Tn) {
  own("attention_forward", {&out, &q, &k, &v, docs});
  floating(q, "attention_forward");
  same_shape(k, v, "attention_forward");
  same_shape(out, q, "attention_forward");
  same_dtype(k, q, "attention_forward");
  same_dtype(v, q, "attention_forward");
  same_dtype(out, q, "attention_forward");
  check(B > 0 && Tn > 0, "attention_forward", "B and T must be positive");
  const int hs = last(q), NH = static_cast<int>(q.numel() / (int64_t(B) * Tn * hs));
  const int NKV = static_cast<int>(k.numel() / (int64_t(B) * Tn * hs));
  check(q.numel() == int64_t(B) * Tn * NH * hs && k.numel() == int64_t(B) * Tn * NKV * hs &&
            NKV > 0 && NH % NKV == 0,
        "attention_forward", "q [B,T,NH,hs], k/v [B,T,NKV,hs]");
  check(hs <= 256, "attention_forward", "head size " + std::to_string(hs) + " > 256");
  check(!docs || (docs->numel() == int64_t(B) * Tn && docs->dtype() == DType::I32),
        "attention_forward", "docs must be I32 [B,T]");
  Impl& im = impl();
  auto* s = dynamic_cast<CudaAttentionState*>(state.get());
  const Shape lse_shape = {B, NH, Tn};
  if (!s || s->lse.shape() != lse_shape || s->out.shape() != out.shape() || s->dtype != q.dtype() ||
      &s->lse.backend() != this) {
    auto fresh = std::make_unique<CudaAttentionState>();
    fresh->lse = empty(lse_shape, DType::F32);
    fresh->out = empty(out.shape(), q.dtype());
    s = fresh.get();
    state = std::move(fresh);
  }
  s->B = B, s->T = Tn, s->NH = NH, s->NKV = NKV, s->hs = hs, s->dtype = q.dtype();
  if (docs) {
    if (!s->docs.defined() || s->docs.numel() != docs->numel())
      s->docs = empty({B, Tn}, DType::I32);
    copy_range(s->docs, 0, *docs, 0, docs->numel());
  } else {
    s->docs = Tensor();
  }
  const int32_t* d = docs ? s->docs.as<int32_t>() : nullptr;
  NLM_CUDA_DISPATCH(
      q, flash_attention_forward<T>(out.as<T>(), s->lse.as<float>(), q.as<T>(), k.as<T>(),
                                    v.as<T>(), d, B, Tn, NH, NKV, hs, im.stream));
  check_launch("flash_attention_forward");
  copy_range(s->out, 0, out, 0, out.numel());
}

void CudaBackend::attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout,
                                     AttentionState& state, const Tensor& q, const Tensor& k,
                                     const Tensor& v, int B, int Tn) {
  own("attention_backward", {&dq, &dk, &dv, &dout, &q, &k, &v});
  same_shape(dq, q, "attention_backward");
  same_shape(dk, k, "attention_backward");
  same_shape(dv, v, "attention_backward");
  same_shape(dout, q, "attention_backward");
  for (const Tensor* t : std::initializer_list<const Tensor*>{&dq, &dk, &dv, &dout, &k, &v})
    same_dtype(*t, q, "attention_backward");
  auto* s = dynamic_cast<CudaAttentionState*>(&state);
  check(s != nullptr, "attention_backward", "the state comes from another backend");
  const int hs = last(q), NH = static_cast<int>(q.numel() / (int64_t(B) * Tn * hs));
  const int NKV = static_cast<int>(k.numel() / (int64_t(B) * Tn * hs));
  check(s->B == B && s->T == Tn && s->NH == NH && s->NKV == NKV && s->hs == hs &&
            s->dtype == q.dtype(),
        "attention_backward", "the state belongs to a forward of another shape");
  Impl& im = impl();
  Scratch work(*this, flash_attention_backward_workspace(B, Tn, NH, NKV, hs));
  const int32_t* d = s->docs.defined() ? s->docs.as<int32_t>() : nullptr;
  NLM_CUDA_DISPATCH(
      q, flash_attention_backward<T>(dq.as<T>(), dk.as<T>(), dv.as<T>(), dout.as<T>(),
                                     s->out.as<T>(), s->lse.as<float>(), q.as<T>(), k.as<T>(),
                                     v.as<T>(), d, B, Tn, NH, NKV, hs, work.as<void>(), im.stream));
  check_launch("flash_attention_backward");
}

void CudaBackend::attention_cached(Tensor& out, const Tensor& q, const Tensor& kcache,
                                   const Tensor& vcache, int past, int Tq) {
  own("attention_cached", {&out, &q, &kcache, &vcache});
  floating(q, "attention_cached");
  same_shape(out, q, "attention_cached");
  same_shape(kcache, vcache, "attention_cached");
  same_dtype(out, q, "attention_cached");
  same_dtype(kcache, q, "attention_cached");
  same_dtype(vcache, q, "attention_cached");
  check(kcache.rank() == 3 && Tq > 0 && past >= 0, "attention_cached",
        "caches must be [Tmax,NKV,hs]");
  const int hs = last(q), NH = static_cast<int>(q.numel() / (int64_t(Tq) * hs));
  const int NKV = static_cast<int>(kcache.dim(1));
  check(kcache.dim(2) == hs && hs <= 256 && NKV > 0 && NH % NKV == 0, "attention_cached",
        "q [Tq,NH,hs] and caches [Tmax,NKV,hs] disagree");
  check(past + Tq <= kcache.dim(0), "attention_cached", "cache too short");
  Impl& im = impl();
  NLM_CUDA_DISPATCH(q, cuda::attention_cached<T>(out.as<T>(), q.as<T>(), kcache.as<T>(),
                                                 vcache.as<T>(), past, Tq, NH, NKV, hs, im.stream));
  check_launch("attention_cached");
}

void CudaBackend::swiglu_forward(Tensor& out, const Tensor& gate, const Tensor& up) {
  own("swiglu_forward", {&out, &gate, &up});
  floating(gate, "swiglu_forward");
  same_shape(out, gate, "swiglu_forward");
  same_shape(up, gate, "swiglu_forward");
  same_dtype(out, gate, "swiglu_forward");
  same_dtype(up, gate, "swiglu_forward");
  Impl& im = impl();
  NLM_CUDA_DISPATCH(gate, cuda::swiglu_forward<T>(out.as<T>(), gate.as<T>(), up.as<T>(),
                                                  gate.numel(), im.stream));
}

void CudaBackend::swiglu_backward(Tensor& dgate, Tensor& dup, const Tensor& dout,
                                  const Tensor& gate, const Tensor& up) {
  own("swiglu_backward", {&dgate, &dup, &dout, &gate, &up});
  floating(gate, "swiglu_backward");
  for (const Tensor* t : std::initializer_list<const Tensor*>{&dgate, &dup, &dout, &up}) {
    same_shape(*t, gate, "swiglu_backward");
    same_dtype(*t, gate, "swiglu_backward");
  }
  Impl& im = impl();
  NLM_CUDA_DISPATCH(gate,
                    cuda::swiglu_backward<T>(dgate.as<T>(), dup.as<T>(), dout.as<T>(), gate.as<T>(),
                                             up.as<T>(), gate.numel(), im.stream));
}

void CudaBackend::cross_entropy_forward(Tensor& losses, const Tensor& logits,
                                        const Tensor& targets) {
  own("cross_entropy_forward", {&losses, &logits, &targets});
  floating(logits, "cross_entropy_forward");
  ints(targets, "cross_entropy_forward");
  accum(losses, "cross_entropy_forward", "losses");
  const int V = last(logits), N = rows(logits);
  check(targets.numel() == N && losses.numel() == N, "cross_entropy_forward",
        "targets, losses [N]");
  Impl& im = impl();
  NLM_CUDA_DISPATCH(logits,
                    cuda::cross_entropy_forward<T>(losses.as<float>(), logits.as<T>(),
                                                   targets.as<int32_t>(), N, V, im.err, im.stream));
}

void CudaBackend::cross_entropy_backward(Tensor& dlogits, const Tensor& logits,
                                         const Tensor& targets, double scale) {
  own("cross_entropy_backward", {&dlogits, &logits, &targets});
  floating(logits, "cross_entropy_backward");
  ints(targets, "cross_entropy_backward");
  same_shape(dlogits, logits, "cross_entropy_backward");
  same_dtype(dlogits, logits, "cross_entropy_backward");
  const int V = last(logits), N = rows(logits);
  check(targets.numel() == N, "cross_entropy_backward", "targets [N]");
  Impl& im = impl();
  NLM_CUDA_DISPATCH(logits, cuda::cross_entropy_backward<T>(
                                dlogits.as<T>(), logits.as<T>(), targets.as<int32_t>(), N, V,
                                static_cast<float>(scale), im.err, im.stream));
}

void CudaBackend::adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr,
                               double beta1, double beta2, double eps, double weight_decay,
                               int64_t t) {
  own("adamw_update", {&param, &grad, &m, &v});
  floating(param, "adamw_update");
  same_shape(param, grad, "adamw_update");
  same_shape(param, m, "adamw_update");
  same_shape(param, v, "adamw_update");
  accum(grad, "adamw_update", "grad");
  accum(m, "adamw_update", "m");
  accum(v, "adamw_update", "v");
  check(t >= 1, "adamw_update", "step t starts at 1");
  const float c1 = static_cast<float>(1.0 / (1.0 - std::pow(beta1, double(t))));
  const float c2 = static_cast<float>(1.0 / (1.0 - std::pow(beta2, double(t))));
  Impl& im = impl();
  NLM_CUDA_DISPATCH(
      param, cuda::adamw_update<T>(param.as<T>(), grad.as<float>(), m.as<float>(), v.as<float>(),
                                   param.numel(), static_cast<float>(lr), static_cast<float>(beta1),
                                   static_cast<float>(beta2), static_cast<float>(eps),
                                   static_cast<float>(weight_decay), c1, c2, im.stream));
}

IdGroups group_by_id(const std::vector<int32_t>& ids) {
  const int N = static_cast<int>(ids.size());
  std::vector<int32_t> order(ids.size());
  for (int n = 0; n < N; ++n) order[n] = n;
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return ids[a] < ids[b]; });
  IdGroups out;
  out.packed = order;
  std::vector<int32_t> seg_id;
  for (int j = 0; j < N; ++j)
    if (j == 0 || ids[order[j]] != ids[order[j - 1]]) {
      out.packed.push_back(j);
      seg_id.push_back(ids[order[j]]);
    }
  out.segments = static_cast<int>(seg_id.size());
  out.packed.push_back(N);
  out.packed.insert(out.packed.end(), seg_id.begin(), seg_id.end());
  return out;
}

// ---- the devices ------------------------------------------------------------------------------

namespace {
std::string& no_device_text() {
  static std::string text;
  return text;
}
}  // namespace

std::string no_device_reason() { return no_device_text(); }

std::vector<std::pair<std::string, Backend*>> device_backends() {
  std::vector<std::pair<std::string, Backend*>> out;
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {  // no driver, no GPU: nothing, silently
    no_device_text() = err != cudaSuccess ? cudaGetErrorString(err) : "no CUDA device";
    cudaGetLastError();
    return out;
  }
  for (int i = 0; i < count; ++i) {
    // Never deleted: tensors released at exit still call back into their backend.
    auto* be = new CudaBackend(i);
    out.emplace_back(be->name(), be);
  }
  return out;
}

}  // namespace nlm::tensor::cuda
