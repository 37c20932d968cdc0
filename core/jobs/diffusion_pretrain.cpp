// DDPM pretraining loop with an EMA copy, run-folder logging and a sample grid.
#include "core/jobs/diffusion_pretrain.h"

#include "core/data/fashion_mnist.h"
#include "core/data/image_output.h"
#include "core/diffusion/diffusion_loss.h"
#include "core/diffusion/diffusion_store.h"
#include "core/diffusion/sampler.h"
#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/runtime/compute_threads.h"
#include "core/runtime/device.h"
#include "core/train/run_folder.h"
#include "core/train/shuffled_batches.h"
#include "core/train/train_loop.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
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

// One DDPM step on a batch of training images for the TrainLoop, with an EMA copy of the weights.
// A checkpoint holds the model, the EMA, both generators' states and the data position.
class PretrainStep final : public TrainStep {
public:
  PretrainStep(const DiffusionPretrainOptions &options, const torch::Tensor &images,
               const torch::Tensor &classIds, const torch::Tensor &labels, torch::Device device)
      : m_options(options), m_images(images), m_classIds(classIds), m_labels(labels), m_device(device),
        m_model(options.model), m_schedule(options.model),
        m_batches(images.size(0), options.batchSize, options.seed + 1) {
    m_model->to(device);
    m_ema = cloneUNet(m_model);
    m_ema->eval();
    for (auto &p : m_ema->parameters())
      p.set_requires_grad(false);
    m_optimizer = std::make_unique<torch::optim::AdamW>(
        m_model->parameters(), torch::optim::AdamWOptions(options.learningRate).weight_decay(0.0));
  }

  UNet &ema() { return m_ema; }
  std::vector<torch::Tensor> parameters() override { return m_model->parameters(); }
  torch::optim::Optimizer &optimizer() override { return *m_optimizer; }

  std::map<std::string, torch::Tensor> compute(std::int64_t) override {
    const auto index = m_batches.next();
    const auto x0 = m_images.index_select(0, index).to(m_device);
    const auto phrasing =
        torch::randint(kFashionPromptTemplates, {index.size(0)}, m_batches.generator(), torch::kInt64);
    const auto ids =
        m_classIds.index_select(0, m_labels.index_select(0, index) * kFashionPromptTemplates + phrasing)
            .to(m_device);
    const auto loss = denoisingLoss(m_model, m_schedule, x0, ids);
    loss.backward();
    return {{"loss", loss.detach()}};
  }

  void afterUpdate(std::int64_t step) override {
    torch::NoGradGuard noGrad;
    const double decay = std::min(m_options.emaDecay, double(step + 1) / double(step + 10));
    auto target = m_ema->parameters();
    auto source = m_model->parameters();
    for (std::size_t i = 0; i < target.size(); ++i)
      target[i].mul_(decay).add_(source[i].detach(), 1.0 - decay);
  }

  void save(const std::string &dir) override {
    torch::save(m_model, dir + "/model.pt");
    torch::save(m_ema, dir + "/ema.pt");
    m_batches.save(dir);
    saveGlobalGenerator(dir);
  }

  void load(const std::string &dir) override {
    torch::load(m_model, dir + "/model.pt", m_device);
    torch::load(m_ema, dir + "/ema.pt", m_device);
    m_batches.load(dir);
    loadGlobalGenerator(dir);
  }

  nlohmann::json identity() const override {
    return {{"task", "pretrain-diffusion"}, {"seed", m_options.seed}, {"model", toJson(m_options.model)}};
  }

private:
  const DiffusionPretrainOptions &m_options;
  torch::Tensor m_images, m_classIds, m_labels;
  torch::Device m_device;
  UNet m_model;
  UNet m_ema{nullptr};
  NoiseSchedule m_schedule;
  std::unique_ptr<torch::optim::AdamW> m_optimizer;
  ShuffledBatches m_batches;
};

} // namespace

DiffusionPretrainResult pretrainDiffusion(const DiffusionPretrainOptions &options,
                                          const TrainerCallbacks &callbacks,
                                          const std::atomic<bool> *cancel) {
  requireInput(!options.outputDir.empty(), "output_dir", "an output folder is needed");
  requireInput(options.steps >= 1, "steps", "must be >= 1");
  requireInput(options.batchSize >= 1, "batch_size", "must be >= 1");
  requireInput(options.learningRate > 0, "learning_rate", "must be > 0");
  requireInput(options.emaDecay >= 0 && options.emaDecay < 1, "ema_decay", "must be in [0, 1)");
  requireInput(options.loggingSteps >= 1, "logging_steps", "must be >= 1");
  options.model.validate();
  requireInput(options.model.imageSize == kFashionMnistSide && options.model.channels == 1,
               "model.image_size", "Fashion-MNIST pretraining needs image_size 28 and channels 1");

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
  PretrainStep step(options, images, classIds, labels, device);
  if (callbacks.onMessage) {
    std::int64_t params = 0;
    for (const auto &p : step.parameters())
      params += p.numel();
    callbacks.onMessage("pretraining a " + std::to_string(params) + "-parameter UNet for " +
                        std::to_string(options.steps) + " steps of " + std::to_string(options.batchSize) +
                        " images on " + device.str());
  }
  LoopSettings settings;
  settings.totalSteps = options.steps;
  settings.loggingSteps = options.loggingSteps;
  settings.saveSteps = options.saveSteps;
  settings.maxGradNorm = 1.0;
  settings.learningRate = [&options](std::int64_t s) { return pretrainLr(options, s); };
  settings.stepsPerEpoch = double(data.count) / double(options.batchSize);
  settings.logWindowMeanLoss = true;
  settings.evalAtEnd = false;
  settings.activity = "pretraining";
  settings.failureHint = "lower 'learning_rate'";
  TrainLoop loop(std::move(settings), step, folder);
  loop.setCallbacks(callbacks);
  loop.setCancelFlag(cancel);
  if (options.resume) {
    const auto from = loop.resumeLatest();
    if (from >= 0 && callbacks.onMessage)
      callbacks.onMessage("resumed from checkpoint step-" + std::to_string(from));
  }
  const auto outcome = loop.run();
  if (outcome.state == RunState::Failed) {
    folder.writeStatus(RunState::Failed, outcome.message, outcome.step, options.steps);
    throw InputError({}, 0, "learning_rate", outcome.message);
  }

  DiffusionPretrainResult result;
  result.modelDir = folder.path("model");
  result.cancelled = outcome.state == RunState::Cancelled;
  result.steps = outcome.step;
  result.finalLoss = outcome.lastMetrics.count("loss") ? outcome.lastMetrics.at("loss") : 0.0;
  const auto stepsDone = outcome.step;
  UNet &ema = step.ema();
  saveDiffusionModel(ema, result.modelDir);

  if (options.gridSeeds > 0 && !result.cancelled) {
    folder.writeStatus(RunState::Running, "sampling the class grid", stepsDone, options.steps);
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
    const NoiseSchedule schedule(options.model);
    sampling.batchInvariant = false;
    std::vector<ImageBuffer> tiles;
    for (const auto &image : sampleImages(ema, schedule, prompts, seeds, sampling))
      tiles.push_back(toImageBuffer(image));
    writePngFile(folder.path("samples/grid.png"), tileImages(tiles, int(options.gridSeeds), 2, 2, 255));
  }
  result.seconds = elapsed();
  folder.writeStatus(result.cancelled ? RunState::Cancelled : RunState::Finished,
                     result.cancelled ? "cancelled at step " + std::to_string(stepsDone) : "finished",
                     stepsDone, options.steps);
  return result;
}

} // namespace preflab::core
