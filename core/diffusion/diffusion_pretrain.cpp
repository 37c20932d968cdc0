// DDPM pretraining loop with an EMA copy, run-folder logging and a sample grid.
#include "core/diffusion/diffusion_pretrain.h"

#include "core/data/fashion_mnist.h"
#include "core/data/image_output.h"
#include "core/diffusion/diffusion_loss.h"
#include "core/diffusion/diffusion_store.h"
#include "core/diffusion/sampler.h"
#include "core/io/input_error.h"
#include "core/train/compute_threads.h"
#include "core/train/device.h"
#include "core/train/run_folder.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <sstream>

namespace preflab::core {

namespace {

std::string optionsYaml(const DiffusionPretrainOptions &o) {
  std::ostringstream out;
  out << "# preflab-cli pretrain-diffusion settings\ntask: pretrain-diffusion\n"
      << "data_dir: \"" << fashionMnistDirectory(o.dataDir) << "\"\nsteps: " << o.steps
      << "\nbatch_size: " << o.batchSize << "\nlearning_rate: " << o.learningRate
      << "\nwarmup_steps: " << o.warmupSteps << "\nema_decay: " << o.emaDecay << "\nseed: " << o.seed
      << "\nthreads: " << o.threads << "\ndevice: " << o.device << "\nmodel: " << toJson(o.model).dump()
      << "\n";
  return out.str();
}

double pretrainLr(const DiffusionPretrainOptions &o, std::int64_t step) {
  if (step < o.warmupSteps)
    return o.learningRate * double(step + 1) / double(o.warmupSteps);
  const double progress =
      double(step - o.warmupSteps) / double(std::max<std::int64_t>(1, o.steps - o.warmupSteps));
  return o.learningRate * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * std::min(1.0, progress))));
}

} // namespace

