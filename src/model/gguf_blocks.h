// Tensor data in the ggml element encodings GGUF files carry: F32, F16, BF16 and the 32-element
// blocks Q8_0 (fp16 scale d = max|x|/127, int8 q = round(x/d)) and Q4_0 (fp16 scale d = m/-8
// where m is the value of largest magnitude, nibble q = min(15, trunc(x/d + 8.5)), element j in
// the low nibble of byte j and element j+16 in its high nibble, x ≈ (q-8)·d), Q5_0 (Q4_0 with 32
// levels) and, through gguf_kquants.h, the 256-element super-blocks Q4_K and Q6_K. Encoding
// follows ggml's reference rounding, so a file quantised here holds the bytes llama.cpp's
// converter (or llama-quantize, for the Q4_K_M mix) would write; decoding is what llama.cpp
// computes with.
#pragma once
#include <cstdint>
#include <string>

#include "model/gguf_format.h"

namespace nlm::model::gguf {

// Appends the encoding of x[0..n) to out; n must be a multiple of block_elements(t).
void encode_row(const float* x, int64_t n, TensorType t, std::string& out);
// Decodes n elements of type t at `bytes` into out[0..n).
void decode_row(const uint8_t* bytes, int64_t n, TensorType t, float* out);

// The fp16 scales of the blocks: little-endian uint16 in and out.
inline void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
inline uint16_t get_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

}  // namespace nlm::model::gguf
