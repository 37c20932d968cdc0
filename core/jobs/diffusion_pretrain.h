// Pretraining the text-to-image reference model on Fashion-MNIST (preflab-cli pretrain-diffusion).
#pragma once

#include "core/diffusion/diffusion_config.h"
#include "core/train/trainer_callbacks.h"

#include <atomic>
#include <cstdint>
#include <string>

namespace preflab::core {

struct DiffusionPretrainOptions {
  DiffusionConfig model; // shape, schedule, prompt dropout and guidance of the model to train
  std::string dataDir;   // Fashion-MNIST folder ("" = fashionMnistDirectory())
  std::string outputDir; // a run folder; the model is written to <outputDir>/model
  std::int64_t steps = 3000;
  std::int64_t batchSize = 64;
  double learningRate = 1e-3; // AdamW, linear warmup then cosine decay to 10%
  std::int64_t warmupSteps = 100;
  double emaDecay = 0.999; // the saved model is the exponential moving average of the weights
  std::uint64_t seed = 0;
  std::int64_t loggingSteps = 10;
  std::int64_t threads = 0;        // 0: all cores
  std::string device = "cpu";      // cpu | cuda | auto
  std::int64_t gridSeeds = 8;      // samples/grid.png: each class prompt with this many seeds (0: none)
  std::int64_t samplingSteps = 50; // DDIM steps for the grid
  std::int64_t saveSteps = 0;      // checkpoints/step-N every N steps (0: only at the end)
  bool resume = false;             // continue from the newest checkpoint in outputDir
};

struct DiffusionPretrainResult {
  std::string modelDir; // <outputDir>/model, loadable with loadDiffusionModel / DiffusionGenerator
  std::int64_t steps = 0;
  double finalLoss = 0.0; // mean denoising loss of the last logging window
  double seconds = 0.0;
  bool cancelled = false;
};

// DDPM training of the conditional UNet on the 60,000 training images, each with its class prompt
// in a random one of the kFashionPromptTemplates phrasings, prompts dropped at model.promptDropout
// for classifier-free guidance.
// Writes a run folder like a training run: config.yaml (these options), metrics.jsonl (loss,
// learning_rate, grad_norm), status.json, checkpoints/step-N/ (model, EMA, optimizer, RNG and
// data position: resume is exact), model/ (EMA weights) and samples/grid.png. Runs on the one
// TrainLoop. Throws InputError for bad options, missing data or a non-finite loss or gradient; a
// cancel stops after the current step and still saves the model.
DiffusionPretrainResult pretrainDiffusion(const DiffusionPretrainOptions &options,
                                          const TrainerCallbacks &callbacks,
                                          const std::atomic<bool> *cancel = nullptr);

} // namespace preflab::core
