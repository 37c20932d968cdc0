// Bradley–Terry reward-model objective on the scalar rewards of a reward head.
#pragma once

#include "core/objectives/objective.h"

namespace preflab::core {

// Reads rewardChosen, rewardRejected, (B,). Loss: mean softplus(−(r_w − r_l − m)) with margin
// m = rewardMargin, plus c·mean((r_w + r_l)²) when c = centerRewardsCoefficient > 0 (keeps the
// rewards centred on 0). Metrics: "rewards/chosen", "rewards/rejected" (means), "rewards/margins"
// (mean r_w − r_l), "rewards/accuracies" (r_w > r_l, ties wrong). Pure function, any thread.
// A negative c throws InputError (key "center_rewards_coefficient"); missing inputs c10::Error.
ObjectiveOutput rewardModelLoss(const ObjectiveInputs &in, const ObjectiveParams &params);

} // namespace preflab::core
