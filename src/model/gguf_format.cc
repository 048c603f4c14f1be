// Sizes and names of the GGUF value types and ggml tensor types (see gguf_format.h).
#include "model/gguf_format.h"

namespace nlm::model::gguf {

size_t value_size(ValueType t) {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::Bool: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
    case ValueType::String: case ValueType::Array: return 0;
  }
  return 0;
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::F64); }

bool known_tensor_type(uint32_t t) {
  return t == 0 || t == 1 || t == 2 || t == 6 || t == 8 || t == 12 || t == 14 || t == 30;
}

std::string_view tensor_type_name(TensorType t) {
  switch (t) {
    case TensorType::F32: return "F32";
    case TensorType::F16: return "F16";
    case TensorType::Q4_0: return "Q4_0";
    case TensorType::Q5_0: return "Q5_0";
    case TensorType::Q8_0: return "Q8_0";
    case TensorType::Q4_K: return "Q4_K";
    case TensorType::Q6_K: return "Q6_K";
    case TensorType::BF16: return "BF16";
  }
  return "?";
}

int64_t block_elements(TensorType t) {
  switch (t) {
    case TensorType::Q4_0: case TensorType::Q5_0: case TensorType::Q8_0: return 32;
    case TensorType::Q4_K: case TensorType::Q6_K: return 256;
    default: return 1;
  }
}

int64_t block_bytes(TensorType t) {
  switch (t) {
    case TensorType::F32: return 4;
    case TensorType::F16: case TensorType::BF16: return 2;
    case TensorType::Q4_0: return 2 + 16;  // fp16 scale, 32 nibbles
    case TensorType::Q5_0: return 2 + 4 + 16;  // fp16 scale, 32 high bits, 32 low nibbles
    case TensorType::Q8_0: return 2 + 32;  // fp16 scale, 32 int8
    case TensorType::Q4_K: return 2 + 2 + 12 + 128;  // fp16 d and dmin, 8 6-bit scale/min pairs, 256 nibbles
    case TensorType::Q6_K: return 128 + 64 + 16 + 2;  // low nibbles, high 2 bits, 16 int8 scales, fp16 d
  }
  return 0;
}

uint64_t row_bytes(TensorType t, int64_t n) {
  return static_cast<uint64_t>(n / block_elements(t)) * static_cast<uint64_t>(block_bytes(t));
}

}  // namespace nlm::model::gguf
