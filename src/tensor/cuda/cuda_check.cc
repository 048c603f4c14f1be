// The error conversion of cuda_check.h.
#include "tensor/cuda/cuda_check.h"

#include <string>

#include "core/error.h"
#include "tensor/cuda/cublas_loader.h"

namespace nlm::tensor::cuda {

void check_cuda(cudaError_t err, const char* call) {
  if (err == cudaSuccess) return;
  cudaGetLastError();  // clears a sticky launch error so the next call does not report it again
  runtime_error(std::string(call) + " failed: " + cudaGetErrorString(err), "cuda",
                err == cudaErrorMemoryAllocation ? "use a smaller batch or model" : "");
}

void check_cublas(cublasStatus_t status, const char* call) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  const CublasApi* api = cublas_if_loaded();
  runtime_error(std::string(call) + " failed: " +
                    (api ? api->LtGetStatusString(status) : "status " + std::to_string(status)),
                "cuBLAS");
}

void check_launch(const char* kernel) {
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    runtime_error(std::string("launching ") + kernel + " failed: " + cudaGetErrorString(err),
                  "cuda",
                  err == cudaErrorNoKernelImageForDevice
                      ? "rebuild with -DCMAKE_CUDA_ARCHITECTURES naming this GPU"
                      : "");
}

}  // namespace nlm::tensor::cuda
