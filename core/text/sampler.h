// Autoregressive sampling from a causal language model: temperature, top-k, top-p, one seed per prompt.
#pragma once

#include "core/text/causal_lm.h"
#include "core/text/sampling_options.h"
#include "core/text/sequence_batch.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace preflab::core {

// Samples one continuation per prompt (without the prompt, without the EOS token). Row i draws
// its random numbers from its own generator seeded with seeds[i], so a (prompt, seed) pair gives
// the same text whatever else is in the batch. Generation also stops at the model's block_size
// (prompts are decoded with a KV cache, never cropped). Switches the model to eval() and no-grad for the
// call and restores the training flag. `progress`, when set, gets the share of prompts done after
// each group of prompts of one length. The draws happen on the CPU, so CPU and CUDA agree up to
// floating-point differences in the logits.
std::vector<TokenIds> generate(const CausalLm &model, const std::vector<TokenIds> &prompts,
                               const std::vector<std::uint64_t> &seeds, const SamplingOptions &options,
                               std::int64_t eosId, const std::function<void(double)> &progress = {});

} // namespace preflab::core
