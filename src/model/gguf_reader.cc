// GGUF reader with bounds checks on every field (see gguf_reader.h).
#include "model/gguf_reader.h"

#include <cstring>
#include <set>

#include "core/error.h"
#include "model/gguf_blocks.h"

namespace nlm::model::gguf {

namespace {

// A cursor over the mapped bytes that fails cleanly at the end.
class Cursor {
 public:
  Cursor(const uint8_t* p, size_t n, const std::string& path) : p_(p), n_(n), path_(path) {}
  [[noreturn]] void bad(const std::string& what) const {
    runtime_error("corrupt GGUF file: " + what + " at byte " + std::to_string(at_), path_,
                  "re-export or re-download the file");
  }
  void need(uint64_t k) const {
    if (k > n_ - at_) bad("truncated (needs " + std::to_string(k) + " more bytes)");
  }
  template <class T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, p_ + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  std::string string() {
    uint64_t len = get<uint64_t>();
    need(len);
    std::string s(reinterpret_cast<const char*>(p_ + at_), len);
    at_ += len;
    return s;
  }
  size_t at() const { return at_; }
  size_t left() const { return n_ - at_; }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t at_ = 0;
  const std::string& path_;
};

void read_scalar(Cursor& c, ValueType t, int64_t& integer, double& real) {
  switch (t) {
    case ValueType::U8: integer = c.get<uint8_t>(); break;
    case ValueType::I8: integer = c.get<int8_t>(); break;
    case ValueType::U16: integer = c.get<uint16_t>(); break;
    case ValueType::I16: integer = c.get<int16_t>(); break;
    case ValueType::U32: integer = c.get<uint32_t>(); break;
    case ValueType::I32: integer = c.get<int32_t>(); break;
    case ValueType::U64: integer = static_cast<int64_t>(c.get<uint64_t>()); break;
    case ValueType::I64: integer = c.get<int64_t>(); break;
    case ValueType::F32: real = c.get<float>(); break;
    case ValueType::F64: real = c.get<double>(); break;
    case ValueType::Bool: {
      uint8_t b = c.get<uint8_t>();
      if (b > 1) c.bad("bool value " + std::to_string(b));
      integer = b;
      break;
    }
    case ValueType::String: case ValueType::Array: break;
  }
}

ValueType value_type(Cursor& c) {
  uint32_t t = c.get<uint32_t>();
  if (!valid_value_type(t)) c.bad("unknown value type " + std::to_string(t));
  return static_cast<ValueType>(t);
}

Value read_value(Cursor& c, ValueType t) {
  Value v;
  v.type = t;
  if (t == ValueType::String) {
    v.text = c.string();
  } else if (t == ValueType::Array) {
    v.element = value_type(c);
    if (v.element == ValueType::Array) c.bad("nested arrays are not supported");
    uint64_t n = c.get<uint64_t>();
    // Each element takes at least one byte (strings eight), so n is bounded by the bytes left.
    uint64_t least = v.element == ValueType::String ? 8 : value_size(v.element);
    if (n > c.left() / least) c.bad("array of " + std::to_string(n) + " elements runs past the end");
    if (v.element == ValueType::String) {
      v.texts.reserve(n);
      for (uint64_t i = 0; i < n; ++i) v.texts.push_back(c.string());
    } else {
      v.numbers.reserve(n);
      for (uint64_t i = 0; i < n; ++i) {
        int64_t integer = 0;
        double real = 0;
        read_scalar(c, v.element, integer, real);
        bool is_real = v.element == ValueType::F32 || v.element == ValueType::F64;
        v.numbers.push_back(is_real ? real : static_cast<double>(integer));
      }
    }
  } else {
    read_scalar(c, t, v.integer, v.real);
  }
  return v;
}

}  // namespace

int64_t TensorInfo::elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

Reader::Reader(const std::string& path) : path_(path), map_(path) {
  Cursor c(map_.data(), map_.size(), path_);
  if (c.get<uint32_t>() != kMagic) c.bad("not a GGUF file (no 'GGUF' magic)");
  version_ = c.get<uint32_t>();
  if (version_ != 2 && version_ != 3) c.bad("unsupported version " + std::to_string(version_));
  const uint64_t n_tensors = c.get<uint64_t>();
  const uint64_t n_kv = c.get<uint64_t>();
  // A key/value pair takes at least 13 bytes and a tensor info at least 24.
  if (n_kv > c.left() / 13) c.bad(std::to_string(n_kv) + " metadata pairs cannot fit");
  if (n_tensors > c.left() / 24) c.bad(std::to_string(n_tensors) + " tensors cannot fit");
  std::set<std::string> seen;
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.string();
    if (!seen.insert(key).second) c.bad("duplicate metadata key " + echoed(key, 80));
    ValueType t = value_type(c);
    kv_.emplace_back(key, read_value(c, t));
  }
  if (const Value* a = find("general.alignment")) {
    if (a->type != ValueType::U32 || a->integer == 0 || (a->integer & (a->integer - 1)) != 0)
      c.bad("general.alignment must be a power of two (U32)");
    alignment_ = static_cast<uint32_t>(a->integer);
  }
  seen.clear();
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo t;
    t.name = c.string();
    if (!seen.insert(t.name).second) c.bad("duplicate tensor " + echoed(t.name, 80));
    uint32_t nd = c.get<uint32_t>();
    if (nd < 1 || nd > 4) c.bad("tensor " + echoed(t.name, 80) + " has " + std::to_string(nd) + " dimensions");
    uint64_t total = 1;
    for (uint32_t d = 0; d < nd; ++d) {
      uint64_t ne = c.get<uint64_t>();
      if (ne < 1 || ne > (uint64_t(1) << 40) || total > (uint64_t(1) << 42) / ne)
        c.bad("tensor " + echoed(t.name, 80) + " has an impossible shape");
      total *= ne;
      t.dims.push_back(static_cast<int64_t>(ne));
    }
    t.type = c.get<uint32_t>();
    t.offset = c.get<uint64_t>();
    if (t.offset % alignment_ != 0) c.bad("tensor " + echoed(t.name, 80) + " offset is not aligned");
    if (known_tensor_type(t.type)) {
      auto tt = static_cast<TensorType>(t.type);
      if (t.dims[0] % block_elements(tt) != 0) c.bad("tensor " + echoed(t.name, 80) + " rows are not whole blocks");
      t.bytes = total / static_cast<uint64_t>(t.dims[0]) * row_bytes(tt, t.dims[0]);
    }
    tensors_.push_back(std::move(t));
  }
  const uint64_t data_start = (c.at() + alignment_ - 1) / alignment_ * alignment_;
  if (data_start > map_.size()) c.bad("data section starts past the end");
  data_ = map_.data() + data_start;
  const uint64_t data_size = map_.size() - data_start;
  for (auto& t : tensors_)
    if (t.offset > data_size || t.bytes > data_size - t.offset)
      c.bad("tensor " + echoed(t.name, 80) + " data runs past the end of the file");
}

