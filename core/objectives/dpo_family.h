// DPO-family objectives on sequence-sum log-ratios (DPO, IPO, cDPO, robust DPO, hinge, R-DPO).
#pragma once

#include "core/objectives/objective.h"

#include <torch/types.h>

#include <string>

namespace preflab::core {

// Each loss below reads policyChosen/policyRejected, refChosen/refRejected, the token means
// policyChosenMean/policyRejectedMean (or lenChosen/lenRejected to derive them; the means feed
// ranking/accuracy_len_norm) and, where stated, the lengths, all (B,). It returns a scalar fp32
// loss (batch mean) with the pairwise metrics. Pure functions: any thread may call them. The
// registry's function checks the declared parameter ranges first (InputError naming the key); a
// missing or misshapen input throws c10::Error (a caller's bug).

// softplus(−β·h), h = (log π_θ(y_w) − log π_ref(y_w)) − (log π_θ(y_l) − log π_ref(y_l)) on
// sums. Like TRL's "sigmoid" loss it honours labelSmoothing ε (0 by default), so "dpo" with
// ε > 0 is cDPO.
ObjectiveOutput dpoLoss(const ObjectiveInputs &in, const ObjectiveParams &params);
// Conservative DPO: (1 − ε)·softplus(−β·h) + ε·softplus(β·h), ε = labelSmoothing ∈ [0, 0.5].
ObjectiveOutput cdpoLoss(const ObjectiveInputs &in, const ObjectiveParams &params);
// (h − 1/(2τ))² with h built from per-token log-ratios (TRL convention); needs the lengths.
ObjectiveOutput ipoLoss(const ObjectiveInputs &in, const ObjectiveParams &params);
// Unbiased DPO under label noise ε ∈ [0, 0.5) (TRL "robust").
ObjectiveOutput robustDpoLoss(const ObjectiveInputs &in, const ObjectiveParams &params);
// relu(1 − β·h) (RSO / TRL "hinge"; β plays 1/margin).
ObjectiveOutput hingeLoss(const ObjectiveInputs &in, const ObjectiveParams &params);
// softplus(−(β·h + α·(len_w − len_l))) (R-DPO length regularisation); needs the lengths.
ObjectiveOutput rdpoLoss(const ObjectiveInputs &in, const ObjectiveParams &params);

// ---- Helpers shared by the objective sources (pairwise views, input and parameter checks). ----

// `t` cast to fp32; fails with a message naming `field` and `objective` when `t` is undefined or
// not one-dimensional.
torch::Tensor requireInput(const torch::Tensor &t, const char *field, const std::string &objective);

// Policy log-probs of a pairwise batch, fp32, all (B,). A missing sum or token mean is derived
// from the other one and the token count.
struct PairwiseLogps {
  torch::Tensor chosen, rejected;         // sequence sums
  torch::Tensor chosenMean, rejectedMean; // token means
};
PairwiseLogps pairwisePolicyLogps(const ObjectiveInputs &in, const std::string &objective);

// Sets out.loss = mean(losses) and adds the pair metrics: rewards/{chosen,rejected,margins,
// accuracies} from the given rewards (strict >), logps/{chosen,rejected} (sums; token means with
// `logpsAsMeans`, as the reference-free objectives' own code bases log them), ranking/accuracy
// (sums, ≥) and ranking/accuracy_len_norm (means, ≥). losses, rewards: (B,).
void finishPairwise(ObjectiveOutput &out, const torch::Tensor &losses,
                    const torch::Tensor &chosenRewards, const torch::Tensor &rejectedRewards,
                    const PairwiseLogps &policy, bool logpsAsMeans = false);

} // namespace preflab::core
