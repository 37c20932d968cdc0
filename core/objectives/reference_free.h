// Reference-free pairwise objectives on token-mean log-probs: SimPO, SimPER, ORPO.
#pragma once

#include "core/objectives/objective.h"

namespace preflab::core {

// Each reads the policy's token means ā (policyChosenMean/policyRejectedMean, or the sums and
// lengths to derive them), all (B,), and returns a scalar fp32 loss (batch mean) with the
// pairwise metrics; rewards are β·ā (SimPER: ā). Pure functions: any thread may call them.
// Bad parameters throw InputError (key "beta"); missing inputs throw c10::Error.

// softplus(−β·((ā_w − ā_l) − γ/β)), γ/β = gammaBetaRatio.
ObjectiveOutput simpoLoss(const ObjectiveInputs &in, const ObjectiveParams &params);
// exp(ā_l) − exp(ā_w): inverse perplexities, no β and no margin.
ObjectiveOutput simperLoss(const ObjectiveInputs &in, const ObjectiveParams &params);
// −mean(ā_w) + λ·softplus(−(log odds_w − log odds_l)), log odds = ā − log(1 − e^ā), λ = beta.
// Adds "nll_loss", "log_odds_ratio" (mean log σ of the log-odds difference, as TRL logs it)
// and "log_odds_chosen" (mean log-odds difference).
ObjectiveOutput orpoLoss(const ObjectiveInputs &in, const ObjectiveParams &params);

} // namespace preflab::core
