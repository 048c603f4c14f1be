// F32/F16/BF16 and Q8_0/Q4_0 block encoders and decoders, and the dispatch to the K-quant ones
// (see gguf_blocks.h).
#include "model/gguf_blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "model/gguf_kquants.h"
#include "tensor/dtype.h"

namespace nlm::model::gguf {

namespace {

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

// The value of largest magnitude in a 32-element block (the first one on a tie).
float largest_magnitude(const float* x) {
  float amax = 0, m = 0;
  for (int j = 0; j < 32; ++j)
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      m = x[j];
    }
  return m;
}

// One Q4_0 block: the value m of largest magnitude maps to nibble 0 (d = m / -8), so the
// signed range [-8, 7]·d covers the block with the extreme at the exact end.
void encode_q4_0(const float* x, std::string& out) {
  const float d = largest_magnitude(x) / -8.0f;
  const float id = inverse_scale(d);
  put_u16(out, tensor::f32_to_f16(d));
  for (int j = 0; j < 16; ++j) {
    const int lo = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
    const int hi = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 8.5f)));
    out.push_back(static_cast<char>(lo | (hi << 4)));
  }
}

// One Q5_0 block (the fallback of Q4_K in the Q4_K_M mix): as Q4_0 with 32 levels, d = m / -16,
// q = min(31, trunc(x/d + 16.5)); the low nibbles as Q4_0's, the fifth bits of elements 0..31 in
// a little-endian uint32 between the scale and the nibbles.
void encode_q5_0(const float* x, std::string& out) {
  const float d = largest_magnitude(x) / -16;
  const float id = inverse_scale(d);
  uint32_t qh = 0;
  uint8_t qs[16];
  for (int j = 0; j < 16; ++j) {
    const int lo = std::min(31, static_cast<int>(static_cast<int8_t>(x[j] * id + 16.5f)));
    const int hi = std::min(31, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 16.5f)));
    qs[j] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
    qh |= static_cast<uint32_t>((lo & 0x10) >> 4) << j;
    qh |= static_cast<uint32_t>((hi & 0x10) >> 4) << (j + 16);
  }
  put_u16(out, tensor::f32_to_f16(d));
  for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((qh >> (8 * b)) & 0xff));
  out.append(reinterpret_cast<const char*>(qs), 16);
}

void decode_q5_0(const uint8_t* p, float* y) {
  const float d = tensor::f16_to_f32(get_u16(p));
  const uint32_t qh = static_cast<uint32_t>(p[2] | (p[3] << 8) | (p[4] << 16)) | (static_cast<uint32_t>(p[5]) << 24);
  const uint8_t* qs = p + 6;
  for (int j = 0; j < 16; ++j) {
    const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
    y[j] = static_cast<float>(((qs[j] & 0x0F) | h0) - 16) * d;
    y[j + 16] = static_cast<float>(((qs[j] >> 4) | h1) - 16) * d;
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
    case TensorType::Q5_0:
      for (int64_t b = 0; b < n; b += 32) encode_q5_0(x + b, out);
      break;
    case TensorType::Q4_K:
      for (int64_t b = 0; b < n; b += 256) encode_q4_k(x + b, out);
      break;
    case TensorType::Q6_K:
      for (int64_t b = 0; b < n; b += 256) encode_q6_k(x + b, out);
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
    case TensorType::Q5_0:
      for (int64_t b = 0; b < n / 32; ++b, p += 22) decode_q5_0(p, out + b * 32);
      break;
    case TensorType::Q4_K:
      for (int64_t b = 0; b < n / 256; ++b, p += 144) decode_q4_k(p, out + b * 256);
      break;
    case TensorType::Q6_K:
      for (int64_t b = 0; b < n / 256; ++b, p += 210) decode_q6_k(p, out + b * 256);
      break;
  }
}

}  // namespace nlm::model::gguf
