// Denoising losses of the eps-prediction UNet: per-sample MSE and the pretraining loss with CFG dropout.
#pragma once

#include "core/diffusion/noise_schedule.h"
#include "core/diffusion/unet.h"

namespace preflab::core {

// The per-sample denoising error that Diffusion-DPO, DSPO and SFT build on: the mean over
// (C, H, W) of (eps_theta(x_t, t, prompt) - eps)^2 with x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps.
// Callers choose t and eps, so a pair's winner and loser can share them (batch [winners; losers]
// with t.repeat(2) and eps.repeat({2, 1, 1, 1})).
// x0: (B, C, H, W) in [-1, 1], t: (B,) int64, eps: (B, C, H, W), ids: (B, L) -> (B,)
// All on the model's device. Differentiable with respect to the model's parameters.
torch::Tensor perSampleMse(UNet &model, const NoiseSchedule &schedule, const torch::Tensor &x0,
                           const torch::Tensor &t, const torch::Tensor &eps, const torch::Tensor &ids);

// The model's eps prediction at x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, for objectives that
// need the raw prediction (DSPO's predModelW / predRefW). Same shapes and device as perSampleMse;
// perSampleMse(...) == (noisePrediction(...) - eps)^2 averaged over (C, H, W).
// x0: (B, C, H, W), t: (B,), eps: (B, C, H, W), ids: (B, L) -> eps_theta: (B, C, H, W)
torch::Tensor noisePrediction(UNet &model, const NoiseSchedule &schedule, const torch::Tensor &x0,
                              const torch::Tensor &t, const torch::Tensor &eps, const torch::Tensor &ids);

// Classifier-free guidance dropout: each row becomes the empty prompt with probability `rate`,
// drawn from the default generator. ids: (B, L) -> (B, L) (a new tensor).
torch::Tensor dropPrompts(const torch::Tensor &ids, double rate);

// DDPM pretraining loss: t ~ U{0..T-1}, eps ~ N(0, I), prompts dropped at config().promptDropout,
// mean of perSampleMse over the batch. x0: (B, C, H, W), ids: (B, L) -> scalar.
torch::Tensor denoisingLoss(UNet &model, const NoiseSchedule &schedule, const torch::Tensor &x0,
                            const torch::Tensor &ids);

} // namespace preflab::core
