// Objective registry: per-batch losses and TRL-named metrics from sequence log-probs. Torch header.
#pragma once

#include "core/objectives/objective_info.h"

#include <torch/types.h>

#include <functional>
#include <map>
#include <string>

namespace preflab::core {

// Hyperparameters shared by the objectives; each reads the ones it needs. Names follow TRL.
struct ObjectiveParams {
  double beta = 0.1;             // DPO β, IPO τ, SimPO β, ORPO λ, KTO β (see ObjectiveInfo)
  double labelSmoothing = 0.0;   // cDPO / robust ε
  double gammaBetaRatio = 0.5;   // SimPO γ/β
  double rdpoAlpha = 0.01;       // R-DPO length penalty α
  double desirableWeight = 1.0;  // KTO λ_D
  double undesirableWeight = 1.0; // KTO λ_U
  double rewardMargin = 0.0;     // reward model: margin m
  double centerRewardsCoefficient = 0.0; // reward model: c·mean((r_w + r_l)^2)
};

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

// The loss function registered under `name`; throws InputError for an unknown name.
const ObjectiveFn &objectiveFunction(const std::string &name);

} // namespace preflab::core
