// The CUDA backend's matrix products through cuBLASLt: column-major D = op(A)·op(B) (+ β·D)
// (+ bias per row of D through the BIAS epilogue), fp32 compute, A/B and D of their own types
// (bf16 inputs into an fp32 D for weight gradients). Descriptors and the heuristic's algorithm
// are cached per shape, types and pointer alignments. Where cuBLASLt offers no algorithm (odd
// leading dimensions, misaligned views) the product falls back to cublasGemmEx, accumulating
// onto D prefilled with the bias (one rounding of the result, as with the epilogue), so every
// shape works.
#pragma once
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <tuple>

namespace nlm::tensor::cuda {

struct Gemm {
  bool trans_a = false, trans_b = false;
  int m = 0, n = 0, k = 0;
  const void* a = nullptr;
  int lda = 0;
  const void* b = nullptr;
  int ldb = 0;
  void* d = nullptr;
  int ldd = 0;
  cudaDataType_t ab_type = CUDA_R_32F;  // A and B
  cudaDataType_t d_type = CUDA_R_32F;   // C = D
  float beta = 0;                       // 0: D is overwritten; 1: accumulated
  const void* bias = nullptr;           // [m], of d_type; only with beta == 0, ldd == m
};

class Matmul {
 public:
  Matmul() = default;
  ~Matmul();
  Matmul(const Matmul&) = delete;
  Matmul& operator=(const Matmul&) = delete;

  // Enqueues g on `stream` (the current device must be the one this object was first used on).
  void run(const Gemm& g, cudaStream_t stream);

 private:
  using Key = std::tuple<int, int, int, int, int, int, int, int, int, int, int, int, int>;
  struct Plan {
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
    cublasLtMatmulAlgo_t algo{};
    bool usable = false;  // false: no cuBLASLt algorithm, use cublasGemmEx
  };
  void init();
  Plan& plan(const Gemm& g);
  void fallback(const Gemm& g, cudaStream_t stream);

  cublasLtHandle_t lt_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  std::map<Key, Plan> plans_;
};

}  // namespace nlm::tensor::cuda
