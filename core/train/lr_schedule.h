// Learning-rate schedules (constant, constant_with_warmup, linear, cosine) with linear warmup.
#pragma once

#include <cstdint>
#include <string>

namespace preflab::core {

struct LrSchedule {
  std::string type = "linear"; // constant | constant_with_warmup | linear | cosine
  double peak = 5e-4;
  std::int64_t warmupSteps = 0;
  std::int64_t totalSteps = 1;

  // Learning rate for optimizer step `step` (0-based), as Hugging Face's schedulers compute it:
  // warmup rises linearly from 0, linear/cosine decay to 0 at totalSteps.
  double at(std::int64_t step) const;
};

} // namespace preflab::core
