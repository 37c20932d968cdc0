// What every text TrainStep (offline pairs, D2PO rounds, WRO steps) takes from its config: the
// policy's AdamW and the loop's settings (logging, evaluation, checkpoints, clipping, the
// learning-rate schedule with its warmup).
#pragma once

#include "core/text/causal_lm.h"
#include "core/train/text_train_config.h"
#include "core/train/train_loop.h"

#include <torch/optim/adamw.h>

#include <memory>
#include <vector>

namespace preflab::core {

// The parameters of `model` that train (requires_grad): all of them, or a LoRA run's adapters.
std::vector<torch::Tensor> trainableParameters(const CausalLm &model);

// AdamW over `parameters` at learning_rate with adam_beta1/2, adam_epsilon and weight_decay.
std::unique_ptr<torch::optim::AdamW> textAdamW(std::vector<torch::Tensor> parameters,
                                               const TextTrainConfig &config);

// The loop settings of a run of `totalSteps` optimizer steps; the caller adds its activity and,
// for epochs over data, stepsPerEpoch.
LoopSettings textLoopSettings(const TextTrainConfig &config, std::int64_t totalSteps);

} // namespace preflab::core
