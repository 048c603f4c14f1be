// The CUDA backend: one per GPU ("cuda:0", ...), registered by backend_registry.cc when the
// build has CUDA (NATIVELM_HAS_CUDA) and the process sees a GPU. Data tensors are F32 or BF16
// (F64 is not supported); with BF16 data the accum_dtype tensors of backend.h's contract are F32
// and every op accumulates in fp32. Work is queued on one stream per device and memory comes from
// the stream-ordered pool (cudaMallocAsync), so ops return before the GPU finishes; upload,
// download, sum and synchronize wait. Matmuls run through cuBLASLt (matmul.h), attention through
// the flash-attention kernels (flash_attention.h), everything else through kernels.h.
//
// Bad indices found on the device (a position beyond the RoPE table, a target beyond the
// vocabulary) are reported as a runtime error at the next call that waits for the GPU; token ids
// are checked on the host by embedding_forward, which waits anyway.
#pragma once
#include <cuda_runtime.h>

#include <initializer_list>
#include <memory>
#include <vector>

#include "tensor/backend.h"

namespace nlm::tensor::cuda {

class CudaBackend final : public Backend {
 public:
  // Touches no CUDA state until first used.
  explicit CudaBackend(int device);
  ~CudaBackend() override;

  Device device() const override { return {DeviceKind::CUDA, device_}; }
  std::string name() const override { return "cuda:" + std::to_string(device_); }
  // Every op, for F32 and BF16 data.
  bool supports(Op op, DType dtype) const override;
  // peak_flops(DType::BF16): the dense bf16 tensor-core peak, since CUDA training runs in bf16.
  double peak_flops() override;
  // The dense matmul peak in FLOP/s for `dtype` data, from the device's SM count and clock and
  // the per-SM rate of its compute capability (NVIDIA's spec figures; for H100/H200 SXM the
  // spec's 989.4 TFLOP/s bf16): BF16 on tensor cores with fp32 accumulation, F32 on CUDA cores
  // (the F32 path does not use TF32). 0 for other dtypes.
  double peak_flops(DType dtype);
  // The stream every op of this backend is queued on. Memory from allocate() is ordered on it
  // (cudaMallocAsync/cudaFreeAsync): work on another stream (NCCL collectives) must wait for this
  // stream with an event before using a tensor, and this stream for that work before the tensor
  // is written again or released.
  cudaStream_t stream();

  void* allocate(size_t bytes) override;
  void release(void* ptr, size_t bytes) override;
  void upload(Tensor& t, const void* host, DType host_type) override;
  void download(const Tensor& t, void* host, DType host_type) override;
  void zero(Tensor& t) override;
  void copy_range(Tensor& dst, int64_t dst_offset, const Tensor& src, int64_t src_offset,
                  int64_t n) override;
  void synchronize() override;
  void convert(Tensor& dst, const Tensor& src) override;

  void add(Tensor& a, const Tensor& b) override;
  void scale(Tensor& x, double s) override;
  void mul(Tensor& a, const Tensor& b) override;
  double sum(const Tensor& x) override;
  double sum_squares(const Tensor& x) override;

  void embedding_forward(Tensor& out, const Tensor& ids, const Tensor& table) override;
  void embedding_backward(Tensor& dtable, const Tensor& dout, const Tensor& ids) override;
  void matmul_forward(Tensor& out, const Tensor& inp, const Tensor& weight,
                      const Tensor* bias) override;
  void matmul_backward(Tensor* dinp, Tensor* dweight, Tensor* dbias, const Tensor& dout,
                       const Tensor& inp, const Tensor& weight, bool accumulate_dinp) override;
  void rmsnorm_forward(Tensor& out, Tensor& rstd, const Tensor& inp, const Tensor& weight,
                       double eps) override;
  void rmsnorm_backward(Tensor& dinp, Tensor& dweight, const Tensor& dout, const Tensor& inp,
                        const Tensor& weight, const Tensor& rstd) override;
  void rope_forward(Tensor& x, const Tensor& pos, const Tensor& cos, const Tensor& sin) override;
  void rope_backward(Tensor& dx, const Tensor& pos, const Tensor& cos, const Tensor& sin) override;
  // The state keeps the per-row logsumexp [B,NH,T], its own copy of `out` and of `docs`.
  void attention_forward(Tensor& out, std::unique_ptr<AttentionState>& state, const Tensor& q,
                         const Tensor& k, const Tensor& v, const Tensor* docs, int B,
                         int T) override;
  void attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout,
                          AttentionState& state, const Tensor& q, const Tensor& k, const Tensor& v,
                          int B, int T) override;
  void attention_cached(Tensor& out, const Tensor& q, const Tensor& kcache, const Tensor& vcache,
                        int past, int Tq) override;
  void swiglu_forward(Tensor& out, const Tensor& gate, const Tensor& up) override;
  void swiglu_backward(Tensor& dgate, Tensor& dup, const Tensor& dout, const Tensor& gate,
                       const Tensor& up) override;
  void cross_entropy_forward(Tensor& losses, const Tensor& logits, const Tensor& targets) override;
  void cross_entropy_backward(Tensor& dlogits, const Tensor& logits, const Tensor& targets,
                              double scale) override;
  // grad, m and v are F32; param is F32 (master weights) or BF16.
  void adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr,
                    double beta1, double beta2, double eps, double weight_decay,
                    int64_t t) override;

 private:
  struct Impl;
  Impl& impl();  // makes the device current, creating the stream and buffers on first use
  void rope(Tensor& x, const Tensor& pos, const Tensor& cos, const Tensor& sin, int sign);
  double reduce(const Tensor& x, bool squares);  // sum or sum_squares, waiting for the result
  void check_device_errors();  // after a synchronisation: throws what the kernels reported
  void forget_ids(const void* ptr, size_t bytes);
  // Throws unless every (non-null) tensor lives on this backend: a host pointer in a kernel would
  // end the CUDA context for the whole process.
  void own(const char* op, std::initializer_list<const Tensor*> tensors)
      const;  // the cached ids are about to change

  int device_;
  std::unique_ptr<Impl> impl_;
};

// The dense matmul peak of a GPU of compute capability `cc` (major·10 + minor) with `sms` SMs at
// `clock_khz`, for `dtype` data (see CudaBackend::peak_flops(DType)). Pure, so it is tested
// without a GPU.
double spec_peak_flops(int cc, int sms, int clock_khz, DType dtype);

// embedding_backward's grouping of token ids: packed = order[N] | start[S+1] | id[S], where
// segment s holds the token indices order[start[s] .. start[s+1]) in increasing order, all with
// id[s], and ids increase with s. Pure, so it is tested without a GPU.
struct IdGroups {
  std::vector<int32_t> packed;
  int segments = 0;
};
IdGroups group_by_id(const std::vector<int32_t>& ids);

}  // namespace nlm::tensor::cuda
