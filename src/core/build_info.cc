// Gathers build and CPU facts; OpenBLAS is asked for its own config string.
#include "core/build_info.h"

#include <cblas.h>

#include <thread>

namespace nlm {

BuildInfo build_info() {
  BuildInfo b;
  b.version = NATIVELM_VERSION;
#if defined(__clang__)
  b.compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  b.compiler = std::string("g++ ") + __VERSION__;
#else
  b.compiler = "unknown";
#endif
#if defined(__AVX2__) || defined(__SSE4_2__)
  b.build_flags = "native";
#else
  b.build_flags = "portable";
#endif
  b.blas = openblas_get_config();
#ifdef NATIVELM_HAVE_CUDA
  b.cuda = true;
#endif
#ifdef NATIVELM_HAVE_MPI
  b.mpi = true;
#endif
  __builtin_cpu_init();
#define NLM_FEATURE(name) \
  if (__builtin_cpu_supports(name)) b.cpu_features.push_back(name);
  NLM_FEATURE("sse4.2")
  NLM_FEATURE("popcnt")
  NLM_FEATURE("avx")
  NLM_FEATURE("avx2")
  NLM_FEATURE("fma")
  NLM_FEATURE("bmi2")
  NLM_FEATURE("avx512f")
  NLM_FEATURE("avx512bw")
  NLM_FEATURE("avx512vl")
  NLM_FEATURE("avx512vnni")
  NLM_FEATURE("avx512bf16")
#undef NLM_FEATURE
  b.hardware_threads = static_cast<int>(std::thread::hardware_concurrency());
  return b;
}

}  // namespace nlm
