// Denoising losses: per-sample MSE with caller-chosen t and eps, prompt dropout, pretraining loss.
#include "core/diffusion/diffusion_loss.h"

#include <torch/torch.h>

namespace preflab::core {

torch::Tensor noisePrediction(UNet &model, const NoiseSchedule &schedule, const torch::Tensor &x0,
                              const torch::Tensor &t, const torch::Tensor &eps, const torch::Tensor &ids) {
  return model->forward(schedule.addNoise(x0, t, eps), t, ids); // x_t -> eps_theta: (B, C, H, W)
}

torch::Tensor perSampleMse(UNet &model, const NoiseSchedule &schedule, const torch::Tensor &x0,
                           const torch::Tensor &t, const torch::Tensor &eps, const torch::Tensor &ids) {
  const auto predicted = noisePrediction(model, schedule, x0, t, eps, ids);
  return (predicted.to(torch::kFloat32) - eps.to(torch::kFloat32)).pow(2).mean({1, 2, 3}); // (B,)
}

torch::Tensor dropPrompts(const torch::Tensor &ids, double rate) {
  TORCH_CHECK(ids.dim() == 2, "dropPrompts: ids must be (B, L)");
  if (rate <= 0.0)
    return ids.clone();
  // empty: (1, L) = [begin, pad, ...]; drop: (B, 1)
  auto empty = torch::full({1, ids.size(1)}, kPromptPadId, ids.options());
  empty.index_put_({0, 0}, kPromptBeginId);
  const auto drop = (torch::rand({ids.size(0), 1}) < rate).to(ids.device());
  return torch::where(drop, empty, ids);
}

torch::Tensor denoisingLoss(UNet &model, const NoiseSchedule &schedule, const torch::Tensor &x0,
                            const torch::Tensor &ids) {
  const auto t = schedule.sampleTimesteps(x0.size(0), x0.device());
  const auto eps = torch::randn_like(x0);
  return perSampleMse(model, schedule, x0, t, eps, dropPrompts(ids, model->config().promptDropout)).mean();
}

} // namespace preflab::core
