// The safetensors format, spec-exact both ways: 8-byte little-endian header length, a JSON header
// mapping each tensor name to {dtype, shape, data_offsets} (plus optional "__metadata__" of
// strings), padded with spaces to a multiple of 8 bytes, then the tensors' bytes back to back
// with offsets relative to the end of the header. Reading maps the file and validates every
// entry (bounds, sizes, overlaps) so a corrupt file gives a clear error, never a crash.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/mmap_file.h"
#include "tensor/dtype.h"
#include "tensor/tensor.h"

namespace nlm::model {

struct SafetensorsEntry {
  std::string name;
  tensor::DType dtype = tensor::DType::F32;
  tensor::Shape shape;
  uint64_t begin = 0, end = 0;  // byte offsets in the data section
};

class SafetensorsReader {
 public:
  // Throws a runtime nlm::Error naming the file when it is missing or malformed.
  explicit SafetensorsReader(const std::string& path);
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  const SafetensorsEntry* find(const std::string& name) const;
  // The raw little-endian bytes of an entry.
  const uint8_t* data(const SafetensorsEntry& e) const { return data_ + e.begin; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  MappedFile map_;
  const uint8_t* data_ = nullptr;
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

struct SafetensorsTensor {
  std::string name;
  tensor::DType dtype;
  tensor::Shape shape;
  const void* bytes;  // numel · dtype_size bytes on the host
};

// Writes tensors in the given order, published atomically.
void write_safetensors(const std::string& path, const std::vector<SafetensorsTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// The header bytes (length prefix + padded JSON) for these tensors; exposed for tests.
std::string safetensors_header(const std::vector<SafetensorsTensor>& tensors,
                               const std::map<std::string, std::string>& metadata);

}  // namespace nlm::model
