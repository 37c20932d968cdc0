// DDPM / DDIM reverse processes with per-image generators and classifier-free guidance.
#include "core/diffusion/sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace preflab::core {

namespace {

// One standard normal draw per image, each from its own generator: -> (B, C, H, W) on `device`.
torch::Tensor perImageNoise(std::vector<at::Generator> &generators, const DiffusionConfig &c,
                            torch::Device device) {
  std::vector<torch::Tensor> draws;
  draws.reserve(generators.size());
  for (auto &g : generators)
    draws.push_back(torch::randn({1, c.channels, c.imageSize, c.imageSize}, g, torch::kFloat32));
  return torch::cat(draws, 0).to(device);
}

// One reverse step from t to prev (prev = -1: the final image). x, eps: (B, C, H, W).
torch::Tensor reverseStep(const torch::Tensor &x, const torch::Tensor &eps, double abarT, double abarPrev,
                          const DiffusionSamplingOptions &o, const std::function<torch::Tensor()> &noise) {
  // Predicted x0, clipped to the data range; eps re-derived from it so both stay consistent.
  const auto x0 = ((x - std::sqrt(1.0 - abarT) * eps) / std::sqrt(abarT)).clamp(-1.0, 1.0);
  const auto epsHat = (x - std::sqrt(abarT) * x0) / std::sqrt(1.0 - abarT);
  if (o.sampler == DiffusionSamplerKind::Ddpm) {
    // Posterior q(x_prev | x_t, x0) with beta = 1 - abar_t / abar_prev (respaced when striding).
    const double beta = 1.0 - abarT / abarPrev;
    const double variance = beta * (1.0 - abarPrev) / (1.0 - abarT);
    auto mean = (std::sqrt(abarPrev) * beta / (1.0 - abarT)) * x0 +
                (std::sqrt(1.0 - beta) * (1.0 - abarPrev) / (1.0 - abarT)) * x;
    return variance > 0.0 ? mean + std::sqrt(variance) * noise() : mean;
  }
  const double sigma =
      o.eta * std::sqrt((1.0 - abarPrev) / (1.0 - abarT)) * std::sqrt(std::max(0.0, 1.0 - abarT / abarPrev));
  auto next = std::sqrt(abarPrev) * x0 + std::sqrt(std::max(0.0, 1.0 - abarPrev - sigma * sigma)) * epsHat;
  return sigma > 0.0 ? next + sigma * noise() : next;
}

} // namespace

torch::Tensor guidedEpsilon(UNet &model, const torch::Tensor &x, const torch::Tensor &t,
                            const torch::Tensor &text, const torch::Tensor &empty, double scale) {
  const auto B = x.size(0);
  const auto emptyRows = empty.expand({B, empty.size(1)});
  // Both branches in one forward: rows 0..B-1 conditional, B..2B-1 unconditional.
  const auto both =
      model->predict(torch::cat({x, x}, 0), torch::cat({t, t}, 0), torch::cat({text, emptyRows}, 0));
  const auto conditional = both.narrow(0, 0, B), unconditional = both.narrow(0, B, B);
  return unconditional + scale * (conditional - unconditional);
}

std::vector<std::int64_t> samplingTimesteps(std::int64_t T, std::int64_t steps) {
  if (steps <= 0 || steps >= T)
    steps = T;
  std::vector<std::int64_t> ts;
  for (std::int64_t i = steps - 1; i >= 0; --i) // round(i (T-1) / (steps-1)), strictly decreasing
    ts.push_back(steps == 1 ? T - 1 : (i * (T - 1) * 2 + (steps - 1)) / (2 * (steps - 1)));
  return ts;
}

