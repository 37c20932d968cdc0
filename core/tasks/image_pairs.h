// Labelled image preference pairs for the embedded text-to-image task (preflab-cli generate-pairs).
#pragma once

#include "core/data/image_buffer.h"
#include "core/diffusion/diffusion_sampling_options.h"
#include "core/train/trainer_callbacks.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace preflab::core {

// Where the two images of each pair come from.
enum class PairSource {
  Model,       // two samples of one class prompt from a diffusion model, different seeds
  FashionMnist // two real images from the Fashion-MNIST training split: one of the prompt's
               // class, one of a random class (so about one pair in ten shares the class)
};

// Pair k has class k % 10 and phrasing (k / 10) % kFashionPairTemplates (see fashion_mnist.h).
struct PairGenerationOptions {
  PairSource source = PairSource::Model;
  std::string modelDir;            // diffusion model folder (source Model)
  std::string oracleDir;           // oracle folder (train-oracle)
  std::string dataDir;             // Fashion-MNIST folder (source FashionMnist; "" = default)
  std::string outputDir;           // writes manifest.jsonl and images/*.png here
  std::int64_t pairsPerClass = 50; // pairs per class prompt; 10 classes
  std::uint64_t seed = 0;          // pair k uses sampling seeds seed + 2k and seed + 2k + 1
  DiffusionSamplingOptions sampling;
  std::string device = "cpu";
  std::int64_t threads = 0;      // CPU threads (0: all cores)
  int raters = 5;                // simulated raters per pair
  double raterTemperature = 0.1; // of their Bradley–Terry choice on the oracle reward
  double appealWeight = 0.5;     // oracle reward = P(class | image) + appealWeight · appeal
};

struct PairGenerationResult {
  std::string manifestPath;
  std::int64_t pairs = 0;
  std::int64_t ties = 0;           // label_0 0.5 (only with an even number of raters)
  std::int64_t firstPreferred = 0; // label_0 1
  double oracleAgreement = 0.0;    // share of non-tied pairs whose majority picked the higher reward
  double meanRewardGap = 0.0;      // mean |reward_0 − reward_1|
  double seconds = 0.0;
};

// One in-memory labelled pair (after the raters' vote; image0 is not necessarily preferred).
struct LabelledImagePair {
  std::string caption;
  int label = 0; // the prompt's class
  ImageBuffer image0, image1;
  std::uint64_t seed0 = 0, seed1 = 0; // sampling seeds, or training-set indices for FashionMnist
  double reward0 = 0.0, reward1 = 0.0;
  int votesFor0 = 0, raters = 0;
  double label0() const { return 2 * votesFor0 == raters ? 0.5 : (2 * votesFor0 > raters ? 1.0 : 0.0); }
};

// Makes and labels the pairs in memory (no files). Throws InputError for bad options, a missing
// model, oracle or dataset. `cancel` (optional) stops with std::runtime_error.
std::vector<LabelledImagePair> makeLabelledPairs(const PairGenerationOptions &options,
                                                 const TrainerCallbacks &callbacks,
                                                 const std::atomic<bool> *cancel = nullptr);

// makeLabelledPairs, then writes images/<k>_0.png, images/<k>_1.png and a Pick-a-Pic-style
// manifest.jsonl with caption, jpg_0, jpg_1, label_0, rater_fraction, rater_count, id and the
// oracle's reward_0 / reward_1 and seeds; plus generation.json with the options and the result.
PairGenerationResult generatePairs(const PairGenerationOptions &options, const TrainerCallbacks &callbacks,
                                   const std::atomic<bool> *cancel = nullptr);

} // namespace preflab::core
