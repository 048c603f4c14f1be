// dlopen of cuBLASLt and cuBLAS for cublas_loader.h: by soname first (the loader's search path,
// ld.so.conf), then in the toolkit's library folder this build was configured with.
#include "tensor/cuda/cublas_loader.h"

#include <dlfcn.h>

#include <atomic>
#include <mutex>
#include <string>

#include "core/error.h"

namespace nlm::tensor::cuda {

namespace {
std::atomic<const CublasApi*> loaded{nullptr};

void* open_library(const std::string& stem) {
  const std::string soname = stem + ".so." + std::to_string(CUBLAS_VER_MAJOR);
  for (const std::string& name : {soname, std::string(NLM_CUDA_LIBRARY_DIR) + "/" + soname}) {
    if (void* h = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL)) return h;
  }
  const char* why = dlerror();
  runtime_error("cannot load " + soname + ": " + (why ? why : "not found"), "cuda",
                "install the CUDA toolkit's cuBLAS or add its folder to LD_LIBRARY_PATH");
}

template <class F>
void bind(F& fn, void* lib, const char* symbol, const char* library) {
  fn = reinterpret_cast<F>(dlsym(lib, symbol));
  if (!fn)
    runtime_error(std::string("symbol ") + symbol + " missing from " + library, "cuda",
                  "the cuBLAS library does not match this build's CUDA toolkit");
}
}  // namespace

const CublasApi* cublas_if_loaded() { return loaded.load(std::memory_order_acquire); }

const CublasApi& cublas() {
  if (const CublasApi* api = cublas_if_loaded()) return *api;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (const CublasApi* api = cublas_if_loaded()) return *api;
  static CublasApi api;
  void* lt = open_library("libcublasLt");
  void* blas = open_library("libcublas");
#define NLM_BIND(field, lib, symbol) bind(api.field, lib, #symbol, #lib)
  NLM_BIND(LtCreate, lt, cublasLtCreate);
  NLM_BIND(LtDestroy, lt, cublasLtDestroy);
  NLM_BIND(LtGetStatusString, lt, cublasLtGetStatusString);
  NLM_BIND(LtMatmulDescCreate, lt, cublasLtMatmulDescCreate);
  NLM_BIND(LtMatmulDescDestroy, lt, cublasLtMatmulDescDestroy);
  NLM_BIND(LtMatmulDescSetAttribute, lt, cublasLtMatmulDescSetAttribute);
  NLM_BIND(LtMatrixLayoutCreate, lt, cublasLtMatrixLayoutCreate);
  NLM_BIND(LtMatrixLayoutDestroy, lt, cublasLtMatrixLayoutDestroy);
  NLM_BIND(LtMatmulPreferenceCreate, lt, cublasLtMatmulPreferenceCreate);
  NLM_BIND(LtMatmulPreferenceDestroy, lt, cublasLtMatmulPreferenceDestroy);
  NLM_BIND(LtMatmulPreferenceSetAttribute, lt, cublasLtMatmulPreferenceSetAttribute);
  NLM_BIND(LtMatmulAlgoGetHeuristic, lt, cublasLtMatmulAlgoGetHeuristic);
  NLM_BIND(LtMatmul, lt, cublasLtMatmul);
  NLM_BIND(Create, blas, cublasCreate_v2);
  NLM_BIND(Destroy, blas, cublasDestroy_v2);
  NLM_BIND(SetStream, blas, cublasSetStream_v2);
  NLM_BIND(GemmEx, blas, cublasGemmEx);
#undef NLM_BIND
  loaded.store(&api, std::memory_order_release);
  return api;
}

}  // namespace nlm::tensor::cuda
