// The int8 matrix product for prompt prefill: many rows of x against int8 weights, in integers.
// Decode multiplies one row of x at a time and is bound by reading the weights; a prompt chunk
// has hundreds of rows, so the product becomes compute-bound and the fp32 route (dequantise the
// weights, then sgemm) wastes both the conversion and the int8 arithmetic. Here every row of x is
// quantised once per chunk, exactly as the decode kernel quantises its row (blocks of 64, one
// scale each, u = q + 128), and a register tile of 4 rows of x × 32 rows of W accumulates each
// block's exact int32 dot product (AVX-512 VNNI) into fp32 with the block's scale, the way
// llama.cpp's Q8_0 prompt path does. The rows' results therefore equal the decode kernel's up to
// the order of the fp32 sums.
#pragma once
#include <cstdint>

#include "tensor/cpu/packed_linear.h"

namespace nlm::tensor::cpu {

// Whether this build has the integer kernel (AVX-512 with VNNI); without it callers keep the
// dequantise-and-sgemm route.
bool q8_gemm_available();

// Quantises M rows of x (row m at x + m·ldx, `cols` values) for the int8 product: per 64-column
// block, scale = max|x|/127 and u = round(x/scale) + 128, zero-padded to whole blocks with 128.
// u holds M·blocks·64 bytes, scale M·blocks floats (blocks = ceil(cols/64)). The vector version
// and the plain one give the same bytes and scales.
void quantize_rows_q8(const float* x, int M, int64_t ldx, int64_t cols, uint8_t* u, float* scale);
void quantize_rows_q8_reference(const float* x, int M, int64_t ldx, int64_t cols, uint8_t* u, float* scale);

// y[m·ldy + r] for m in [0, M) and r in [r0, r1) from rows quantised by quantize_rows_q8 and
// int8 weights (w.format == Q8), single-threaded. Needs q8_gemm_available().
void q8_gemm_rows(const PackedMatrix& w, const uint8_t* u, const float* scale, int M, float* y, int64_t ldy,
                  int64_t r0, int64_t r1);
// The same with plain loops (what the tests hold the tile kernel to).
void q8_gemm_rows_reference(const PackedMatrix& w, const uint8_t* u, const float* scale, int M, float* y,
                            int64_t ldy, int64_t r0, int64_t r1);

}  // namespace nlm::tensor::cpu
