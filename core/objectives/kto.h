// KTO: prospect-theoretic loss on unpaired desirable / undesirable completions.
#pragma once

#include "core/objectives/objective.h"

namespace preflab::core {

// Reads policyCompletion, refCompletion (sums), desirable (bool), all (B,), and optionally
// klPolicy, klRef (K,): sums for mismatched (prompt, completion) pairs. With r = policy − ref
// and z = max(0, mean(klPolicy − klRef)) detached (0 when klPolicy is undefined), a desirable row
// costs λ_D·(1 − σ(β(r − z))) and an undesirable one λ_U·(1 − σ(β(z − r))); the loss is the mean
// over all rows. z is this batch's estimate only: a data-parallel caller that wants TRL's
// all-rank estimate must reduce klPolicy − klRef itself before the call.
// Metrics: "kl" (z), "rewards/chosen" / "rewards/rejected" (mean β·r over desirable /
// undesirable rows; 0 when a group is empty, to avoid a host sync), "rewards/margins",
// "logps/chosen" / "logps/rejected" (mean policy sums per group).
// Pure function, any thread. Bad parameters throw InputError; missing inputs throw c10::Error.
ObjectiveOutput ktoLoss(const ObjectiveInputs &in, const ObjectiveParams &params);

} // namespace preflab::core
