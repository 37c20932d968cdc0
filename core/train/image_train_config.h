// ImageTrainConfig: every setting of a text-to-image preference run (task: text-to-image), read
// from YAML with the same key names as the text runs where they mean the same thing.
#pragma once

#include "core/objectives/objective_info.h"
#include "core/train/config_key.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace preflab::core {

struct ImageTrainConfig {
  std::string task = "text-to-image";
  // Data: a Pick-a-Pic-style manifest, or "fashion-mnist" for pairs of real Fashion-MNIST images
  // labelled by the oracle in memory (no image files, so no OpenCV needed).
  std::string trainFile;
  std::string evalFile; // held-out manifest; empty: eval_fraction of train_file is held out
  double evalFraction = 0.1;
  std::string ties = "drop";               // drop | keep (label_0 0.5)
  bool skipInvalid = false;                // skip malformed manifest lines (counted) instead of failing
  std::int64_t fashionPairsPerClass = 100; // train_file: fashion-mnist only
  // Models.
  std::string referenceModel; // diffusion model folder ("": the embedded Fashion-MNIST reference);
                              // the policy starts as a copy
  // The judge of the held-out evaluation: an oracle folder, "fashion" (the embedded Fashion-MNIST
  // oracle), or "" (none: implicit accuracy on held-out pairs and caption grids only; with
  // train_file: fashion-mnist the Fashion task supplies its own oracle).
  std::string oracleModel;
  // Objective (an image objective of the registry: diffusion-dpo, dspo, ...).
  std::string lossType = "dspo";
  double beta = 0.0; // 0: the objective's default
  // The other parameters the image objectives declare (detach_target, sdxl_gap_threshold, ...),
  // by config key; booleans are 0/1.
  std::map<std::string, double> objectiveParams = objectiveParamDefaults(Modality::Image);
  double promptDropout = 0.0; // empty-prompt rate during preference training (same for w and l)
  // Optimisation (AdamW).
  double learningRate = 1e-4;
  double weightDecay = 0.0;
  double adamBeta1 = 0.9;
  double adamBeta2 = 0.999;
  double adamEpsilon = 1e-8;
  std::string lrSchedulerType = "constant_with_warmup";
  std::int64_t warmupSteps = 10;
  double maxGradNorm = 1.0;
  std::int64_t perDeviceTrainBatchSize = 16; // pairs per step
  std::int64_t maxSteps = 200;
  std::uint64_t seed = 42;
  // Logging, evaluation, checkpoints.
  std::int64_t loggingSteps = 1;
  std::int64_t evalSteps = 0; // 0: only at the end (plus the reference before step 1)
  std::int64_t saveSteps = 0; // 0: only the final model
  std::string outputDir = "runs/image-run";
  // Held-out evaluation: every class prompt with eval_seeds_per_class fixed seeds.
  std::int64_t evalSeedsPerClass = 10;
  std::uint64_t evalSeed = 1000000; // seeds eval_seed, eval_seed + 1, ... (disjoint from pairs)
  // Which prompts and seeds the oracle evaluation uses: "test" (the two phrasings pair generation
  // never uses, seeds from eval_seed) or "validation" (the pairs' four phrasings, seeds from
  // eval_seed + kValidationSeedOffset): tune on validation, report on test, and no prompt or seed
  // of one is in the other.
  std::string evalSplit = "test";
  std::string evalSampler = "ddim"; // ddim | ddpm
  std::int64_t evalSamplingSteps = 25;
  double guidanceScale = 1.5;
  std::int64_t evalTimesteps = 5; // implicit accuracy averaged over t = (k + 0.5) T / n
  std::int64_t gridSeeds = 8;     // columns per class in the samples/ grids
  double appealWeight = 0.5;      // oracle reward = P(class | image) + appeal_weight · appeal
  // Execution.
  std::string device = "cpu";
  std::int64_t threads = 0;

  // Throws InputError naming the key for an out-of-range value or unknown loss_type.
  void validate() const;
  // The chosen objective's parameters as this config sets them (beta 0: its default).
  ObjectiveParams lossParams() const;
};

constexpr std::uint64_t kValidationSeedOffset = 1ull << 32;

ImageTrainConfig imageTrainConfigFromYaml(const std::string &yamlText, const std::string &source);
ImageTrainConfig loadImageTrainConfig(const std::string &path);
void applyOverride(ImageTrainConfig &config, const std::string &assignment);
std::string toYaml(const ImageTrainConfig &config);
std::vector<std::string> imageTrainConfigKeys();
// Every key with its default and a one-line meaning (range included), in table order.
std::vector<ConfigKeyHelp> imageTrainConfigHelp();

// True when the YAML file at `path` sets "task: text-to-image" (false for unreadable files, which
// the text loader then reports).
bool isImageTrainConfigFile(const std::string &path);

} // namespace preflab::core
