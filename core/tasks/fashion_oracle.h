// The embedded text-to-image task's stand-in for human raters: a Fashion-MNIST classifier for
// prompt alignment, a visual-appeal term, and Bradley–Terry draws of simulated raters.
#pragma once

#include "core/data/image_buffer.h"
#include "core/train/trainer_callbacks.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace preflab::core {

// Label of a class prompt in any phrasing (fashionMnistPrompt(label, template), exact match), or -1.
int fashionMnistLabelForPrompt(const std::string &prompt);

// Visual appeal of an 8-bit image in [0, 1]: crispness = 1 − mean over pixels of 4·p·(1 − p),
// p = pixel / 255 (channels averaged). 1 for an image of pure black and white, 0 for flat mid-grey:
// it rewards a clean background and solid ink and penalises grey haze. It looks at pixels one by
// one, so black-and-white speckle scores as well as solid ink: a tuned model can exploit that
// (experiments/fashion-dspo shows it), which is what a learned-reward stand-in is for.
double imageAppeal(const ImageBuffer &image);

// How the oracle combines its terms: reward = P(prompt's class | image) + appealWeight · appeal.
struct OracleRewardSettings {
  double appealWeight = 0.5;
};

struct OracleScore {
  int label = -1;         // the prompt's class
  int predicted = -1;     // the classifier's argmax
  double classProb = 0.0; // P(label | image) under the classifier: prompt alignment
  double appeal = 0.0;    // imageAppeal
  double reward = 0.0;    // classProb + appealWeight · appeal
};

// Options of `preflab-cli train-oracle`.
struct OracleTrainOptions {
  std::string dataDir;   // Fashion-MNIST folder ("" = fashionMnistDirectory())
  std::string outputDir; // the oracle folder to write
  std::int64_t epochs = 2;
  std::int64_t batchSize = 128;
  double learningRate = 2e-3;
  std::uint64_t seed = 0;
  std::int64_t threads = 0; // 0: all cores
};

struct OracleTrainResult {
  std::string dir;
  double testAccuracy = 0.0; // on the 10,000 test images
  std::int64_t testCount = 0;
  std::int64_t steps = 0;
  double seconds = 0.0;
};

// Trains the classifier (two conv + pool stages, two linear layers, ~420 k parameters) on the
// 60,000 training images with AdamW, measures it on the test split and writes dir/oracle.pt and
// dir/oracle.json ({"test_accuracy", "test_count", "appeal_weight", ...}). Throws InputError for
// missing data; `cancel` (optional) stops between steps with an InputError-free runtime_error.
OracleTrainResult trainFashionOracle(const OracleTrainOptions &options, const TrainerCallbacks &callbacks,
                                     const std::atomic<bool> *cancel = nullptr);

// A loaded oracle. Torch-free interface; score() may take a while for thousands of images.
// Not thread-safe: one instance per thread.
class FashionOracle {
public:
  // Reads dir/oracle.pt and dir/oracle.json; throws InputError naming the file.
  explicit FashionOracle(const std::string &dir, OracleRewardSettings settings = {});
  ~FashionOracle();
  FashionOracle(FashionOracle &&) noexcept;
  FashionOracle &operator=(FashionOracle &&) noexcept;

  double testAccuracy() const; // as recorded when it was trained
  const OracleRewardSettings &settings() const;
  const std::string &dir() const;

  // Scores 28×28 single-channel images against class labels (0..9); images.size() must equal
  // labels.size(). Throws InputError for other sizes or labels.
  std::vector<OracleScore> score(const std::vector<ImageBuffer> &images,
                                 const std::vector<int> &labels) const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace preflab::core
