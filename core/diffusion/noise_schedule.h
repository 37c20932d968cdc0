// DDPM noise schedule (linear or cosine beta), the forward process q(x_t | x0), and timestep draws.
#pragma once

#include "core/diffusion/diffusion_config.h"

#include <torch/types.h>

namespace preflab::core {

// Betas and their cumulative products for T steps, computed in double precision and stored as
// float32 on the CPU (moved to the input's device per call). Immutable after construction, so
// one schedule may be shared by several threads.
class NoiseSchedule {
public:
  explicit NoiseSchedule(const DiffusionConfig &config);

  std::int64_t timesteps() const { return m_betas.size(0); }
  const torch::Tensor &betas() const { return m_betas; }                 // (T,)
  const torch::Tensor &alphasCumprod() const { return m_alphasCumprod; } // (T,) alpha-bar_t
  double alphaBar(std::int64_t t) const; // alpha-bar_t as a double; t = -1 gives 1 (no noise)

  // x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps.
  // x0, eps: (B, C, H, W), t: (B,) int64 in [0, T) -> x_t: (B, C, H, W)
  torch::Tensor addNoise(const torch::Tensor &x0, const torch::Tensor &t, const torch::Tensor &eps) const;

  // t ~ U{0..T-1} from the default generator: (B,) int64 on `device`.
  torch::Tensor sampleTimesteps(std::int64_t batch, torch::Device device) const;

private:
  torch::Tensor m_betas, m_alphasCumprod;
  std::vector<double> m_alphaBar; // the same values in double, for the samplers' coefficients
};

} // namespace preflab::core
