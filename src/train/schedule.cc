// Learning-rate schedules (see schedule.h).
#include "train/schedule.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/options.h"

namespace nlm::train {

void validate(const ScheduleOptions& s) {
  if (s.type != "cosine" && s.type != "wsd" && s.type != "constant")
    opt::fail("schedule.type", "must be cosine, wsd or constant, got " + echoed(s.type));
  if (s.lr <= 0) opt::fail("schedule.lr", "must be positive, got " + opt::real_text(s.lr));
  if (s.min_lr < 0 || s.min_lr > s.lr)
    opt::fail("schedule.min_lr", "must be between 0 and lr (" + opt::real_text(s.lr) + "), got " +
                                     opt::real_text(s.min_lr));
  if (s.warmup_steps < 0) opt::fail("schedule.warmup_steps", "must be at least 0");
  if (s.decay_fraction < 0 || s.decay_fraction > 1) opt::fail("schedule.decay_fraction", "must be between 0 and 1");
}

double lr_at(const ScheduleOptions& s, int64_t step, int64_t total_steps) {
  validate(s);
  if (step < s.warmup_steps) return s.lr * static_cast<double>(step + 1) / static_cast<double>(s.warmup_steps);
  if (s.type == "constant") return s.lr;
  if (s.type == "cosine") {
    double span = static_cast<double>(std::max<int64_t>(1, total_steps - s.warmup_steps));
    double progress = std::min(1.0, static_cast<double>(step - s.warmup_steps) / span);
    return s.min_lr + 0.5 * (s.lr - s.min_lr) * (1 + std::cos(M_PI * progress));
  }
  // WSD
  int64_t decay_steps = static_cast<int64_t>(std::ceil(s.decay_fraction * static_cast<double>(total_steps)));
  int64_t decay_start = total_steps - decay_steps;
  if (step < decay_start || decay_steps == 0) return s.lr;
  double progress = std::min(1.0, static_cast<double>(step - decay_start + 1) / static_cast<double>(decay_steps));
  return s.lr + (s.min_lr - s.lr) * progress;
}

}  // namespace nlm::train