const Value* Reader::find(const std::string& key) const {
  for (auto& [k, v] : kv_)
    if (k == key) return &v;
  return nullptr;
}

namespace {
[[noreturn]] void missing(const std::string& path, const std::string& key, const char* want) {
  runtime_error("GGUF key " + echoed(key, 80) + " is missing or not " + want, path);
}
bool is_integer(ValueType t) {
  return t != ValueType::F32 && t != ValueType::F64 && t != ValueType::String && t != ValueType::Array &&
         t != ValueType::Bool;
}
}  // namespace

std::string Reader::get_string(const std::string& key) const {
  const Value* v = find(key);
  if (!v || v->type != ValueType::String) missing(path_, key, "a string");
  return v->text;
}

int64_t Reader::get_int(const std::string& key) const {
  const Value* v = find(key);
  if (!v || !is_integer(v->type)) missing(path_, key, "an integer");
  return v->integer;
}

double Reader::get_real(const std::string& key) const {
  const Value* v = find(key);
  if (!v || (v->type != ValueType::F32 && v->type != ValueType::F64)) missing(path_, key, "a float");
  return v->real;
}

bool Reader::get_bool(const std::string& key) const {
  const Value* v = find(key);
  if (!v || v->type != ValueType::Bool) missing(path_, key, "a bool");
  return v->integer != 0;
}

const TensorInfo* Reader::find_tensor(const std::string& name) const {
  for (auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<float> Reader::read_f32(const TensorInfo& t) const {
  if (!known_tensor_type(t.type))
    runtime_error("tensor " + echoed(t.name, 80) + " has ggml type " + std::to_string(t.type) +
                  ", which this reader cannot decode", path_);
  auto tt = static_cast<TensorType>(t.type);
  std::vector<float> out(static_cast<size_t>(t.elements()));
  const int64_t rows = t.elements() / t.dims[0];
  const uint64_t rb = row_bytes(tt, t.dims[0]);
  for (int64_t r = 0; r < rows; ++r) decode_row(data(t) + r * rb, t.dims[0], tt, out.data() + r * t.dims[0]);
  return out;
}

}  // namespace nlm::model::gguf
