// A second backend for the tests: it runs every op on the CPU backend's kernels but reports its
// own name ("fake"), counts the calls it receives, and can declare ops unsupported (calling one
// then throws). Kernel tests, model and training run through it to show that a backend plugs
// in through tensor::backend_for() without any change to model or trainer code.
#pragma once
#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <utility>

#include "tensor/backend.h"

namespace nlm::testing {

class FakeBackend final : public tensor::Backend {
 public:
  using Op = tensor::Op;
  using Tensor = tensor::Tensor;
  static constexpr double kPeakFlops = 1.5e12;  // what peak_flops() reports

  // By default attention_cached is unsupported, so decoding must take its fallback.
  FakeBackend() : unsupported_{Op::AttentionCached} {}

  tensor::Device device() const override { return cpu_.device(); }
  std::string name() const override { return "fake"; }
  bool supports(Op op, tensor::DType dtype) const override {
    return !unsupported_.count(op) && cpu_.supports(op, dtype);
  }
  double peak_flops() override { return kPeakFlops; }

  void set_unsupported(std::set<Op> ops) { unsupported_ = std::move(ops); }
  int64_t calls(Op op) const { return calls_[static_cast<size_t>(op)]; }
  int64_t total_calls() const {
    int64_t n = 0;
    for (int64_t c : calls_) n += c;
    return n;
  }
  void reset_calls() { calls_.fill(0); }

  // ---- memory: host memory through the CPU backend ------------------------------------------
  void* allocate(size_t bytes) override { return cpu_.allocate(bytes); }
  void release(void* ptr, size_t bytes) override { cpu_.release(ptr, bytes); }
  void upload(Tensor& t, const void* host, tensor::DType type) override { cpu_.upload(t, host, type); }
  void download(const Tensor& t, void* host, tensor::DType type) override {
    cpu_.download(t, host, type);
  }
  void zero(Tensor& t) override { cpu_.zero(t); }
  void copy_range(Tensor& dst, int64_t dst_offset, const Tensor& src, int64_t src_offset,
                  int64_t n) override {
    cpu_.copy_range(dst, dst_offset, src, src_offset, n);
  }

  // ---- ops: counted, then run by the CPU backend -------------------------------------------
  void add(Tensor& a, const Tensor& b) override {
    enter(Op::Add);
    cpu_.add(a, b);
  }
  void scale(Tensor& x, double s) override {
    enter(Op::Scale);
    cpu_.scale(x, s);
  }
  void mul(Tensor& a, const Tensor& b) override {
    enter(Op::Mul);
    cpu_.mul(a, b);
  }
  double sum(const Tensor& x) override {
    enter(Op::Sum);
    return cpu_.sum(x);
  }
  double sum_squares(const Tensor& x) override {
    enter(Op::SumSquares);
    return cpu_.sum_squares(x);
  }
  void embedding_forward(Tensor& out, const Tensor& ids, const Tensor& table) override {
    enter(Op::EmbeddingForward);
    cpu_.embedding_forward(out, ids, table);
  }
  void embedding_backward(Tensor& dtable, const Tensor& dout, const Tensor& ids) override {
    enter(Op::EmbeddingBackward);
    cpu_.embedding_backward(dtable, dout, ids);
  }
  void matmul_forward(Tensor& out, const Tensor& inp, const Tensor& weight,
                      const Tensor* bias) override {
    enter(Op::MatmulForward);
    cpu_.matmul_forward(out, inp, weight, bias);
  }
  void matmul_backward(Tensor* dinp, Tensor* dweight, Tensor* dbias, const Tensor& dout,
                       const Tensor& inp, const Tensor& weight, bool accumulate_dinp) override {
    enter(Op::MatmulBackward);
    cpu_.matmul_backward(dinp, dweight, dbias, dout, inp, weight, accumulate_dinp);
  }
  void rmsnorm_forward(Tensor& out, Tensor& rstd, const Tensor& inp, const Tensor& weight,
                       double eps) override {
    enter(Op::RmsnormForward);
    cpu_.rmsnorm_forward(out, rstd, inp, weight, eps);
  }
  void rmsnorm_backward(Tensor& dinp, Tensor& dweight, const Tensor& dout, const Tensor& inp,
                        const Tensor& weight, const Tensor& rstd) override {
    enter(Op::RmsnormBackward);
    cpu_.rmsnorm_backward(dinp, dweight, dout, inp, weight, rstd);
  }
  void rope_forward(Tensor& x, const Tensor& pos, const Tensor& cos, const Tensor& sin) override {
    enter(Op::RopeForward);
    cpu_.rope_forward(x, pos, cos, sin);
  }
  void rope_backward(Tensor& dx, const Tensor& pos, const Tensor& cos, const Tensor& sin) override {
    enter(Op::RopeBackward);
    cpu_.rope_backward(dx, pos, cos, sin);
  }
  void attention_forward(Tensor& out, std::unique_ptr<tensor::AttentionState>& state,
                         const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* docs,
                         int B, int T) override {
    enter(Op::AttentionForward);
    cpu_.attention_forward(out, state, q, k, v, docs, B, T);
  }
  void attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout,
                          tensor::AttentionState& state, const Tensor& q, const Tensor& k,
                          const Tensor& v, int B, int T) override {
    enter(Op::AttentionBackward);
    cpu_.attention_backward(dq, dk, dv, dout, state, q, k, v, B, T);
  }
  void attention_cached(Tensor& out, const Tensor& q, const Tensor& kcache, const Tensor& vcache,
                        int past, int Tq) override {
    enter(Op::AttentionCached);
    cpu_.attention_cached(out, q, kcache, vcache, past, Tq);
  }
  void swiglu_forward(Tensor& out, const Tensor& gate, const Tensor& up) override {
    enter(Op::SwigluForward);
    cpu_.swiglu_forward(out, gate, up);
  }
  void swiglu_backward(Tensor& dgate, Tensor& dup, const Tensor& dout, const Tensor& gate,
                       const Tensor& up) override {
    enter(Op::SwigluBackward);
    cpu_.swiglu_backward(dgate, dup, dout, gate, up);
  }
  void cross_entropy_forward(Tensor& losses, const Tensor& logits, const Tensor& targets) override {
    enter(Op::CrossEntropyForward);
    cpu_.cross_entropy_forward(losses, logits, targets);
  }
  void cross_entropy_backward(Tensor& dlogits, const Tensor& logits, const Tensor& targets,
                              double scale) override {
    enter(Op::CrossEntropyBackward);
    cpu_.cross_entropy_backward(dlogits, logits, targets, scale);
  }
  void adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr,
                    double beta1, double beta2, double eps, double weight_decay,
                    int64_t t) override {
    enter(Op::AdamwUpdate);
    cpu_.adamw_update(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, t);
  }

 private:
  // Counts the call; an op declared unsupported throws like a backend without the kernel.
  void enter(Op op) {
    if (unsupported_.count(op)) tensor::unsupported_op(*this, op);
    ++calls_[static_cast<size_t>(op)];
  }

  tensor::Backend& cpu_ = tensor::backend_for("cpu");
  std::set<Op> unsupported_;
  std::array<int64_t, tensor::kOpCount> calls_{};
};

// The process's fake backend, registered as device "fake" on first use. Never destroyed, so
// tensors released during static destruction still find it.
inline FakeBackend& fake_backend() {
  static FakeBackend* fake = [] {
    auto* f = new FakeBackend;
    tensor::register_backend("fake", *f);
    return f;
  }();
  return *fake;
}

}  // namespace nlm::testing
