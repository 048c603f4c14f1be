// The ggml block encodings behind llama.cpp's Q4_K_M mix: the 256-element K-quant super-blocks
// Q4_K and Q6_K (Q5_0, the 32-element type llama-quantize falls back to for Q4_K matrices whose
// rows are not whole super-blocks, is with Q4_0 in gguf_blocks.cc). The encoders repeat ggml's
// reference quantisers (quantize_row_q4_K_ref with its weighted scale/min search,
// quantize_row_q6_K_ref with its scale search) operation for operation in float arithmetic, so a
// file encoded here holds the bytes `llama-quantize ... Q4_K_M` writes from the same F32 weights
// without an importance matrix. Used through gguf_blocks.h's encode_row/decode_row.
//
// Q4_K (144 bytes): fp16 d, fp16 dmin, 12 bytes of eight 6-bit (scale, min) pairs, 128 bytes of
//   nibbles; element i of sub-block j is d·sc_j·q − dmin·m_j.
// Q6_K (210 bytes): 128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 int8 scales, fp16 d;
//   element i of 16-element group g is d·sc_g·(q − 32).
#pragma once
#include <cstdint>
#include <string>

namespace nlm::model::gguf {

// Append the encoding of one 256-element block to out.
void encode_q4_k(const float* x, std::string& out);
void encode_q6_k(const float* x, std::string& out);
// Decode one block into out (as ggml's dequantize_row_* computes it).
void decode_q4_k(const uint8_t* p, float* out);
void decode_q6_k(const uint8_t* p, float* out);

}  // namespace nlm::model::gguf
