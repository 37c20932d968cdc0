// Text objectives: per-batch losses and TRL-named metrics from sequence log-probs. Torch header.
#pragma once

#include "core/objectives/objective_info.h"

#include <torch/types.h>

#include <functional>
#include <map>
#include <string>

namespace preflab::core {

// Inputs for one batch. Shapes are (B,) float32 on one device unless stated. Fields an objective
// does not need may be undefined tensors.
struct ObjectiveInputs {
  // Pairwise / SFT: policy log-probs of the responses, summed and token-averaged.
  torch::Tensor policyChosen, policyRejected;         // Σ_t log π_θ(y_t | x, y_<t)
  torch::Tensor policyChosenMean, policyRejectedMean; // the same divided by the token count
  torch::Tensor refChosen, refRejected;               // reference sums (no grad)
  torch::Tensor lenChosen, lenRejected;               // response token counts (float)
  // Unpaired (KTO): one completion per row.
  torch::Tensor policyCompletion, refCompletion; // sums
  torch::Tensor desirable;                       // (B,) bool
  torch::Tensor klPolicy, klRef; // sums for mismatched (prompt, completion) pairs, for z
  // Reward model: scalar rewards from the reward head.
  torch::Tensor rewardChosen, rewardRejected;
};

// Output: a scalar loss with grad, and detached scalar metrics named as TRL names them
// ("rewards/chosen", "rewards/margins", "rewards/accuracies", "logps/chosen", ...).
struct ObjectiveOutput {
  torch::Tensor loss;
  std::map<std::string, torch::Tensor> metrics;
};

using ObjectiveFn = std::function<ObjectiveOutput(const ObjectiveInputs &, const ObjectiveParams &)>;

// The text loss function registered under `name`; it checks the declared parameters (InputError
// naming the key) before computing. Throws InputError for an unknown or image objective.
const ObjectiveFn &objectiveFunction(const std::string &name);

} // namespace preflab::core
