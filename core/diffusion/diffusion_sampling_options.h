// Torch-free settings of the diffusion samplers (DDPM ancestral, DDIM) and guidance.
#pragma once

#include <cstdint>

namespace preflab::core {

enum class DiffusionSamplerKind {
  Ddpm, // ancestral sampling with the posterior variance (Ho et al.)
  Ddim, // DDIM (Song et al.), deterministic at eta = 0
};

struct DiffusionSamplingOptions {
  DiffusionSamplerKind sampler = DiffusionSamplerKind::Ddim;
  // Denoising steps on an evenly spaced subsequence of 0..T-1 that starts at T-1; 0 = all T.
  // DDPM with fewer steps uses the respaced betas 1 - abar_t / abar_prev.
  std::int64_t steps = 50;
  double eta = 0.0;           // DDIM only: 0 deterministic, 1 matches DDPM's variance
  double guidanceScale = 3.0; // eps_u + s (eps_c - eps_u); 1 = conditional only, 0 = unconditional
  // true: the network runs one image at a time (with its unconditional branch), so an image is
  // bit-identical whatever else is in the batch (CPU kernels round differently per batch size).
  // false: all images in one forward, faster (above all on a GPU), equal up to float rounding.
  bool batchInvariant = true;
};

} // namespace preflab::core
