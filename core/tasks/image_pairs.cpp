// Pair generation: sample or draw two images per prompt, score them with the oracle, let
// simulated raters vote, write PNGs and the manifest.
#include "core/tasks/image_pairs.h"

#include "core/data/fashion_mnist.h"
#include "core/data/image_output.h"
#include "core/diffusion/diffusion_tools.h"
#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/runtime/compute_threads.h"
#include "core/tasks/fashion_oracle.h"
#include "core/tasks/raters.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

namespace preflab::core {

namespace {

ImageBuffer fashionImage(const FashionMnistSplit &split, std::int64_t index) {
  ImageBuffer image;
  image.width = image.height = kFashionMnistSide;
  image.channels = 1;
  image.pixels.assign(split.image(index), split.image(index) + kFashionMnistSide * kFashionMnistSide);
  return image;
}

const char *sourceName(PairSource source) {
  return source == PairSource::Model ? "model" : "fashion-mnist";
}

} // namespace

std::vector<LabelledImagePair> makeLabelledPairs(const PairGenerationOptions &options,
                                                 const TrainerCallbacks &callbacks,
                                                 const std::atomic<bool> *cancel) {
  if (options.pairsPerClass < 1)
    throw InputError({}, 0, "pairs_per_class", "must be >= 1");
  if (options.raters < 1)
    throw InputError({}, 0, "raters", "must be >= 1");
  if (!(options.raterTemperature > 0))
    throw InputError({}, 0, "rater_temperature", "must be > 0");
  if (options.source == PairSource::Model && options.modelDir.empty())
    throw InputError({}, 0, "model", "a diffusion model folder is needed to sample pairs");
  setComputeThreads(int(options.threads));
  FashionOracle oracle(options.oracleDir, OracleRewardSettings{options.appealWeight});
  auto progress = [&](double f) {
    if (callbacks.onProgress)
      callbacks.onProgress("generating pairs", f);
    if (cancel && cancel->load())
      throw std::runtime_error("pair generation cancelled");
  };

  const std::int64_t total = options.pairsPerClass * kFashionMnistClasses;
  std::vector<LabelledImagePair> pairs(static_cast<std::size_t>(total));
  for (std::int64_t k = 0; k < total; ++k) {
    auto &p = pairs[std::size_t(k)];
    p.label = int(k % kFashionMnistClasses);
    p.caption = fashionMnistPrompt(p.label, int((k / kFashionMnistClasses) % kFashionPairTemplates));
    p.seed0 = options.seed + std::uint64_t(2 * k);
    p.seed1 = p.seed0 + 1;
  }

  if (options.source == PairSource::Model) {
    DiffusionGenerator generator(options.modelDir, options.device);
    if (generator.config().imageSize != kFashionMnistSide || generator.config().channels != 1)
      throw InputError(options.modelDir, 0, "image_size", "the oracle scores 28x28 greyscale images");
    constexpr std::int64_t kChunk = 32; // pairs per sampling call
    for (std::int64_t begin = 0; begin < total; begin += kChunk) {
      progress(double(begin) / double(total));
      const auto end = std::min(total, begin + kChunk);
      std::vector<std::string> prompts;
      std::vector<std::uint64_t> seeds;
      for (std::int64_t k = begin; k < end; ++k)
        for (int side = 0; side < 2; ++side) {
          prompts.push_back(pairs[std::size_t(k)].caption);
          seeds.push_back(side == 0 ? pairs[std::size_t(k)].seed0 : pairs[std::size_t(k)].seed1);
        }
      const auto images = generator.generate(prompts, seeds, options.sampling);
      for (std::int64_t k = begin; k < end; ++k) {
        pairs[std::size_t(k)].image0 = toImageBuffer(images[std::size_t(2 * (k - begin))]);
        pairs[std::size_t(k)].image1 = toImageBuffer(images[std::size_t(2 * (k - begin) + 1)]);
      }
    }
  } else {
    const auto train = loadFashionMnist("train", options.dataDir);
    std::vector<std::vector<std::int64_t>> byClass(kFashionMnistClasses);
    for (std::int64_t i = 0; i < train.count; ++i)
      byClass[train.labels[std::size_t(i)]].push_back(i);
    std::mt19937_64 rng(options.seed);
    for (auto &p : pairs) {
      const auto &own = byClass[std::size_t(p.label)];
      p.seed0 = std::uint64_t(own[std::size_t(rng() % own.size())]);
      p.seed1 = rng() % std::uint64_t(train.count);
      p.image0 = fashionImage(train, std::int64_t(p.seed0));
      p.image1 = fashionImage(train, std::int64_t(p.seed1));
    }
  }

  // Score both sides, then let the raters vote; one rater stream for the whole set.
  std::vector<ImageBuffer> images;
  std::vector<int> labels;
  for (const auto &p : pairs) {
    images.push_back(p.image0);
    images.push_back(p.image1);
    labels.push_back(p.label);
    labels.push_back(p.label);
  }
  const auto scores = oracle.score(images, labels);
  std::mt19937_64 raterRng(options.seed ^ 0x5eed5eedULL);
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    auto &p = pairs[k];
    p.reward0 = scores[2 * k].reward;
    p.reward1 = scores[2 * k + 1].reward;
    p.raters = options.raters;
    p.votesFor0 =
        simulateRaterVotes(p.reward0, p.reward1, options.raters, options.raterTemperature, raterRng);
  }
  progress(1.0);
  return pairs;
}

