// What this binary was built with and what the CPU offers, for `nativelm version` and for
// manifests/bug reports: version, compiler, BLAS, CUDA on/off, MPI, and CPU SIMD features.
#pragma once
#include <string>
#include <vector>

namespace nlm {

struct BuildInfo {
  std::string version;
  std::string compiler;
  std::string build_flags;  // "native" or "portable"
  std::string blas;         // OpenBLAS config string
  bool cuda = false;
  bool mpi = false;
  std::vector<std::string> cpu_features;  // e.g. sse4.2 avx2 fma avx512f
  int hardware_threads = 0;
};

BuildInfo build_info();

}  // namespace nlm
