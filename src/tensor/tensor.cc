// Tensor handles and shapes (see tensor.h).
#include "tensor/tensor.h"

#include "core/error.h"
#include "tensor/backend.h"

namespace nlm::tensor {

std::string Device::name() const {
  return kind == DeviceKind::CPU ? std::string("cpu") : "cuda:" + std::to_string(index);
}

std::string shape_string(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Storage::~Storage() {
  if (backend && ptr) backend->release(ptr, bytes);
}

Tensor Tensor::reshaped(Shape shape) const {
  if (shape_numel(shape) != numel())
    runtime_error("cannot reshape " + shape_string(shape_) + " to " + shape_string(shape),
                  "tensor::reshaped");
  Tensor t(storage_, std::move(shape), dtype_);
  t.offset_bytes_ = offset_bytes_;
  return t;
}

Tensor Tensor::view(int64_t offset, Shape shape) const {
  const int64_t n = shape_numel(shape);
  if (!storage_ || offset < 0 || n < 0 || offset + n > numel())
    runtime_error("view of " + std::to_string(n) + " elements at " + std::to_string(offset) + " is outside " +
                      shape_string(shape_),
                  "tensor::view");
  Tensor t(storage_, std::move(shape), dtype_);
  t.offset_bytes_ = offset_bytes_ + static_cast<size_t>(offset) * dtype_size(dtype_);
  return t;
}

}  // namespace nlm::tensor
