// Test main of scripts/cuda-emulate.sh's backend mode: the real tests (cuda_ops_test.cc,
// ops_test.cc, ops_bf16_test.cc) run against CudaBackend as "cuda:0", its kernels on CPU threads
// (cuda_runtime.h here) and its matrix products through the host cuBLASLt/cuBLAS of
// cublas_emu.cc. Few SMs, so the grid-stride kernels launch few blocks (each CUDA thread is an OS
// thread here). Fails unless the products took the cuBLASLt path, the BIAS epilogue and the
// cublasGemmEx fallback (when any product ran), so a change that silently stops exercising one
// shows.
#include <gtest/gtest.h>

#include <cstdio>

#include <cuda_runtime.h>

extern int emu_lt_products, emu_gemmex_products, emu_bias_epilogues;

int main(int argc, char** argv) {
  emu_sms = 2;
  ::testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  std::printf("cuBLASLt products %d (BIAS epilogue %d), cublasGemmEx products %d; cudaMalloc %zu, cudaFree %zu\n",
              emu_lt_products, emu_bias_epilogues, emu_gemmex_products, emu_memory().allocations,
              emu_memory().frees);
  const bool any_product = emu_lt_products + emu_gemmex_products > 0;  // a filter may skip all
  if (any_product && (emu_lt_products == 0 || emu_gemmex_products == 0 || emu_bias_epilogues == 0)) {
    std::printf("FAILED: a matmul path (cuBLASLt, BIAS epilogue, cublasGemmEx fallback) was never taken\n");
    return 1;
  }
  return rc;
}
