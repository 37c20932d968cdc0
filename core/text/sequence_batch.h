// Batches of prompt ⊕ response token ids with the response mask built by construction, and their log-probs.
#pragma once

#include "core/text/causal_lm.h"

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace preflab::core {

using TokenIds = std::vector<std::int64_t>;

// Right-padded batch. Row i is prompt_i ⊕ response_i, truncated to fit maxLength.
struct SequenceBatch {
  torch::Tensor ids;        // (N, T) int64
  torch::Tensor labelMask;  // (N, T-1) float32: 1 where label ids[:, t+1] is a response token
  torch::Tensor lastIndex;  // (N,) int64: position of the last real token
  torch::Tensor lengths;    // (N,) float32: response tokens kept
  std::vector<std::int64_t> promptLengths; // prompt tokens kept per row
};

// Truncates to fit `maxLength`: the prompt keeps its last `maxPromptLength` tokens (or fewer, so
// that at least one response token fits, but never none), then the response is cut at the end.
void truncateToFit(TokenIds &prompt, TokenIds &response, std::int64_t maxLength,
                   std::int64_t maxPromptLength);

// Builds the batch; rows with an empty prompt or response throw std::invalid_argument (an empty
// prompt text is encoded as EOS by encodePrompt, so no user file reaches that).
SequenceBatch buildSequenceBatch(const std::vector<TokenIds> &prompts,
                                 const std::vector<TokenIds> &responses, std::int64_t maxLength,
                                 std::int64_t maxPromptLength, std::int64_t padId,
                                 torch::Device device);

struct SequenceLogps {
  torch::Tensor sum;  // (N,) Σ_t log π(y_t | x, y_<t) over response tokens
  torch::Tensor mean; // (N,) sum / response length
};

// One forward over prompt ⊕ response. Runs with whatever grad mode the caller set. With a
// `temperature` other than 1 the log-probs are those of the tempered distribution softmax(z/T)
// that sampling at T draws from.
SequenceLogps sequenceLogps(const CausalLm &model, const SequenceBatch &batch, double temperature = 1.0);

// Per-token log-probs of the labels, (N, T-1), zero outside the response.
torch::Tensor tokenLogps(const CausalLm &model, const SequenceBatch &batch, double temperature = 1.0);

} // namespace preflab::core
