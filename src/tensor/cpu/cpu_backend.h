// The CPU backend: host memory (64-byte aligned), OpenBLAS for matmuls, OpenMP + SIMD loops for
// everything else. Dispatches each op on dtype to the float or double kernels in kernels.h, and
// BF16 ops to bf16_ops.h (fp32 kernels on widened copies, results rounded once, the accum_dtype
// tensors kept in fp32), so mixed precision runs and is tested without a GPU.
// Only src/tensor/ names this class; everything else gets it as backend_for("cpu").
#pragma once
#include "tensor/backend.h"

namespace nlm::tensor {

class CpuBackend final : public Backend {
 public:
  // threads <= 0 uses nlm::thread_count().
  explicit CpuBackend(int threads = 0);
  void set_threads(int threads);
  int threads() const { return threads_; }

  Device device() const override { return {}; }
  std::string name() const override { return "cpu"; }
  // Every op, in F32, F64 and BF16. In BF16 the accum_dtype tensors of backend.h are F32, and
  // adamw_update takes a BF16 param with F32 grad and moments (a model without master weights).
  bool supports(Op op, DType dtype) const override;
  // Times a 512³ sgemm through OpenBLAS on nlm::thread_count() threads (best of 2).
  double peak_flops() override;
  void* allocate(size_t bytes) override;
  void release(void* ptr, size_t bytes) override;
  void upload(Tensor& t, const void* host, DType host_type) override;
  void download(const Tensor& t, void* host, DType host_type) override;
  void zero(Tensor& t) override;
  void convert(Tensor& dst, const Tensor& src) override;
  void copy_range(Tensor& dst, int64_t dst_offset, const Tensor& src, int64_t src_offset,
                  int64_t n) override;

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
  // The state keeps the softmax probabilities [B,NH,T,T].
  void attention_forward(Tensor& out, std::unique_ptr<AttentionState>& state, const Tensor& q,
                         const Tensor& k, const Tensor& v, const Tensor* docs, int B,
                         int T) override;
  void attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout,
                          AttentionState& state, const Tensor& q, const Tensor& k,
                          const Tensor& v, int B, int T) override;
  void attention_cached(Tensor& out, const Tensor& q, const Tensor& kcache, const Tensor& vcache,
                        int past, int Tq) override;
  void swiglu_forward(Tensor& out, const Tensor& gate, const Tensor& up) override;
  void swiglu_backward(Tensor& dgate, Tensor& dup, const Tensor& dout, const Tensor& gate,
                       const Tensor& up) override;
  void cross_entropy_forward(Tensor& losses, const Tensor& logits, const Tensor& targets) override;
  void cross_entropy_backward(Tensor& dlogits, const Tensor& logits, const Tensor& targets,
                              double scale) override;
  void adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr,
                    double beta1, double beta2, double eps, double weight_decay,
                    int64_t t) override;

 private:
  void rope(Tensor& x, const Tensor& pos, const Tensor& cos, const Tensor& sin, int sign);
  int threads_ = 1;
};

// The process-wide CPU backend (threads from nlm::thread_count()). Outside src/tensor/ use
// backend_for("cpu").
CpuBackend& cpu_backend();

}  // namespace nlm::tensor
