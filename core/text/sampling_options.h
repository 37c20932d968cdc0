// Torch-free sampling settings (temperature, top-k, top-p, length).
#pragma once

#include <cstdint>

namespace preflab::core {

struct SamplingOptions {
  std::int64_t maxNewTokens = 48;
  double temperature = 1.0; // 0 means greedy
  std::int64_t topK = 0;    // 0: off
  double topP = 1.0;        // 1: off
};

} // namespace preflab::core
