// DDPM and DDIM sampling from per-image seeds with classifier-free guidance (torch API, core-internal).
#pragma once

#include "core/data/diffusion_image.h"
#include "core/diffusion/diffusion_sampling_options.h"
#include "core/diffusion/noise_schedule.h"
#include "core/diffusion/unet.h"

#include <cstdint>
#include <vector>

namespace preflab::core {

// Classifier-free guidance: eps_u + s (eps_c - eps_u), both branches in one forward over [x; x].
// x: (B, C, H, W), t: (B,), text: (B, D) prompt embeddings, empty: (B, D) or (1, D) the empty
// prompt's embedding -> (B, C, H, W). At s = 1 this is the conditional prediction.
torch::Tensor guidedEpsilon(UNet &model, const torch::Tensor &x, const torch::Tensor &t,
                            const torch::Tensor &text, const torch::Tensor &empty, double scale);

// The timesteps visited, from T-1 down to 0, evenly spaced (steps <= 0 or >= T: all T).
std::vector<std::int64_t> samplingTimesteps(std::int64_t T, std::int64_t steps);

// Samples one image per row of `ids` (B, L) with seeds[i] for row i. Every random number of row i
// (the initial noise and each step's noise) comes from a CPU generator seeded with seeds[i]
// alone, then moves to the model's device: the same seed gives the same noise for any
// checkpoint of the same shape, whatever else is in the batch; with options.batchInvariant the
// network also runs per image, so the output is bit-identical too. Runs under no-grad and eval()
// and restores the training flag. -> x0: (B, C, H, W) in [-1, 1] on the model's device.
torch::Tensor sampleDiffusion(UNet &model, const NoiseSchedule &schedule, const torch::Tensor &ids,
                              const std::vector<std::uint64_t> &seeds,
                              const DiffusionSamplingOptions &options);

// x: (B, C, H, W) in [-1, 1] -> B images, pixel = round((x + 1) * 127.5) clamped to 0..255.
std::vector<DiffusionImage> imagesFromTensor(const torch::Tensor &x);

// One image per (prompts[i], seeds[i]) as 8-bit buffers with their prompt and seed recorded:
// tokenises, runs sampleDiffusion on up to 64 images at a time and converts. The sizes must agree
// (checked by the caller; TORCH_CHECK here). `progress`, when set, gets the share of images done
// after each chunk.
std::vector<DiffusionImage> sampleImages(UNet &model, const NoiseSchedule &schedule,
                                         const std::vector<std::string> &prompts,
                                         const std::vector<std::uint64_t> &seeds,
                                         const DiffusionSamplingOptions &options,
                                         const std::function<void(double)> &progress = {});

} // namespace preflab::core
