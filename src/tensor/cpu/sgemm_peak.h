// Measures the sgemm throughput this machine reaches through OpenBLAS on the current thread
// count: the denominator of the MFU (model FLOPs utilisation) figures training reports.
#pragma once

namespace nlm::tensor {

// GFLOP/s of an n×n×n sgemm, best of `reps` runs after a warm-up.
double measure_sgemm_gflops(int n = 1024, int reps = 3);

}  // namespace nlm::tensor
