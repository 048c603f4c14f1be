// A tensor is a handle to a block of memory that a backend owns on its device, plus a shape and a
// dtype. Model code creates tensors through a Backend, moves data in and out only with
// Backend::upload/download, and computes only through Backend ops; it never dereferences
// raw(), which may be device memory. Handles are cheap to copy and share their storage. A view
// (Tensor::view) is a handle onto a contiguous element range of another tensor's storage, so one
// flat buffer can back many tensors (the optimizer's flat gradient and parameter buffers).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace nlm::tensor {

class Backend;

enum class DeviceKind : uint8_t { CPU, CUDA };

struct Device {
  DeviceKind kind = DeviceKind::CPU;
  int index = 0;
  bool operator==(const Device&) const = default;
  std::string name() const;  // "cpu", "cuda:0"
};

using Shape = std::vector<int64_t>;
std::string shape_string(const Shape& s);  // "[2, 3, 4]"
int64_t shape_numel(const Shape& s);

// Memory owned by a backend; released through it when the last tensor handle goes away.
struct Storage {
  Backend* backend = nullptr;
  void* ptr = nullptr;
  size_t bytes = 0;
  Storage(Backend* b, void* p, size_t n) : backend(b), ptr(p), bytes(n) {}
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::shared_ptr<Storage> storage, Shape shape, DType dtype)
      : storage_(std::move(storage)), shape_(std::move(shape)), dtype_(dtype) {}

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_.at(i); }
  size_t rank() const { return shape_.size(); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t bytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Backend& backend() const { return *storage_->backend; }

  // The same storage seen with another shape of equal element count (no copy).
  Tensor reshaped(Shape shape) const;

  // `shape`'s elements starting `offset` elements into this tensor, sharing its storage (no
  // copy): writes through either handle are seen by both. A runtime error when out of range.
  Tensor view(int64_t offset, Shape shape) const;

  // The memory on the tensor's device (the view's first element). Only backends may dereference it.
  void* raw() const { return storage_ ? static_cast<char*>(storage_->ptr) + offset_bytes_ : nullptr; }
  template <class T>
  T* as() const {
    return static_cast<T*>(raw());
  }

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  DType dtype_ = DType::F32;
  size_t offset_bytes_ = 0;  // where a view starts in storage_
};

}  // namespace nlm::tensor
