// Tiny run settings and metric readers the core tests share: the embedded sentiment task at a
// size that trains in about a second, and the training lines of a run's metrics.jsonl.
#pragma once

#include "core/diffusion/diffusion_config.h"
#include "core/train/run_folder.h"
#include "core/train/text_train_config.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

// Not in preflab_tests: the core tests' unity build renames that namespace per file (test_main.h).
namespace preflab::test {

// A UNet of 8 base channels on two levels (4 groups) with a one-layer, 16-wide, 2-head prompt
// encoder of 16 tokens: samples 28×28 images in milliseconds.
inline core::DiffusionConfig tinyDiffusionConfig(std::int64_t timesteps = 100) {
  core::DiffusionConfig c;
  c.baseChannels = 8;
  c.channelMults = {1, 2};
  c.groups = 4;
  c.textDim = 16;
  c.textHeads = 2;
  c.textLayers = 1;
  c.maxPromptLength = 16;
  c.timesteps = timesteps;
  return c;
}

// task: sentiment with a one-layer 16-wide model, 2 SFT steps on 64 reviews, 24 prompts, 4
// evaluation prompts; the SFT stage cached under cacheDir (shared by a test's runs).
inline core::TextTrainConfig tinySentimentConfig(const std::string &outputDir, const std::string &cacheDir) {
  core::TextTrainConfig c;
  c.task = "sentiment";
  c.outputDir = outputDir;
  c.cacheDir = cacheDir;
  c.lossType = "dpo";
  c.learningRate = 1e-3;
  c.maxSteps = 2;
  c.perDeviceTrainBatchSize = 4;
  c.maxLength = 32;
  c.maxPromptLength = 12;
  c.threads = 1;
  c.model.nLayer = 1;
  c.model.nHead = 2;
  c.model.nEmbd = 16;
  c.model.blockSize = 32;
  c.sentiment.corpusSize = 64;
  c.sentiment.sftSteps = 2;
  c.sentiment.sftBatchSize = 8;
  c.sentiment.numPrompts = 24;
  c.sentiment.evalPrompts = 4;
  c.sentiment.maxNewTokens = 12;
  return c;
}

// The lines of runDir/metrics.jsonl that a training step wrote (those with a "loss").
inline std::vector<nlohmann::json> trainingLines(const std::string &runDir) {
  std::vector<nlohmann::json> out;
  for (auto &line : core::readMetricsFile(runDir + "/metrics.jsonl"))
    if (line.contains("loss"))
      out.push_back(line);
  return out;
}

} // namespace preflab::test
