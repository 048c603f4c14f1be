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
  return Tensor(storage_, std::move(shape), dtype_);
}

}  // namespace nlm::tensor
