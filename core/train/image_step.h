// One text-to-image preference step's model work, shared by the trainer and the step benchmark
// (torch API, core-internal).
#pragma once

#include "core/diffusion/noise_schedule.h"
#include "core/diffusion/unet.h"
#include "core/objectives/diffusion_objectives.h"

namespace preflab::core {

// ε-predictions of the policy (with grad) and the reference (no grad) for B pairs whose winner and
// loser are noised with the same timestep and noise: one forward each over [winners; losers].
// winners, losers: (B, C, H, W), t: (B,), eps: (B, C, H, W), ids: (B, L), all on the models'
// device -> predModelW/L, predRefW/L and noise filled in, ready for any pairwise image objective.
DiffusionObjectiveInputs pairPredictions(UNet &policy, UNet &reference, const NoiseSchedule &schedule,
                                         const torch::Tensor &winners, const torch::Tensor &losers,
                                         const torch::Tensor &t, const torch::Tensor &eps,
                                         const torch::Tensor &ids);

} // namespace preflab::core
