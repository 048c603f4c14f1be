// Read-only memory mapping of a whole file, for token shards and indexes that are read randomly.
// An empty file maps to an empty span (mmap of length 0 is not allowed, so it is special-cased).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nlm {

class MappedFile {
 public:
  MappedFile() = default;
  // Throws nlm::Error (runtime) when the file cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }

 private:
  void release();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace nlm
