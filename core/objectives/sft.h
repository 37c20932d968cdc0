// Supervised fine-tuning objective: token-level negative log-likelihood of the chosen response.
#pragma once

#include "core/objectives/objective.h"

namespace preflab::core {

// Reads policyChosen (sums) and lenChosen, (B,). Loss: −Σ policyChosen / Σ lenChosen, the NLL
// per response token over the whole batch (long responses weigh more than in a mean of per-row
// means, as in the usual token-level cross-entropy). Metric: "logps/chosen" (mean sum).
// Pure function, any thread; missing inputs throw c10::Error.
ObjectiveOutput sftLoss(const ObjectiveInputs &in, const ObjectiveParams &params);

} // namespace preflab::core
