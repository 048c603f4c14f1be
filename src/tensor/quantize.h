// The weight quantisers shared by the inference engine's packing (tensor/cpu/packed_linear) and
// `nativelm quantize` (compress/quantize), so a matrix quantised into a checkpoint and the same
// matrix packed at load hold identical integers and scales. Row-major [rows, cols] matrices, HF's
// [out_features, in_features]; all symmetric (zero maps to zero).
#pragma once
#include <cstdint>

namespace nlm::tensor {

// int8 per output row: scale[r] = max|w[r,:]|/127, q = round(w/scale) in [-127, 127] (an all-zero
// row has scale 0). A non-finite weight is a runtime error naming the row.
void quantize_int8_rows(const float* w, int64_t rows, int64_t cols, int8_t* q, float* scale);

// int4 per group of `group` consecutive columns of a row (cols a multiple of group):
// scale[r·(cols/group) + g] = max|w|/7 over the group, q = round(w/scale) in [-7, 7].
void quantize_int4_groups(const float* w, int64_t rows, int64_t cols, int64_t group, int8_t* q, float* scale);

// int4 values in [-8, 7] two to a byte, as stored on disk: byte k holds element 2k in its low
// nibble and element 2k+1 in its high nibble, each as q + 8 (offset binary, 8 = zero; ONNX
// MatMulNBits' default zero point). n must be even.
void pack_int4(const int8_t* q, int64_t n, uint8_t* out);
void unpack_int4(const uint8_t* in, int64_t n, int8_t* q);

// The E4M3 per-tensor scale of a tensor with absolute maximum amax: amax/448 (1 when amax is 0).
float fp8_scale(float amax);

}  // namespace nlm::tensor
