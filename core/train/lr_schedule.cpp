// Learning-rate schedules as pure functions of the step, so resuming needs only the step.
#include "core/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace preflab::core {

double LrSchedule::at(std::int64_t step) const {
  if (type == "constant")
    return peak;
  if (step < warmupSteps)
    return peak * double(step) / double(std::max<std::int64_t>(1, warmupSteps));
  if (type == "constant_with_warmup")
    return peak;
  const double progress = double(step - warmupSteps) /
                          double(std::max<std::int64_t>(1, totalSteps - warmupSteps));
  if (type == "cosine")
    return peak * std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));
  return peak * std::max(0.0, 1.0 - progress); // linear
}

} // namespace preflab::core
