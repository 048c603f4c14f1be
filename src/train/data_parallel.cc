// The ranks of a data-parallel run (see data_parallel.h).
#include "train/data_parallel.h"

#include "core/log.h"
#include "core/runtime.h"
#include "tensor/backend.h"

namespace nlm::train {

Ranks::Ranks(const dist::LaunchInfo& launch, const std::string& device, const std::string& command)
    : launch_(launch), device_(dist::rank_device(device, launch)) {
  backend_ = &tensor::backend_for(device_);
  comm_ = dist::connect(launch_, device_, *backend_, command);
  was_quiet_ = runtime_options().quiet;
  if (!lead()) {  // every rank reads the same data: rank 0 alone tells about it
    RuntimeOptions quiet = runtime_options();
    quiet.quiet = true;
    set_runtime_options(quiet);
  }
}

Ranks::~Ranks() {
  if (!lead()) {
    RuntimeOptions o = runtime_options();
    o.quiet = was_quiet_;
    set_runtime_options(o);
  }
}

void Ranks::attach(LoopOptions& loop) const {
  loop.comm = comm_.get();
  check_ranks(loop);
  if (lead()) check_run_dir(loop);  // may delete old checkpoints (force): once, before anyone reads
  comm_->barrier();
  if (size() > 1) log::info("data parallel: " + std::to_string(size()) + " ranks over " + comm_->name());
}

void Ranks::sum(std::vector<double>& values) const {
  if (size() > 1) comm_->all_reduce_sum(values);
}

bool Ranks::all(bool flag) const {
  std::vector<double> v = {flag ? 0.0 : 1.0};
  sum(v);
  return v[0] == 0;
}

}  // namespace nlm::train
