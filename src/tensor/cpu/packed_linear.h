// Weights stored for inference and the kernels that multiply by them: y = x·Wᵀ for a few rows
// of x (decode: one row per sequence) or many (prompt prefill). Decode is bound by reading the
// weights, so they can be kept as F32, BF16 (half the bytes) or int8 with one fp32 scale per
// output row (a quarter). F32 and BF16 multiply in fp32. Int8 multiplies in integers, as
// llama.cpp's Q8_0 does: the row of x is quantised to int8 in blocks of 64 (one scale each),
// and each block's dot product is exact in int32 (AVX-512 VNNI) before its scales apply. Each
// kernel has a plain reference version (packed_linear_reference) that tests compare the AVX-512
// / AVX2 versions against. Two more formats come from quantised checkpoints (`nativelm quantize`):
// int4 in groups along a row (one fp32 scale per group; multiplied in integers like int8, the
// nibbles widened to int8 in registers) and FP8 E4M3 with one scale per tensor (emulated: the
// bytes are widened to fp32 through their fp16 bit pattern and multiplied in fp32).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nlm::tensor::cpu {

enum class WeightFormat { F32, BF16, Q8, Q4, FP8 };

// "f32", "bf16", "int8" (also "q8"); throws nlm::usage_error naming `where` otherwise. Q4 and FP8
// are not runtime choices: they come packed from a quantised checkpoint.
WeightFormat parse_weight_format(const std::string& name, const std::string& where);
const char* weight_format_name(WeightFormat f);

// A row-major [rows, cols] matrix (HF's [out_features, in_features]) in one format.
struct PackedMatrix {
  WeightFormat format = WeightFormat::F32;
  int64_t rows = 0, cols = 0;
  std::vector<float> f32;      // F32: rows·cols
  std::vector<uint16_t> bf16;  // BF16: rows·cols (round to nearest even)
  std::vector<int8_t> q8;      // Q8: rows·cols, value = q · scale[row]
  std::vector<float> scale;    // Q8: per row, max|w|/127
  std::vector<int32_t> block_sum;  // Q8/Q4: per row and 64-column block, the sum of its integer weights
  // Q4: rows·cols/2 bytes; each 64-column block of a row is 32 bytes, byte j holding column j in
  // its low nibble and column j+32 in its high one, each as q+8 (q in [-8, 7]).
  std::vector<uint8_t> q4;
  std::vector<float> group_scale;  // Q4: [rows, cols/group]; value = q · group_scale
  int64_t group = 0;               // Q4: columns per scale, a multiple of 64
  // FP8: rows·cols E4M3 bytes; value = e4m3 · scale[row] / 256 (scale holds the tensor scale
  // times 2^8, because the kernels widen E4M3 through fp16 bits, which read as value·2^-8).
  std::vector<uint8_t> f8;

  // F32/BF16/Q8 from fp32 weights; Q4 in groups of `group` columns (dividing cols, a multiple of
  // 64), FP8 with one scale for the matrix (amax/448).
  static PackedMatrix pack(const float* w, int64_t rows, int64_t cols, WeightFormat format, int64_t group = 128);
  // From already quantised values, as a quantised checkpoint stores them (q in [-127, 127] with a
  // scale per row; q in [-8, 7] with a scale per group; E4M3 bytes with a scale per row).
  // Non-finite scales and FP8 NaN codes are runtime errors.
  static PackedMatrix from_int8(const int8_t* q, const float* scale, int64_t rows, int64_t cols);
  static PackedMatrix from_int4(const int8_t* q, const float* group_scale, int64_t rows, int64_t cols, int64_t group);
  static PackedMatrix from_fp8(const uint8_t* e4m3, const float* row_scale, int64_t rows, int64_t cols);
  // The rows of `parts` one after the other (q, k, v as one matrix); same format, cols and group.
  static PackedMatrix concat_rows(const std::vector<const PackedMatrix*>& parts);
  size_t bytes() const;
  // Row r as fp32 (embedding lookup; dequantised for BF16/Q8/Q4/FP8).
  void row(int64_t r, float* out) const;
};

// y[m·ldy + r] = Σ_c W[r,c] · x[m·ldx + c] for m in [0, M) and r in [r0, r1), single-threaded.
// The result for one (m, r) does not depend on M or on the row range, so batched and unbatched
// decoding agree bit for bit.
void packed_linear_rows(const PackedMatrix& w, const float* x, int M, int64_t ldx, float* y,
                        int64_t ldy, int64_t r0, int64_t r1);
// The same with plain loops (the reference the tests hold the vector kernels to).
void packed_linear_reference(const PackedMatrix& w, const float* x, int M, int64_t ldx, float* y,
                             int64_t ldy, int64_t r0, int64_t r1);
// y[M, rows] = x[M, cols]·Wᵀ over `threads` OpenMP threads split by output rows. Small M runs
// the vector kernels; with gemm = true (prompt prefill, M large) each thread instead multiplies
// its rows through single-threaded sgemm, dequantising BF16/Q8 blocks first.
void packed_linear(const PackedMatrix& w, const float* x, int M, float* y, int threads, bool gemm);

// Columns per int8 activation block.
constexpr int64_t kQ8Block = 64;

// Which kernel this build compiled: "avx512", "avx2" or "reference".
const char* packed_linear_isa();

}  // namespace nlm::tensor::cpu
