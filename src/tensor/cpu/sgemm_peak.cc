// sgemm peak measurement (see sgemm_peak.h).
#include "tensor/cpu/sgemm_peak.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/runtime.h"

extern "C" void openblas_set_num_threads(int num_threads);

namespace nlm::tensor {

double measure_sgemm_gflops(int n, int reps) {
  // OpenBLAS's own threading on every core gives the machine's sgemm peak; the backend runs
  // OpenBLAS single-threaded inside OpenMP, so switch back afterwards.
  openblas_set_num_threads(thread_count());
  std::vector<float> a(static_cast<size_t>(n) * n, 0.5f), b(a.size(), 0.25f), c(a.size());
  auto run = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
  };
  run();
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  openblas_set_num_threads(1);
  return 2.0 * n * n * static_cast<double>(n) / best / 1e9;
}

}  // namespace nlm::tensor
