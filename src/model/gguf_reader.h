// Reads a GGUF file (v2 or v3) back: the metadata with its types, the tensor infos and the
// tensor bytes through a read-only mapping, and F32 values of the F32/F16/BF16/Q8_0/Q4_0 tensors.
// Every count, length and offset is checked against the file size before it is used, so a
// truncated or corrupt file is a runtime nlm::Error naming the file, never a crash. The exporter's
// tests read what it wrote with it, and `nativelm` can inspect files from other tools.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/mmap_file.h"
#include "model/gguf_format.h"

namespace nlm::model::gguf {

struct Value {
  ValueType type = ValueType::U8;
  ValueType element = ValueType::U8;  // arrays: the element type
  // Scalars: integers and bools in `integer` (signed types sign-extended, U64 bit-cast), floats
  // in `real`, strings in `text`. Arrays: strings in `texts`, numbers in `numbers`.
  int64_t integer = 0;
  double real = 0;
  std::string text;
  std::vector<std::string> texts;
  std::vector<double> numbers;
};

struct TensorInfo {
  std::string name;
  uint32_t type = 0;          // ggml_type; known_tensor_type() tells whether it is one of ours
  std::vector<int64_t> dims;  // ne: fastest-moving first
  uint64_t offset = 0;        // from the start of the data section
  uint64_t bytes = 0;         // 0 for unknown types
  int64_t elements() const;
};

class Reader {
 public:
  explicit Reader(const std::string& path);
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
  const Value* find(const std::string& key) const;
  // Typed lookups; a missing key or another type is a runtime error naming the key.
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;     // any integer type
  double get_real(const std::string& key) const;     // F32 or F64
  bool get_bool(const std::string& key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(const std::string& name) const;
  const uint8_t* data(const TensorInfo& t) const { return data_ + t.offset; }
  // All elements as F32 (dequantised); a runtime error for types this reader cannot decode.
  std::vector<float> read_f32(const TensorInfo& t) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  MappedFile map_;
  uint32_t version_ = 0, alignment_ = kDefaultAlignment;
  std::vector<std::pair<std::string, Value>> kv_;
  std::vector<TensorInfo> tensors_;
  const uint8_t* data_ = nullptr;
};

}  // namespace nlm::model::gguf
