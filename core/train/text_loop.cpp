// textAdamW and textLoopSettings: the optimizer and loop a text config describes.
#include "core/train/text_loop.h"

#include "core/train/lr_schedule.h"

#include <torch/torch.h>

#include <cmath>

namespace preflab::core {

std::vector<torch::Tensor> trainableParameters(const CausalLm &model) {
  std::vector<torch::Tensor> out;
  for (auto &p : model->parameters())
    if (p.requires_grad())
      out.push_back(p);
  return out;
}

std::unique_ptr<torch::optim::AdamW> textAdamW(std::vector<torch::Tensor> parameters,
                                               const TextTrainConfig &config) {
  return std::make_unique<torch::optim::AdamW>(std::move(parameters),
                                               torch::optim::AdamWOptions(config.learningRate)
                                                   .betas({config.adamBeta1, config.adamBeta2})
                                                   .eps(config.adamEpsilon)
                                                   .weight_decay(config.weightDecay));
}

LoopSettings textLoopSettings(const TextTrainConfig &config, std::int64_t totalSteps) {
  LoopSettings loop;
  loop.totalSteps = totalSteps;
  loop.loggingSteps = config.loggingSteps;
  loop.evalSteps = config.evalSteps;
  loop.saveSteps = config.saveSteps;
  loop.saveTotalLimit = config.saveTotalLimit;
  loop.maxGradNorm = config.maxGradNorm;
  LrSchedule schedule{config.lrSchedulerType, config.learningRate, 0, totalSteps};
  schedule.warmupSteps = config.warmupSteps > 0
                             ? config.warmupSteps
                             : std::int64_t(std::ceil(config.warmupRatio * double(totalSteps)));
  loop.learningRate = [schedule](std::int64_t step) { return schedule.at(step); };
  loop.failureHint = "lower 'learning_rate' or set 'max_grad_norm'";
  return loop;
}

} // namespace preflab::core
