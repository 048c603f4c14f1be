// backend_for(): the one place that maps a device name to a backend (see backend.h), so model,
// trainer, eval and CLI code never name a concrete backend and a CUDA backend plugs in here.
#include <map>
#include <mutex>

#include "core/error.h"
#include "tensor/backend.h"
#include "tensor/cpu/cpu_backend.h"
#ifdef NATIVELM_HAS_CUDA
#include "tensor/cuda/cuda_devices.h"
#endif

namespace nlm::tensor {

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, Backend*> extra;  // register_backend() names
};

// The GPUs join on first use ("cuda:0", ...), in CUDA builds; a machine without a GPU or a
// driver has none and says nothing.
Registry& registry() {
  static Registry r;
#ifdef NATIVELM_HAS_CUDA
  static const bool gpus = [] {
    for (const auto& [name, backend] : cuda::device_backends()) r.extra.emplace(name, backend);
    return true;
  }();
  (void)gpus;
#endif
  return r;
}

std::string device_list() {
  std::string out;
  for (const auto& n : registered_devices()) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::vector<std::string> registered_devices() {
  std::vector<std::string> names = {"cpu"};
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  for (const auto& [name, _] : r.extra) names.push_back(name);  // std::map: sorted
  return names;
}

void register_backend(const std::string& name, Backend& backend) {
  if (name.empty() || name == "cpu")
    runtime_error("cannot register a backend as '" + name + "'", "register_backend",
                  "pick another device name");
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto [it, inserted] = r.extra.emplace(name, &backend);
  if (!inserted && it->second != &backend)
    runtime_error("device '" + name + "' already has a backend", "register_backend",
                  "pick another device name");
}

Backend& backend_for(const std::string& device) {
  if (device == "cpu") return cpu_backend();
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.extra.find(device);
    if (it == r.extra.end() && device == "cuda") it = r.extra.find("cuda:0");
    if (it != r.extra.end()) return *it->second;
  }
  if (device == "cuda" || device.starts_with("cuda:")) {
    std::string why = " (CUDA needs a build with -DNATIVELM_CUDA=ON and a GPU)";
#ifdef NATIVELM_HAS_CUDA
    if (std::string reason = cuda::no_device_reason(); !reason.empty())
      why = " (CUDA needs a build with -DNATIVELM_CUDA=ON and a GPU; this build has CUDA, which "
            "says: " + reason + ")";
#endif
    usage_error("device '" + device + "' is not available", "device",
                "this build has: " + device_list() + why);
  }
  usage_error("unknown device '" + device + "'", "device", "this build has: " + device_list());
}

}  // namespace nlm::tensor
