// One text-to-image preference step's model work, shared by the trainer and the step benchmark
// (torch API, core-internal).
#pragma once

#include "core/diffusion/noise_schedule.h"
#include "core/diffusion/unet.h"
#include "core/objectives/diffusion_objectives.h"

#include <map>
#include <string>

namespace preflab::core {

// ε-predictions of the policy (with grad) and the reference (no grad) for B pairs whose winner and
// loser are noised with the same timestep and noise: one forward each over [winners; losers].
// winners, losers: (B, C, H, W), t: (B,), eps: (B, C, H, W), ids: (B, L), all on the models'
// device -> predModelW/L, predRefW/L and noise filled in, ready for any pairwise image objective.
DiffusionObjectiveInputs pairPredictions(UNet &policy, UNet &reference, const NoiseSchedule &schedule,
                                         const torch::Tensor &winners, const torch::Tensor &losers,
                                         const torch::Tensor &t, const torch::Tensor &eps,
                                         const torch::Tensor &ids);

// One pairwise step's forward and backward, as the trainer and the step benchmark run it:
// pairPredictions, the objective, and the gradient of its loss added to the policy's .grad.
// Returns the objective's metrics with "loss", detached; `weight` scales the loss before the
// backward and the metrics (a data-parallel rank's share of the batch). (Unlike the text step, the batch is
// not split over CPU threads: the UNet's convolutions already use every intra-op thread, and shards
// measured 2.3x slower here, bench/README.md.)
std::map<std::string, torch::Tensor>
pairStepBackward(UNet &policy, UNet &reference, const NoiseSchedule &schedule,
                 const DiffusionObjectiveFn &objective, const ObjectiveParams &params,
                 const torch::Tensor &winners, const torch::Tensor &losers, const torch::Tensor &t,
                 const torch::Tensor &eps, const torch::Tensor &ids, double weight = 1.0);

} // namespace preflab::core
