// The argument checks every backend's ops share. A shape or dtype that does not fit an op is a
// bug in the calling code, never user input, so a failed check is a runtime error naming the
// backend and the op. Each backend binds its name once (`cpu backend`, `cuda backend`).
#pragma once
#include <string>

#include "core/error.h"
#include "tensor/tensor.h"

namespace nlm::tensor::op_checks {

inline void check(bool ok, const char* backend, const char* op, const std::string& what) {
  if (!ok) runtime_error(what, std::string(backend) + " " + op, "this is a bug in the caller");
}
inline void same_shape(const char* backend, const Tensor& a, const Tensor& b, const char* op) {
  check(a.shape() == b.shape(), backend, op,
        "shape mismatch " + shape_string(a.shape()) + " vs " + shape_string(b.shape()));
}
inline void same_dtype(const char* backend, const Tensor& a, const Tensor& b, const char* op) {
  check(a.dtype() == b.dtype(), backend, op,
        "dtype mismatch " + std::string(dtype_name(a.dtype())) + " vs " +
            std::string(dtype_name(b.dtype())));
}
inline void ints(const char* backend, const Tensor& t, const char* op) {
  check(t.dtype() == DType::I32, backend, op, "expected I32");
}
// The last dimension, and the rows before it, of a row-major tensor.
inline int last(const Tensor& t) { return static_cast<int>(t.shape().back()); }
inline int rows(const Tensor& t) { return static_cast<int>(t.numel() / t.shape().back()); }

}  // namespace nlm::tensor::op_checks
