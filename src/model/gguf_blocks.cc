// F32/F16/BF16 and Q8_0/Q4_0 block encoders and decoders (see gguf_blocks.h).
#include "model/gguf_blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "tensor/dtype.h"

namespace nlm::model::gguf {

namespace {

void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}

uint16_t get_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// 1/d, or 0 when the block is all zeros or so small that 1/d overflows (its fp16 scale is 0 then
// too, so the block decodes to zeros either way; ggml's reference would compute with inf there).
float inverse_scale(float d) {
  const float id = d != 0 ? 1.0f / d : 0.0f;
  return std::isfinite(id) ? id : 0.0f;
}

// One Q8_0 block: d = max|x| / 127, q = round(x / d) in [-127, 127].
void encode_q8_0(const float* x, std::string& out) {
  float amax = 0;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = inverse_scale(d);
  put_u16(out, tensor::f32_to_f16(d));
  for (int j = 0; j < 32; ++j) out.push_back(static_cast<char>(static_cast<int8_t>(std::lround(x[j] * id))));
}

// One Q4_0 block: the value m of largest magnitude maps to nibble 0 (d = m / -8), so the
// signed range [-8, 7]·d covers the block with the extreme at the exact end.
void encode_q4_0(const float* x, std::string& out) {
  float amax = 0, m = 0;
  for (int j = 0; j < 32; ++j)
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      m = x[j];
    }
  const float d = m / -8.0f;
  const float id = inverse_scale(d);
  put_u16(out, tensor::f32_to_f16(d));
  for (int j = 0; j < 16; ++j) {
    const int lo = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
    const int hi = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 8.5f)));
    out.push_back(static_cast<char>(lo | (hi << 4)));
  }
}

}  // namespace

void encode_row(const float* x, int64_t n, TensorType t, std::string& out) {
  const int64_t be = block_elements(t);
  if (n % be != 0)
    runtime_error("a row of " + std::to_string(n) + " elements is not a whole number of " +
                  std::string(tensor_type_name(t)) + " blocks of " + std::to_string(be));
  out.reserve(out.size() + row_bytes(t, n));
  switch (t) {
    case TensorType::F32: {
      const size_t at = out.size();
      out.resize(at + static_cast<size_t>(n) * 4);
      std::memcpy(out.data() + at, x, static_cast<size_t>(n) * 4);  // little-endian host
      break;
    }
    case TensorType::F16:
      for (int64_t i = 0; i < n; ++i) put_u16(out, tensor::f32_to_f16(x[i]));
      break;
    case TensorType::BF16:
      for (int64_t i = 0; i < n; ++i) put_u16(out, tensor::f32_to_bf16(x[i]));
      break;
    case TensorType::Q8_0:
      for (int64_t b = 0; b < n; b += 32) encode_q8_0(x + b, out);
      break;
    case TensorType::Q4_0:
      for (int64_t b = 0; b < n; b += 32) encode_q4_0(x + b, out);
      break;
  }
}

void decode_row(const uint8_t* p, int64_t n, TensorType t, float* out) {
  switch (t) {
    case TensorType::F32:
      std::memcpy(out, p, static_cast<size_t>(n) * 4);
      break;
    case TensorType::F16:
      for (int64_t i = 0; i < n; ++i) out[i] = tensor::f16_to_f32(get_u16(p + 2 * i));
      break;
    case TensorType::BF16:
      for (int64_t i = 0; i < n; ++i) out[i] = tensor::bf16_to_f32(get_u16(p + 2 * i));
      break;
    case TensorType::Q8_0:
      for (int64_t b = 0; b < n / 32; ++b, p += 34) {
        const float d = tensor::f16_to_f32(get_u16(p));
        for (int j = 0; j < 32; ++j) out[b * 32 + j] = d * static_cast<float>(static_cast<int8_t>(p[2 + j]));
      }
      break;
    case TensorType::Q4_0:
      for (int64_t b = 0; b < n / 32; ++b, p += 18) {
        const float d = tensor::f16_to_f32(get_u16(p));
        for (int j = 0; j < 16; ++j) {
          out[b * 32 + j] = d * static_cast<float>((p[2 + j] & 0x0f) - 8);
          out[b * 32 + j + 16] = d * static_cast<float>((p[2 + j] >> 4) - 8);
        }
      }
      break;
  }
}

}  // namespace nlm::model::gguf
