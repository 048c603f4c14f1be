// Turns a failed CUDA runtime or cuBLAS call into an nlm runtime error naming the call and the
// library's message, so a GPU failure (out of memory, no kernel image for this GPU, a driver
// problem) ends the command with a clear line instead of an abort.
#pragma once
#include <cublasLt.h>
#include <cuda_runtime.h>

namespace nlm::tensor::cuda {

void check_cuda(cudaError_t err, const char* call);
void check_cublas(cublasStatus_t status, const char* call);
// After a kernel launch: a bad launch configuration or a missing kernel image shows up here.
void check_launch(const char* kernel);

}  // namespace nlm::tensor::cuda

#define NLM_CUDA(call) ::nlm::tensor::cuda::check_cuda((call), #call)
#define NLM_CUBLAS(call) ::nlm::tensor::cuda::check_cublas((call), #call)
