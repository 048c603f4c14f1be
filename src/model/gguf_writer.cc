// GGUF v3 writer (see gguf_writer.h).
#include "model/gguf_writer.h"

#include <cstring>

#include "core/atomic_file.h"
#include "core/error.h"

namespace nlm::model::gguf {

namespace {

template <class T>
void put(std::string& out, T v) {  // little-endian hosts only (x86-64, aarch64)
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

void put_string(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out += s;
}

uint64_t padded(uint64_t n, uint64_t align) { return (n + align - 1) / align * align; }

constexpr size_t kMaxName = 63;  // ggml's GGML_MAX_NAME (64) less the terminating NUL
constexpr size_t kMaxDims = 4;   // GGML_MAX_DIMS

}  // namespace

Writer::Writer(uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    runtime_error("GGUF alignment must be a power of two, got " + std::to_string(alignment));
  set_u32("general.alignment", alignment);
}

void Writer::begin_key(const std::string& key, ValueType type) {
  if (key.empty()) runtime_error("empty GGUF metadata key");
  if (!keys_.insert(key).second) runtime_error("GGUF metadata key " + echoed(key, 80) + " set twice");
  put_string(kv_, key);
  put<uint32_t>(kv_, static_cast<uint32_t>(type));
  ++kv_count_;
}

void Writer::set_u32(const std::string& key, uint32_t v) { begin_key(key, ValueType::U32); put(kv_, v); }
void Writer::set_i32(const std::string& key, int32_t v) { begin_key(key, ValueType::I32); put(kv_, v); }
void Writer::set_u64(const std::string& key, uint64_t v) { begin_key(key, ValueType::U64); put(kv_, v); }
void Writer::set_f32(const std::string& key, float v) { begin_key(key, ValueType::F32); put(kv_, v); }
void Writer::set_bool(const std::string& key, bool v) {
  begin_key(key, ValueType::Bool);
  put<uint8_t>(kv_, v ? 1 : 0);
}
void Writer::set_string(const std::string& key, const std::string& v) {
  begin_key(key, ValueType::String);
  put_string(kv_, v);
}

void Writer::set_strings(const std::string& key, const std::vector<std::string>& v) {
  begin_key(key, ValueType::Array);
  put<uint32_t>(kv_, static_cast<uint32_t>(ValueType::String));
  put<uint64_t>(kv_, v.size());
  for (auto& s : v) put_string(kv_, s);
}

void Writer::set_i32s(const std::string& key, const std::vector<int32_t>& v) {
  begin_key(key, ValueType::Array);
  put<uint32_t>(kv_, static_cast<uint32_t>(ValueType::I32));
  put<uint64_t>(kv_, v.size());
  for (int32_t x : v) put(kv_, x);
}

void Writer::set_f32s(const std::string& key, const std::vector<float>& v) {
  begin_key(key, ValueType::Array);
  put<uint32_t>(kv_, static_cast<uint32_t>(ValueType::F32));
  put<uint64_t>(kv_, v.size());
  for (float x : v) put(kv_, x);
}

void Writer::add_tensor(const std::string& name, TensorType type, std::vector<int64_t> dims,
                        Producer produce) {
  if (name.empty() || name.size() > kMaxName)
    runtime_error("GGUF tensor name must have 1 to 63 bytes: " + echoed(name, 80));
  if (names_.count(name)) runtime_error("GGUF tensor " + echoed(name, 80) + " added twice");
  if (dims.empty() || dims.size() > kMaxDims)
    runtime_error("GGUF tensor " + echoed(name, 80) + " needs 1 to 4 dimensions");
  uint64_t rows = 1;
  for (int64_t d : dims) {
    if (d < 1) runtime_error("GGUF tensor " + echoed(name, 80) + " has a dimension < 1");
    rows *= static_cast<uint64_t>(d);
  }
  rows /= static_cast<uint64_t>(dims[0]);
  if (dims[0] % block_elements(type) != 0)
    runtime_error("GGUF tensor " + echoed(name, 80) + ": rows of " + std::to_string(dims[0]) +
                  " are not whole " + std::string(tensor_type_name(type)) + " blocks");
  const uint64_t bytes = rows * row_bytes(type, dims[0]);
  names_.insert(name);
  tensors_.push_back({name, type, std::move(dims), bytes, std::move(produce)});
}

void Writer::write(const std::string& path) const {
  std::string head;
  put<uint32_t>(head, kMagic);
  put<uint32_t>(head, kVersion);
  put<uint64_t>(head, tensors_.size());
  put<uint64_t>(head, kv_count_);
  head += kv_;
  uint64_t offset = 0;
  for (auto& t : tensors_) {
    put_string(head, t.name);
    put<uint32_t>(head, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) put<uint64_t>(head, static_cast<uint64_t>(d));
    put<uint32_t>(head, static_cast<uint32_t>(t.type));
    put<uint64_t>(head, offset);
    offset = padded(offset + t.bytes, alignment_);
  }
  head.resize(padded(head.size(), alignment_), '\0');

  AtomicFile file(path);
  file.write(head);
  std::string data;
  for (auto& t : tensors_) {
    data.clear();
    t.produce(data);
    if (data.size() != t.bytes)
      runtime_error("GGUF tensor " + echoed(t.name, 80) + " produced " + std::to_string(data.size()) +
                    " bytes, expected " + std::to_string(t.bytes), path);
    data.resize(padded(data.size(), alignment_), '\0');
    file.write(data);
  }
  file.commit();
}

}  // namespace nlm::model::gguf
