// cublas_loader.h for scripts/cuda-emulate.sh's backend mode: the emulated cuBLASLt/cuBLAS
// (cublas_emu.cc) bound directly instead of through dlopen.
#include "tensor/cuda/cublas_loader.h"

namespace nlm::tensor::cuda {

namespace {
const CublasApi kApi = {
    &::cublasLtCreate, &::cublasLtDestroy, &::cublasLtGetStatusString, &::cublasLtMatmulDescCreate,
    &::cublasLtMatmulDescDestroy, &::cublasLtMatmulDescSetAttribute, &::cublasLtMatrixLayoutCreate,
    &::cublasLtMatrixLayoutDestroy, &::cublasLtMatmulPreferenceCreate,
    &::cublasLtMatmulPreferenceDestroy, &::cublasLtMatmulPreferenceSetAttribute,
    &::cublasLtMatmulAlgoGetHeuristic, &::cublasLtMatmul, &::cublasCreate_v2, &::cublasDestroy_v2,
    &::cublasSetStream_v2, &::cublasGemmEx};
}  // namespace

const CublasApi& cublas() { return kApi; }
const CublasApi* cublas_if_loaded() { return &kApi; }

}  // namespace nlm::tensor::cuda
