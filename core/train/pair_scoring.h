// Scores responses under a model in batches (no grad): sums and lengths of response log-probs.
#pragma once

#include "core/metrics/ranking_analysis.h"
#include "core/text/causal_lm.h"
#include "core/train/tokenized_data.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace preflab::core {

// Memory the logits of one scoring forward may take; batchSize is lowered to stay under it.
inline constexpr std::int64_t kScoringBytes = std::int64_t(1) << 30;

struct ScoringOptions {
  std::int64_t maxLength = 96;
  std::int64_t maxPromptLength = 32;
  std::int64_t batchSize = 64;                   // at most; fewer when the logits would pass kScoringBytes
  std::function<void(double fraction)> progress; // after each batch, when set (long stages)
  double temperature = 1.0; // score the tempered distribution a sampler at this temperature draws from
};

struct ResponseScores {
  std::vector<double> sums;    // Σ log-probs over the kept response tokens
  std::vector<double> lengths; // kept response tokens
};

// Row i scores responses[i] after prompts[i]. Eval mode and no grad for the call.
ResponseScores scoreResponses(const CausalLm &model, const std::vector<const TokenIds *> &prompts,
                              const std::vector<const TokenIds *> &responses, const ScoringOptions &options);

// A reward model's score of prompts[i] ⊕ responses[i] at its last kept token (model->score), in
// batches of at most options.batchSize rows; truncated as scoreResponses truncates. Eval mode and
// no grad for the call (the training flag is restored). Needs model->hasScoreHead().
std::vector<double> rewardScores(const CausalLm &model, const std::vector<const TokenIds *> &prompts,
                                 const std::vector<const TokenIds *> &responses,
                                 const ScoringOptions &options);

// Policy scores of every pair (and, when `reference` is given, the reference's); rater
// fractions carried over.
std::vector<PairScore> scorePairs(const CausalLm &policy, const CausalLm *reference,
                                  const TokenizedData &data, const ScoringOptions &options);

// Each pair's id and texts, for pairAnalysisLines (eval/pairs.jsonl with texts).
std::vector<PairTexts> pairTexts(const TextPreferenceData &data);

} // namespace preflab::core
