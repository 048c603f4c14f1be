// Backend helpers shared by every device (see backend.h).
#include "tensor/backend.h"

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

}  // namespace nlm::tensor