DiffusionPretrainResult pretrainDiffusion(const DiffusionPretrainOptions &options,
                                          const TrainerCallbacks &callbacks,
                                          const std::atomic<bool> *cancel) {
  auto require = [](bool ok, const char *key, const char *what) {
    if (!ok)
      throw InputError({}, 0, key, what);
  };
  require(!options.outputDir.empty(), "output_dir", "an output folder is needed");
  require(options.steps >= 1, "steps", "must be >= 1");
  require(options.batchSize >= 1, "batch_size", "must be >= 1");
  require(options.learningRate > 0, "learning_rate", "must be > 0");
  require(options.emaDecay >= 0 && options.emaDecay < 1, "ema_decay", "must be in [0, 1)");
  require(options.loggingSteps >= 1, "logging_steps", "must be >= 1");
  options.model.validate();
  require(options.model.imageSize == kFashionMnistSide && options.model.channels == 1, "model.image_size",
          "Fashion-MNIST pretraining needs image_size 28 and channels 1");

  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  setComputeThreads(int(options.threads));
  const auto device = resolveDevice(options.device);
  RunFolder folder(options.outputDir);
  folder.writeConfig(optionsYaml(options));
  folder.writeStatus(RunState::Running, "loading Fashion-MNIST", 0, options.steps);
  if (callbacks.onMessage)
    callbacks.onMessage("loading Fashion-MNIST from " + fashionMnistDirectory(options.dataDir));
  const auto data = loadFashionMnist("train", options.dataDir);

  // All images in [-1, 1] and all prompts tokenised once: (N, 1, 28, 28) and (N, L).
  const auto images = torch::from_blob(const_cast<std::uint8_t *>(data.images.data()),
                                       {data.count, 1, kFashionMnistSide, kFashionMnistSide}, torch::kUInt8)
                          .to(torch::kFloat32)
                          .div(127.5)
                          .sub(1.0);
  // Every phrasing of every class: row label * kFashionPromptTemplates + template.
  std::vector<std::string> classPrompts;
  for (int label = 0; label < kFashionMnistClasses; ++label)
    for (int t = 0; t < kFashionPromptTemplates; ++t)
      classPrompts.push_back(fashionMnistPrompt(label, t));
  const auto classIds = tokenizePrompts(classPrompts, options.model.maxPromptLength); // (60, L)
  const auto labels =
      torch::from_blob(const_cast<std::uint8_t *>(data.labels.data()), {data.count}, torch::kUInt8)
          .to(torch::kInt64);

  torch::manual_seed(options.seed);
  UNet model(options.model);
  model->to(device);
  UNet ema = cloneUNet(model);
  ema->eval();
  for (auto &p : ema->parameters())
    p.set_requires_grad(false);
  const NoiseSchedule schedule(options.model);
  torch::optim::AdamW optimizer(model->parameters(),
                                torch::optim::AdamWOptions(options.learningRate).weight_decay(0.0));
  auto generator = at::detail::createCPUGenerator(options.seed + 1);
  if (callbacks.onMessage) {
    std::int64_t params = 0;
    for (const auto &p : model->parameters())
      params += p.numel();
    callbacks.onMessage("pretraining a " + std::to_string(params) + "-parameter UNet for " +
                        std::to_string(options.steps) + " steps of " + std::to_string(options.batchSize) +
                        " images on " + device.str());
  }

  DiffusionPretrainResult result;
  result.modelDir = folder.path("model");
  double windowLoss = 0.0;
  std::int64_t windowCount = 0;
  torch::Tensor order;
  std::int64_t cursor = data.count;
  std::int64_t step = 0;
  for (; step < options.steps; ++step) {
    if (cancel && cancel->load()) {
      result.cancelled = true;
      break;
    }
    if (cursor + options.batchSize > data.count) {
      order = torch::randperm(data.count, generator, torch::kInt64);
      cursor = 0;
    }
    const auto index = order.slice(0, cursor, cursor + options.batchSize);
    cursor += options.batchSize;
    const auto x0 = images.index_select(0, index).to(device);
    const auto phrasing = torch::randint(kFashionPromptTemplates, {index.size(0)}, generator, torch::kInt64);
    const auto ids =
        classIds.index_select(0, labels.index_select(0, index) * kFashionPromptTemplates + phrasing)
            .to(device);
    const double lr = pretrainLr(options, step);
    for (auto &group : optimizer.param_groups())
      static_cast<torch::optim::AdamWOptions &>(group.options()).lr(lr);
    const auto loss = denoisingLoss(model, schedule, x0, ids);
    optimizer.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
    optimizer.step();
    {
      torch::NoGradGuard noGrad;
      const double decay = std::min(options.emaDecay, double(step + 1) / double(step + 10));
      auto target = ema->parameters();
      auto source = model->parameters();
      for (std::size_t i = 0; i < target.size(); ++i)
        target[i].mul_(decay).add_(source[i].detach(), 1.0 - decay);
    }
    const double lossValue = loss.item<double>();
    if (!std::isfinite(lossValue))
      throw InputError({}, 0, "learning_rate",
                       "the denoising loss became " + std::to_string(lossValue) + " at step " +
                           std::to_string(step + 1) + "; lower the learning rate");
    windowLoss += lossValue;
    ++windowCount;
    if ((step + 1) % options.loggingSteps == 0 || step + 1 == options.steps) {
      StepRecord record;
      record.step = step + 1;
      record.maxSteps = options.steps;
      record.epoch = double((step + 1) * options.batchSize) / double(data.count);
      record.elapsedSeconds = elapsed();
      record.metrics = {
          {"loss", windowLoss / double(windowCount)}, {"learning_rate", lr}, {"epoch", record.epoch}};
      result.finalLoss = windowLoss / double(windowCount);
      folder.appendMetrics(record.step, record.metrics);
      folder.writeStatus(RunState::Running, "pretraining", record.step, options.steps);
      if (callbacks.onLog)
        callbacks.onLog(record);
      windowLoss = 0.0;
      windowCount = 0;
    }
  }
  result.steps = step;
  saveDiffusionModel(ema, result.modelDir);

  if (options.gridSeeds > 0 && !result.cancelled) {
    folder.writeStatus(RunState::Running, "sampling the class grid", step, options.steps);
    std::vector<std::string> prompts;
    std::vector<std::uint64_t> seeds;
    for (int label = 0; label < kFashionMnistClasses; ++label)
      for (std::int64_t s = 0; s < options.gridSeeds; ++s) {
        prompts.push_back(fashionMnistPrompt(label));
        seeds.push_back(std::uint64_t(s));
      }
    DiffusionSamplingOptions sampling;
    sampling.steps = options.samplingSteps;
    sampling.guidanceScale = options.model.guidanceScale;
    sampling.batchInvariant = false;
    std::vector<ImageBuffer> tiles;
    for (const auto &image : sampleImages(ema, schedule, prompts, seeds, sampling))
      tiles.push_back(toImageBuffer(image));
    writePngFile(folder.path("samples/grid.png"), tileImages(tiles, int(options.gridSeeds), 2, 2, 255));
  }
  result.seconds = elapsed();
  folder.writeStatus(result.cancelled ? RunState::Cancelled : RunState::Finished,
                     result.cancelled ? "cancelled at step " + std::to_string(step) : "finished", step,
                     options.steps);
  return result;
}

} // namespace preflab::core
