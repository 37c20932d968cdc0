// Times one Diffusion-DPO training step of the text-to-image model (policy forward and backward on
// winners and losers with shared noise and timestep, frozen reference forward, loss, clip, AdamW)
// on the CPU or a CUDA device, through the trainer's own step (core::pairStepBackward). Prints one
// JSON line per device with steps/s and images/s.
#include "core/diffusion/diffusion_store.h"
#include "core/io/resource_paths.h"
#include "core/objectives/diffusion_objectives.h"
#include "core/runtime/compute_threads.h"
#include "core/runtime/device.h"
#include "core/train/image_step.h"

#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>

namespace core = preflab::core;

namespace {

void synchronize(const torch::Device &device) {
  if (device.is_cuda()) // a tiny copy to the host waits for the queued kernels
    torch::zeros({1}, torch::TensorOptions().device(device)).cpu();
}

nlohmann::json benchOn(const std::string &deviceName, const std::string &modelDir, std::int64_t pairs,
                       int steps, int warmup) {
  const auto device = core::resolveDevice(deviceName);
  core::UNet reference = core::loadDiffusionModel(modelDir);
  reference->to(device);
  reference->eval();
  for (auto &p : reference->parameters())
    p.set_requires_grad(false);
  core::UNet policy = core::cloneUNet(reference);
  for (auto &p : policy->parameters())
    p.set_requires_grad(true);
  policy->train();
  const core::NoiseSchedule schedule(reference->config());
  torch::optim::AdamW optimizer(policy->parameters(), torch::optim::AdamWOptions(1e-4));
  const auto &objective = core::diffusionObjectiveFunction("diffusion-dpo");
  const core::ObjectiveParams params =
      core::defaultObjectiveParams(core::objectiveInfo("diffusion-dpo", core::Modality::Image));
  const auto &c = reference->config();
  torch::manual_seed(0);
  const auto w = (torch::rand({pairs, c.channels, c.imageSize, c.imageSize}) * 2 - 1).to(device);
  const auto l = (torch::rand({pairs, c.channels, c.imageSize, c.imageSize}) * 2 - 1).to(device);
  std::vector<std::string> prompts;
  for (std::int64_t i = 0; i < pairs; ++i)
    prompts.push_back(i % 2 ? "a photo of a sneaker" : "a picture of an ankle boot");
  const auto ids = core::tokenizePrompts(prompts, c.maxPromptLength).to(device);
  auto step = [&] {
    const auto t = torch::randint(c.timesteps, {pairs}, torch::TensorOptions(torch::kInt64).device(device));
    const auto eps = torch::randn_like(w);
    optimizer.zero_grad();
    core::pairStepBackward(policy, reference, schedule, objective, params, w, l, t, eps, ids);
    torch::nn::utils::clip_grad_norm_(policy->parameters(), 1.0);
    optimizer.step();
  };
  for (int i = 0; i < warmup; ++i)
    step();
  synchronize(device);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i)
    step();
  synchronize(device);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {{"device", device.str()},
          {"pairs_per_step", pairs},
          {"steps", steps},
          {"seconds", seconds},
          {"steps_per_s", double(steps) / seconds},
          {"images_per_s", double(steps * 2 * pairs) / seconds},
          {"threads", at::get_num_threads()},
          {"model", modelDir}};
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"Diffusion-DPO training step benchmark (text-to-image model)."};
  std::string model = core::embeddedResource("fashion-reference");
  std::vector<std::string> devices{"cpu"};
  std::int64_t pairs = 64;
  int steps = 10, warmup = 2, threads = 0;
  app.add_option("--model", model, "diffusion model folder (default: the embedded reference)");
  app.add_option("--device", devices, "cpu and/or cuda (repeatable)");
  app.add_option("--pairs", pairs, "pairs per step (images per step: twice this)")
      ->check(CLI::PositiveNumber);
  app.add_option("--steps", steps, "timed steps")->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "untimed steps first")->check(CLI::NonNegativeNumber);
  app.add_option("--threads", threads, "CPU threads (0: all cores)")->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    core::setComputeThreads(threads);
    for (const auto &d : devices)
      std::cout << benchOn(d, model, pairs, steps, warmup).dump() << std::endl;
  } catch (const std::exception &e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
