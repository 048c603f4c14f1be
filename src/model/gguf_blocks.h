// Tensor data in the ggml element encodings GGUF files carry: F32, F16, BF16 and the 32-element
// blocks Q8_0 (fp16 scale d = max|x|/127, int8 q = round(x/d)) and Q4_0 (fp16 scale d = m/-8
// where m is the value of largest magnitude, nibble q = min(15, trunc(x/d + 8.5)), element j in
// the low nibble of byte j and element j+16 in its high nibble, x ≈ (q-8)·d). Encoding follows
// ggml's reference rounding, so a file quantised here holds the bytes llama.cpp's converter would
// write; decoding is what llama.cpp computes with.
#pragma once
#include <cstdint>
#include <string>

#include "model/gguf_format.h"

namespace nlm::model::gguf {

// Appends the encoding of x[0..n) to out; n must be a multiple of block_elements(t).
void encode_row(const float* x, int64_t n, TensorType t, std::string& out);
// Decodes n elements of type t at `bytes` into out[0..n).
void decode_row(const uint8_t* bytes, int64_t n, TensorType t, float* out);

}  // namespace nlm::model::gguf
