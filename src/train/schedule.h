// Learning-rate schedules: linear warmup then cosine decay to min_lr, WSD (warmup, stable,
// then a linear decay over the last decay_fraction of steps), or constant after warmup.
#pragma once
#include <cstdint>
#include <string>

namespace nlm::train {

struct ScheduleOptions {
  // "cosine" (default), "wsd" or "constant".
  std::string type = "cosine";
  // Peak learning rate, reached at the end of warmup.
  double lr = 3e-4;
  // Floor that cosine and WSD decay to (often lr/10).
  double min_lr = 3e-5;
  // Linear warmup from 0 over this many steps.
  int64_t warmup_steps = 100;
  // WSD: fraction of the total steps spent in the final decay.
  double decay_fraction = 0.2;
};

// The learning rate at 0-based step `step` of `total_steps`. Throws a usage error on an unknown type.
double lr_at(const ScheduleOptions& s, int64_t step, int64_t total_steps);
void validate(const ScheduleOptions& s);

}  // namespace nlm::train
