// NoiseSchedule: beta tables and the closed-form forward process.
#include "core/diffusion/noise_schedule.h"

#include <torch/torch.h>

#include <cmath>

namespace preflab::core {

namespace {

// Betas (T,) in double. Cosine: abar(t) = f(t) / f(0), f(t) = cos^2(((t/T + s) / (1 + s)) pi/2),
// s = 0.008, beta clipped at 0.999 so the last step stays finite.
std::vector<double> makeBetas(const DiffusionConfig &c) {
  const auto T = c.timesteps;
  std::vector<double> betas(static_cast<std::size_t>(T));
  if (c.betaSchedule == "cosine") {
    constexpr double kS = 0.008;
    const double pi = std::acos(-1.0);
    auto f = [&](double t) {
      const double v = std::cos((t / double(T) + kS) / (1.0 + kS) * pi / 2.0);
      return v * v;
    };
    for (std::int64_t t = 0; t < T; ++t)
      betas[std::size_t(t)] = std::min(1.0 - f(double(t + 1)) / f(double(t)), 0.999);
  } else {
    for (std::int64_t t = 0; t < T; ++t)
      betas[std::size_t(t)] = c.betaStart + (c.betaEnd - c.betaStart) * double(t) / double(T - 1);
  }
  return betas;
}

} // namespace

NoiseSchedule::NoiseSchedule(const DiffusionConfig &config) {
  config.validate();
  const auto betas = makeBetas(config);
  m_alphaBar.resize(betas.size());
  double product = 1.0;
  for (std::size_t t = 0; t < betas.size(); ++t) {
    product *= 1.0 - betas[t];
    m_alphaBar[t] = product;
  }
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  const auto T = std::int64_t(betas.size());
  m_betas = torch::from_blob(const_cast<double *>(betas.data()), {T}, options).to(torch::kFloat32);
  m_alphasCumprod = torch::from_blob(m_alphaBar.data(), {T}, options).to(torch::kFloat32);
}

double NoiseSchedule::alphaBar(std::int64_t t) const {
  TORCH_CHECK(t >= -1 && t < timesteps(), "timestep ", t, " outside [-1, ", timesteps(), ")");
  return t < 0 ? 1.0 : m_alphaBar[std::size_t(t)];
}

torch::Tensor NoiseSchedule::addNoise(const torch::Tensor &x0, const torch::Tensor &t,
                                      const torch::Tensor &eps) const {
  TORCH_CHECK(x0.dim() == 4 && x0.sizes() == eps.sizes(), "addNoise: x0 and eps must be (B, C, H, W)");
  TORCH_CHECK(t.dim() == 1 && t.size(0) == x0.size(0), "addNoise: t must be (B,)");
  // abar: (B, 1, 1, 1) on the images' device
  const auto abar = m_alphasCumprod.to(x0.device()).index_select(0, t.to(x0.device())).view({-1, 1, 1, 1});
  return abar.sqrt() * x0 + (1.0 - abar).sqrt() * eps;
}

torch::Tensor NoiseSchedule::sampleTimesteps(std::int64_t batch, torch::Device device) const {
  return torch::randint(0, timesteps(), {batch}, torch::TensorOptions().dtype(torch::kLong)).to(device);
}

} // namespace preflab::core
