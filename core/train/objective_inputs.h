// The inputs a text objective computes its loss from, for rows of tokenized pairs. Torch header.
#pragma once

#include "core/objectives/objective.h"
#include "core/text/causal_lm.h"
#include "core/train/tokenized_data.h"

#include <cstdint>
#include <vector>

namespace preflab::core {

// One forward of `policy` over prompt ⊕ chosen and prompt ⊕ rejected of `rows` (only chosen for
// SFT; reward scores instead of log-probs for a reward objective), with grad as the caller set it.
// Reference sums come from the rows' cached values when every row has them, else from a no-grad
// forward of `reference` when the objective needs one and it is given. Sequences are truncated to
// maxLength / maxPromptLength (truncateToFit). Tensors (B,) float32 on `device`.
ObjectiveInputs pairObjectiveInputs(const CausalLm &policy, const CausalLm *reference,
                                    const ObjectiveInfo &info, const TokenizedData &data,
                                    const std::vector<std::size_t> &rows, std::int64_t maxLength,
                                    std::int64_t maxPromptLength, torch::Device device);

} // namespace preflab::core
