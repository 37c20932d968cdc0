// pairPredictions: the policy's and the reference's noise predictions for a batch of image pairs.
#include "core/train/image_step.h"

#include "core/diffusion/diffusion_loss.h"

#include <torch/torch.h>

namespace preflab::core {

DiffusionObjectiveInputs pairPredictions(UNet &policy, UNet &reference, const NoiseSchedule &schedule,
                                         const torch::Tensor &winners, const torch::Tensor &losers,
                                         const torch::Tensor &t, const torch::Tensor &eps,
                                         const torch::Tensor &ids) {
  const auto batch = winners.size(0);
  const auto x = torch::cat({winners, losers});
  const auto tt = torch::cat({t, t});
  const auto ee = torch::cat({eps, eps});
  const auto ids2 = torch::cat({ids, ids});
  DiffusionObjectiveInputs in;
  const auto predModel = noisePrediction(policy, schedule, x, tt, ee, ids2);
  in.predModelW = predModel.slice(0, 0, batch);
  in.predModelL = predModel.slice(0, batch, 2 * batch);
  in.noise = eps;
  torch::NoGradGuard noGrad;
  const auto predRef = noisePrediction(reference, schedule, x, tt, ee, ids2);
  in.predRefW = predRef.slice(0, 0, batch);
  in.predRefL = predRef.slice(0, batch, 2 * batch);
  return in;
}

std::map<std::string, torch::Tensor>
pairStepBackward(UNet &policy, UNet &reference, const NoiseSchedule &schedule,
                 const DiffusionObjectiveFn &objective, const ObjectiveParams &params,
                 const torch::Tensor &winners, const torch::Tensor &losers, const torch::Tensor &t,
                 const torch::Tensor &eps, const torch::Tensor &ids, double weight) {
  auto out = objective(pairPredictions(policy, reference, schedule, winners, losers, t, eps, ids), params);
  (out.loss * weight).backward(); // weight 1 changes no bit
  auto metrics = out.metrics;
  for (auto &[name, value] : metrics)
    value = value * weight;
  metrics["loss"] = out.loss.detach() * weight;
  return metrics;
}

} // namespace preflab::core
