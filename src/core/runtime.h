// Process-wide settings that every stage reads: the thread count and quiet mode. They are set
// once by the CLI (--threads, --quiet) or the pipeline before any work starts.
#pragma once

namespace nlm {

struct RuntimeOptions {
  // Worker threads for parallel stages; 0 means one per hardware thread.
  int threads = 0;
  // Suppress progress lines and informational logging (warnings and errors still print).
  bool quiet = false;
};

void set_runtime_options(const RuntimeOptions& options);
const RuntimeOptions& runtime_options();
// The effective thread count: options.threads, or the hardware concurrency when 0.
int thread_count();

}  // namespace nlm