PairGenerationResult generatePairs(const PairGenerationOptions &options, const TrainerCallbacks &callbacks,
                                   const std::atomic<bool> *cancel) {
  if (options.outputDir.empty())
    throw InputError({}, 0, "out", "an output folder is needed");
  const auto started = std::chrono::steady_clock::now();
  const auto pairs = makeLabelledPairs(options, callbacks, cancel);
  std::filesystem::create_directories(options.outputDir + "/images");
  PairGenerationResult result;
  result.manifestPath = options.outputDir + "/manifest.jsonl";
  std::string manifest;
  std::int64_t agree = 0, decided = 0;
  double gap = 0.0;
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    const auto &p = pairs[k];
    char name[32];
    std::snprintf(name, sizeof name, "images/%06zu", k);
    const std::string path0 = std::string(name) + "_0.png", path1 = std::string(name) + "_1.png";
    writePngFile(options.outputDir + "/" + path0, p.image0);
    writePngFile(options.outputDir + "/" + path1, p.image1);
    const double label0 = p.label0();
    nlohmann::json line = {
        {"id", std::to_string(k)}, {"caption", p.caption},
        {"jpg_0", path0},          {"jpg_1", path1},
        {"label_0", label0},       {"rater_fraction", double(p.votesFor0) / double(p.raters)},
        {"rater_count", p.raters}, {"reward_0", p.reward0},
        {"reward_1", p.reward1},   {"seed_0", p.seed0},
        {"seed_1", p.seed1}};
    manifest += line.dump() + "\n";
    result.ties += label0 == 0.5;
    result.firstPreferred += label0 == 1.0;
    if (label0 != 0.5 && p.reward0 != p.reward1) {
      ++decided;
      agree += (label0 == 1.0) == (p.reward0 > p.reward1);
    }
    gap += std::abs(p.reward0 - p.reward1);
  }
  writeFileAtomic(result.manifestPath, manifest);
  result.pairs = std::int64_t(pairs.size());
  result.oracleAgreement = decided ? double(agree) / double(decided) : 0.0;
  result.meanRewardGap = pairs.empty() ? 0.0 : gap / double(pairs.size());
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const nlohmann::json info = {
      {"source", sourceName(options.source)},
      {"model", options.modelDir},
      {"oracle", options.oracleDir},
      {"pairs_per_class", options.pairsPerClass},
      {"seed", options.seed},
      {"sampler", options.sampling.sampler == DiffusionSamplerKind::Ddim ? "ddim" : "ddpm"},
      {"sampling_steps", options.sampling.steps},
      {"guidance_scale", options.sampling.guidanceScale},
      {"raters", options.raters},
      {"rater_temperature", options.raterTemperature},
      {"appeal_weight", options.appealWeight},
      {"pairs", result.pairs},
      {"ties", result.ties},
      {"first_preferred", result.firstPreferred},
      {"oracle_agreement", result.oracleAgreement},
      {"mean_reward_gap", result.meanRewardGap},
      {"seconds", result.seconds}};
  writeFileAtomic(options.outputDir + "/generation.json", info.dump(2) + "\n");
  return result;
}

} // namespace preflab::core