torch::Tensor sampleDiffusion(UNet &model, const NoiseSchedule &schedule, const torch::Tensor &ids,
                              const std::vector<std::uint64_t> &seeds,
                              const DiffusionSamplingOptions &options) {
  TORCH_CHECK(ids.dim() == 2 && ids.size(0) == std::int64_t(seeds.size()), "one seed per prompt row needed");
  if (options.batchInvariant && seeds.size() > 1) {
    std::vector<torch::Tensor> images; // B x (1, C, H, W)
    for (std::size_t i = 0; i < seeds.size(); ++i)
      images.push_back(
          sampleDiffusion(model, schedule, ids.narrow(0, std::int64_t(i), 1), {seeds[i]}, options));
    return torch::cat(images, 0);
  }
  TORCH_CHECK(schedule.timesteps() == model->config().timesteps, "schedule and model disagree on T");
  const bool wasTraining = model->is_training();
  model->eval();
  torch::NoGradGuard noGrad;
  const auto device = model->device();
  const auto &c = model->config();
  std::vector<at::Generator> generators;
  for (auto seed : seeds)
    generators.push_back(at::detail::createCPUGenerator(seed));
  // text: (B, D), empty: (1, D)
  const auto text = model->encodePrompts(ids.to(device));
  const auto empty = model->encodePrompts(tokenizePrompts({""}, ids.size(1)).to(device));
  auto x = perImageNoise(generators, c, device); // x_T: (B, C, H, W)
  const auto ts = samplingTimesteps(schedule.timesteps(), options.steps);
  const auto noise = [&] { return perImageNoise(generators, c, device); };
  for (std::size_t i = 0; i < ts.size(); ++i) {
    const auto t = torch::full({x.size(0)}, ts[i], torch::TensorOptions().dtype(torch::kLong).device(device));
    const auto eps = options.guidanceScale == 1.0
                         ? model->predict(x, t, text)
                         : guidedEpsilon(model, x, t, text, empty, options.guidanceScale);
    const auto prev = i + 1 < ts.size() ? ts[i + 1] : -1;
    x = reverseStep(x, eps, schedule.alphaBar(ts[i]), schedule.alphaBar(prev), options, noise);
  }
  model->train(wasTraining);
  return x.clamp(-1.0, 1.0);
}

std::vector<DiffusionImage> imagesFromTensor(const torch::Tensor &x) {
  TORCH_CHECK(x.dim() == 4, "imagesFromTensor: x must be (B, C, H, W)");
  // bytes: (B, H, W, C) uint8 on the CPU
  const auto bytes = ((x.detach().to(torch::kCPU, torch::kFloat32) + 1.0) * 127.5)
                         .round()
                         .clamp(0, 255)
                         .to(torch::kUInt8)
                         .permute({0, 2, 3, 1})
                         .contiguous();
  std::vector<DiffusionImage> images(static_cast<std::size_t>(x.size(0)));
  const auto perImage = x.size(1) * x.size(2) * x.size(3);
  for (std::size_t i = 0; i < images.size(); ++i) {
    auto &image = images[i];
    image.channels = x.size(1);
    image.height = x.size(2);
    image.width = x.size(3);
    const auto *begin = bytes.data_ptr<std::uint8_t>() + std::int64_t(i) * perImage;
    image.pixels.assign(begin, begin + perImage);
  }
  return images;
}

std::vector<DiffusionImage> sampleImages(UNet &model, const NoiseSchedule &schedule,
                                         const std::vector<std::string> &prompts,
                                         const std::vector<std::uint64_t> &seeds,
                                         const DiffusionSamplingOptions &options,
                                         const std::function<void(double)> &progress) {
  TORCH_CHECK(prompts.size() == seeds.size(), "sampleImages: one seed per prompt needed");
  constexpr std::size_t kChunk = 64;
  std::vector<DiffusionImage> images;
  images.reserve(prompts.size());
  for (std::size_t begin = 0; begin < prompts.size(); begin += kChunk) {
    const auto end = std::min(prompts.size(), begin + kChunk);
    const std::vector<std::string> chunkPrompts(prompts.begin() + long(begin), prompts.begin() + long(end));
    const std::vector<std::uint64_t> chunkSeeds(seeds.begin() + long(begin), seeds.begin() + long(end));
    const auto ids = tokenizePrompts(chunkPrompts, model->config().maxPromptLength);
    auto chunk = imagesFromTensor(sampleDiffusion(model, schedule, ids, chunkSeeds, options));
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      chunk[i].prompt = chunkPrompts[i];
      chunk[i].seed = chunkSeeds[i];
      images.push_back(std::move(chunk[i]));
    }
    if (progress)
      progress(double(end) / double(prompts.size()));
  }
  return images;
}

} // namespace preflab::core
