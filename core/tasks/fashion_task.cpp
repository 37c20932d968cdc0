// FashionTask: held-out class prompts sampled from reference and policy with the same noise, scored
// by the Fashion-MNIST oracle.
#include "core/tasks/fashion_task.h"

#include "core/data/fashion_mnist.h"
#include "core/data/image_output.h"
#include "core/diffusion/diffusion_sampling_options.h"
#include "core/diffusion/sampler.h"
#include "core/io/resource_paths.h"
#include "core/tasks/fashion_oracle.h"
#include "core/tasks/image_pairs.h"
#include "core/tasks/raters.h"
#include "core/train/image_eval.h"

#include <nlohmann/json.hpp>

#include <torch/torch.h>

namespace preflab::core {

std::string resolveImageOracle(const ImageTrainConfig &config) {
  if (config.oracleModel == "fashion" || (config.oracleModel.empty() && config.trainFile == "fashion-mnist"))
    return embeddedResource("fashion-oracle");
  return config.oracleModel;
}

struct FashionTask::Impl {
  ImageTrainConfig config;
  std::string oracleDir;
  std::unique_ptr<FashionOracle> oracle;
  std::vector<std::string> prompts;
  std::vector<int> labels;
  std::vector<std::uint64_t> seeds;
  DiffusionSamplingOptions sampling;
  std::vector<ImageBuffer> refImages;
  std::vector<OracleScore> refScores;

  std::vector<ImageBuffer> sampleAll(UNet &model, const NoiseSchedule &schedule,
                                     const std::function<void(double)> &progress) const {
    std::vector<ImageBuffer> out;
    for (const auto &image : sampleImages(model, schedule, prompts, seeds, sampling, progress))
      out.push_back(toImageBuffer(image));
    return out;
  }

  ImageBuffer classGrid(const std::vector<ImageBuffer> &images) const {
    const auto perClass = config.evalSeedsPerClass;
    const auto columns = std::min(config.gridSeeds, perClass);
    std::vector<ImageBuffer> tiles;
    for (int label = 0; label < kFashionMnistClasses; ++label)
      for (std::int64_t s = 0; s < columns; ++s)
        tiles.push_back(images[std::size_t(label) * std::size_t(perClass) + std::size_t(s)]);
    return tileImages(tiles, int(columns), 2, 2, 255);
  }
};

FashionTask::FashionTask(const ImageTrainConfig &config, const std::string &oracleDir)
    : m_impl(std::make_unique<Impl>()) {
  auto &m = *m_impl;
  m.config = config;
  m.oracleDir = oracleDir;
  m.oracle = std::make_unique<FashionOracle>(oracleDir, OracleRewardSettings{config.appealWeight});
  // Test: the phrasings that pair generation never uses; validation: the pairs' own phrasings with
  // seeds far above the test's. Either alternates its phrasings by seed.
  const bool validation = config.evalSplit == "validation";
  const int firstTemplate = validation ? 0 : kFashionPairTemplates;
  const int templates = validation ? kFashionPairTemplates : kFashionPromptTemplates - kFashionPairTemplates;
  const std::uint64_t firstSeed = config.evalSeed + (validation ? kValidationSeedOffset : 0);
  for (int label = 0; label < kFashionMnistClasses; ++label)
    for (std::int64_t s = 0; s < config.evalSeedsPerClass; ++s) {
      m.prompts.push_back(fashionMnistPrompt(label, firstTemplate + int(s % templates)));
      m.labels.push_back(label);
      m.seeds.push_back(firstSeed + std::uint64_t(label) * std::uint64_t(config.evalSeedsPerClass) +
                        std::uint64_t(s));
    }
  m.sampling = evalSampling(config);
}

FashionTask::~FashionTask() = default;
FashionTask::FashionTask(FashionTask &&) noexcept = default;

void FashionTask::prepare(UNet &reference, const NoiseSchedule &schedule,
                          const std::function<void(double)> &progress) {
  m_impl->refImages = m_impl->sampleAll(reference, schedule, progress);
  m_impl->refScores = m_impl->oracle->score(m_impl->refImages, m_impl->labels);
}

std::map<std::string, double> FashionTask::evaluate(UNet &policy, const NoiseSchedule &schedule,
                                                    RunFolder &folder, std::int64_t step,
                                                    const std::function<void(double)> &progress) {
  const auto &m = *m_impl;
  const auto images = m.sampleAll(policy, schedule, progress);
  const auto scores = m.oracle->score(images, m.labels);
  std::vector<double> outcomes;
  double reward = 0, rewardRef = 0, acc = 0, accRef = 0, appeal = 0, appealRef = 0;
  std::string samplesJsonl;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const auto &s = scores[i], &r = m.refScores[i];
    outcomes.push_back(s.reward > r.reward ? 1.0 : (s.reward == r.reward ? 0.5 : 0.0));
    reward += s.reward;
    rewardRef += r.reward;
    acc += s.predicted == s.label;
    accRef += r.predicted == r.label;
    appeal += s.appeal;
    appealRef += r.appeal;
    samplesJsonl +=
        nlohmann::json{{"prompt", m.prompts[i]}, {"seed", m.seeds[i]},        {"reward", s.reward},
                       {"reward_ref", r.reward}, {"class_prob", s.classProb}, {"class_prob_ref", r.classProb},
                       {"appeal", s.appeal},     {"appeal_ref", r.appeal}}
            .dump() +
        "\n";
  }
  const double n = double(std::max<std::size_t>(1, scores.size()));
  const auto win = winRateWithInterval(outcomes);
  folder.writeFile("eval/samples.jsonl", samplesJsonl);
  if (m.config.gridSeeds > 0) {
    const auto grid = besideEachOther(m.classGrid(m.refImages), m.classGrid(images), 12, 255);
    writeEvalGrid(folder, step, grid, fashionMnistClassNames());
  }
  return {{"eval/oracle_reward", reward / n},
          {"eval/oracle_reward_ref", rewardRef / n},
          {"eval/win_rate", win.rate},
          {"eval/win_rate_low", win.low},
          {"eval/win_rate_high", win.high},
          {"eval/tie_rate", win.ties},
          {"eval/class_accuracy", acc / n},
          {"eval/class_accuracy_ref", accRef / n},
          {"eval/appeal", appeal / n},
          {"eval/appeal_ref", appealRef / n},
          {"eval/prompts", double(scores.size())}};
}

double FashionTask::oracleTestAccuracy() const {
  return m_impl->oracle->testAccuracy();
}
const std::string &FashionTask::oracleDir() const {
  return m_impl->oracleDir;
}

const std::vector<std::string> &FashionTask::prompts() const {
  return m_impl->prompts;
}

const std::vector<std::uint64_t> &FashionTask::seeds() const {
  return m_impl->seeds;
}

} // namespace preflab::core
