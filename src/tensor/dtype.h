// Element types a tensor can hold, and the scalar conversions between them. fp32 is the compute
// type on CPU, fp64 the reference type for gradient checks, bf16/f16 storage types for checkpoints
// (HF safetensors) and later for CUDA activations, i32 for token ids, positions and document ids.
// I8, U8 and F8_E4M3 are storage-only types of quantised checkpoints (safetensors names them so):
// no tensor computes in them; F8_E4M3 converts to the floating types, I8/U8 convert to nothing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace nlm::tensor {

enum class DType : uint8_t { F32, F64, BF16, F16, I32, I8, U8, F8_E4M3 };

size_t dtype_size(DType t);
// The dtype that gradients, master weights, optimizer moments and statistics (rstd, losses) take
// when data is in `t`: F32 for the 16-bit types, `t` itself otherwise (see backend.h).
inline DType accum_dtype(DType t) { return t == DType::BF16 || t == DType::F16 ? DType::F32 : t; }
// Names as safetensors writes them: "F32", "F64", "BF16", "F16", "I32", "I8", "U8", "F8_E4M3".
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

// FP8 E4M3 as OCP's 8-bit floating point spec and safetensors' F8_E4M3 (PyTorch's float8_e4m3fn):
// 1 sign, 4 exponent (bias 7) and 3 mantissa bits, no infinities, largest finite ±448, NaN is
// S.1111.111. Encoding rounds to nearest even and saturates (finite values and ±inf beyond ±448
// become ±448, as FP8 quantisers clamp); NaN stays NaN (0x7F).
uint8_t f32_to_e4m3(float f);
float e4m3_to_f32(uint8_t b);

// Converts n elements between any two floating dtypes (F32, F64, BF16, F16, F8_E4M3) on the host.
// Integer types (I32, I8, U8) convert only to themselves.
void convert(const void* src, DType src_type, void* dst, DType dst_type, size_t n);

}  // namespace nlm::tensor
