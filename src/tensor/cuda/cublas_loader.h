// cuBLASLt and cuBLAS, opened with dlopen on the first matmul instead of linked: the cuBLASLt
// library maps some 200 MB and adds about 0.13 s to the start of every process that links it,
// which every `nativelm` command (and every CLI call of the tests) would pay, GPU or not. Only
// the functions matmul.cc calls are looked up; their types come from the headers.
#pragma once
#include <cublasLt.h>
#include <cublas_v2.h>

namespace nlm::tensor::cuda {

struct CublasApi {
  decltype(&::cublasLtCreate) LtCreate;
  decltype(&::cublasLtDestroy) LtDestroy;
  decltype(&::cublasLtGetStatusString) LtGetStatusString;
  decltype(&::cublasLtMatmulDescCreate) LtMatmulDescCreate;
  decltype(&::cublasLtMatmulDescDestroy) LtMatmulDescDestroy;
  decltype(&::cublasLtMatmulDescSetAttribute) LtMatmulDescSetAttribute;
  decltype(&::cublasLtMatrixLayoutCreate) LtMatrixLayoutCreate;
  decltype(&::cublasLtMatrixLayoutDestroy) LtMatrixLayoutDestroy;
  decltype(&::cublasLtMatmulPreferenceCreate) LtMatmulPreferenceCreate;
  decltype(&::cublasLtMatmulPreferenceDestroy) LtMatmulPreferenceDestroy;
  decltype(&::cublasLtMatmulPreferenceSetAttribute) LtMatmulPreferenceSetAttribute;
  decltype(&::cublasLtMatmulAlgoGetHeuristic) LtMatmulAlgoGetHeuristic;
  decltype(&::cublasLtMatmul) LtMatmul;
  decltype(&::cublasCreate_v2) Create;
  decltype(&::cublasDestroy_v2) Destroy;
  decltype(&::cublasSetStream_v2) SetStream;
  // The C function (the header also has a C++ overload of the same name).
  cublasStatus_t (*GemmEx)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                           const void*, const void*, cudaDataType, int, const void*, cudaDataType,
                           int, const void*, void*, cudaDataType, int, cublasComputeType_t,
                           cublasGemmAlgo_t);
};

// The loaded functions; the first call opens the libraries (a runtime error naming the library
// when it is missing). Thread-safe.
const CublasApi& cublas();
// The API if some call already loaded it, else null (for error messages).
const CublasApi* cublas_if_loaded();

}  // namespace nlm::tensor::cuda
