// Backend helpers shared by every device (see backend.h): allocation, op names, and the
// defaults of the optional ops.
#include "tensor/backend.h"

#include <vector>

#include "core/error.h"

namespace nlm::tensor {

Tensor Backend::empty(const Shape& shape, DType dtype) {
  size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  return Tensor(std::make_shared<Storage>(this, allocate(bytes), bytes), shape, dtype);
}

Tensor Backend::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  zero(t);
  return t;
}

void Backend::convert(Tensor& dst, const Tensor& src) {
  if (dst.numel() != src.numel())
    runtime_error("convert from " + shape_string(src.shape()) + " to " + shape_string(dst.shape()) +
                      ": element counts differ",
                  "backend");
  std::vector<double> host(static_cast<size_t>(src.numel()));
  download(src, host.data(), DType::F64);
  upload(dst, host.data(), DType::F64);
}

void Backend::attention_cached(Tensor&, const Tensor&, const Tensor&, const Tensor&, int, int) {
  unsupported_op(*this, Op::AttentionCached);
}

const char* op_name(Op op) {
  switch (op) {
    case Op::Add: return "add";
    case Op::Scale: return "scale";
    case Op::Mul: return "mul";
    case Op::Sum: return "sum";
    case Op::SumSquares: return "sum_squares";
    case Op::EmbeddingForward: return "embedding_forward";
    case Op::EmbeddingBackward: return "embedding_backward";
    case Op::MatmulForward: return "matmul_forward";
    case Op::MatmulBackward: return "matmul_backward";
    case Op::RmsnormForward: return "rmsnorm_forward";
    case Op::RmsnormBackward: return "rmsnorm_backward";
    case Op::RopeForward: return "rope_forward";
    case Op::RopeBackward: return "rope_backward";
    case Op::AttentionForward: return "attention_forward";
    case Op::AttentionBackward: return "attention_backward";
    case Op::AttentionCached: return "attention_cached";
    case Op::SwigluForward: return "swiglu_forward";
    case Op::SwigluBackward: return "swiglu_backward";
    case Op::CrossEntropyForward: return "cross_entropy_forward";
    case Op::CrossEntropyBackward: return "cross_entropy_backward";
    case Op::AdamwUpdate: return "adamw_update";
  }
  return "unknown op";
}

void unsupported_op(const Backend& backend, Op op) {
  runtime_error(std::string(op_name(op)) + " is not supported by the " + backend.name() + " backend",
                "backend", "ask supports() first and fall back; this is a bug in the caller");
}

}  // namespace nlm::tensor
