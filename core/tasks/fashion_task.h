// FashionTask: the embedded text-to-image task's evaluation (beside SentimentTask, same shape):
// Fashion-MNIST class prompts in the phrasings that pair generation never uses, fixed seeds, the
// oracle's reward, class accuracy and appeal for the policy and the reference, win rate, class grids.
#pragma once

#include "core/diffusion/noise_schedule.h"
#include "core/diffusion/unet.h"
#include "core/train/image_train_config.h"
#include "core/train/run_folder.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace preflab::core {

// "" when an image run has no oracle, else the oracle folder: oracle_model ("fashion" = the
// embedded Fashion-MNIST oracle), or the embedded oracle when train_file is fashion-mnist.
std::string resolveImageOracle(const ImageTrainConfig &config);

class FashionTask {
public:
  FashionTask(const ImageTrainConfig &config, const std::string &oracleDir);
  ~FashionTask();
  FashionTask(FashionTask &&) noexcept;

  // Samples the held-out prompts from the reference and scores them, once.
  void prepare(UNet &reference, const NoiseSchedule &schedule,
               const std::function<void(double)> &progress = {});
  // Samples the same prompts and seeds from the policy and scores them: eval/oracle_reward(_ref),
  // eval/win_rate (+ _low, _high: 95% interval), eval/class_accuracy(_ref), eval/appeal(_ref),
  // eval/prompts. Writes eval/samples.jsonl and samples/grid-step-<step>.png (reference | tuned,
  // a row per class) and samples/grid.png when grid_seeds > 0.
  // `progress` gets the share of the evaluation samples drawn so far.
  std::map<std::string, double> evaluate(UNet &policy, const NoiseSchedule &schedule, RunFolder &folder,
                                         std::int64_t step, const std::function<void(double)> &progress = {});
  double oracleTestAccuracy() const;
  const std::string &oracleDir() const;
  // The evaluation's class prompts and seeds, in order (eval_split chooses which).
  const std::vector<std::string> &prompts() const;
  const std::vector<std::uint64_t> &seeds() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace preflab::core
