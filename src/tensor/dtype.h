// Element types a tensor can hold, and the scalar conversions between them. fp32 is the compute
// type on CPU, fp64 the reference type for gradient checks, bf16/f16 storage types for checkpoints
// (HF safetensors) and later for CUDA activations, i32 for token ids, positions and document ids.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace nlm::tensor {

enum class DType : uint8_t { F32, F64, BF16, F16, I32 };

size_t dtype_size(DType t);
// Names as safetensors writes them: "F32", "F64", "BF16", "F16", "I32".
std::string_view dtype_name(DType t);
// Parses a safetensors dtype name; returns false for an unknown one.
bool parse_dtype(std::string_view name, DType& out);

// bf16 is the top half of an fp32; rounding is round-to-nearest-even, NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline float bf16_to_f32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
// IEEE half precision, round-to-nearest-even, with subnormals, inf and NaN.
uint16_t f32_to_f16(float f);
float f16_to_f32(uint16_t h);

// Converts n elements between any two floating dtypes (F32, F64, BF16, F16) on the host.
// I32 converts only to I32.
void convert(const void* src, DType src_type, void* dst, DType dst_type, size_t n);

}  // namespace nlm::tensor
