// Writes a GGUF v3 file: the header (magic, version, tensor and metadata counts), the metadata
// key/value pairs in the order they were set, the tensor infos (name, dims with the fastest-moving
// dimension first, ggml type, offset), zero padding to general.alignment, then each tensor's data
// padded to the alignment. Tensor bytes are produced one tensor at a time while writing, so a
// model is never held in memory twice; the file is published atomically.
#pragma once
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "model/gguf_format.h"

namespace nlm::model::gguf {

class Writer {
 public:
  // Sets general.alignment (a power of two) as the first key.
  explicit Writer(uint32_t alignment = kDefaultAlignment);

  // Metadata. A key set twice is a runtime error (a bug in the caller, not bad input).
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_string(const std::string& key, const std::string& v);
  void set_strings(const std::string& key, const std::vector<std::string>& v);
  void set_i32s(const std::string& key, const std::vector<int32_t>& v);
  void set_f32s(const std::string& key, const std::vector<float>& v);

  // Appends exactly the tensor's bytes to `out` (which starts empty).
  using Producer = std::function<void(std::string& out)>;
  // dims are ggml's ne: the fastest-moving dimension first (an HF [rows, cols] matrix is
  // {cols, rows}); 1 to 4 of them, each ≥ 1, dims[0] a multiple of the type's block size.
  void add_tensor(const std::string& name, TensorType type, std::vector<int64_t> dims, Producer produce);

  // Writes the file; a producer that yields the wrong number of bytes is a runtime error.
  void write(const std::string& path) const;

  uint64_t kv_count() const { return kv_count_; }
  size_t tensor_count() const { return tensors_.size(); }
  uint32_t alignment() const { return alignment_; }

 private:
  struct TensorInfo {
    std::string name;
    TensorType type;
    std::vector<int64_t> dims;
    uint64_t bytes;
    Producer produce;
  };
  void begin_key(const std::string& key, ValueType type);

  uint32_t alignment_;
  std::string kv_;  // the encoded key/value pairs
  uint64_t kv_count_ = 0;
  std::set<std::string> keys_, names_;
  std::vector<TensorInfo> tensors_;
};

}  // namespace nlm::model::gguf
