// Storage for the process-wide runtime options.
#include "core/runtime.h"

#include <thread>

namespace nlm {
namespace {
RuntimeOptions g_options;
}

void set_runtime_options(const RuntimeOptions& options) { g_options = options; }
const RuntimeOptions& runtime_options() { return g_options; }
int thread_count() {
  if (g_options.threads > 0) return g_options.threads;
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

}  // namespace nlm
