// The CUDA devices of this process as backends, for backend_registry.cc: the one call the rest
// of the library makes into the CUDA code, kept free of CUDA headers so the registry compiles
// with the host compiler alone.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace nlm::tensor {
class Backend;
}

namespace nlm::tensor::cuda {

// ("cuda:0", backend) .. ("cuda:N-1", backend) for the N GPUs cudaGetDeviceCount sees; empty,
// silently, without a GPU or a driver. The backends live until the process ends.
std::vector<std::pair<std::string, Backend*>> device_backends();
// Why device_backends() found no GPU, in CUDA's words ("no CUDA-capable device is detected",
// "CUDA driver version is insufficient for CUDA runtime version"); empty when it found some or
// has not run. For the error of a --device cuda that is not there.
std::string no_device_reason();

}  // namespace nlm::tensor::cuda
