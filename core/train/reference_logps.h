// Reference log-probs: computed once per (reference model, dataset, lengths), cached on disk.
#pragma once

#include "core/text/causal_lm.h"
#include "core/train/pair_scoring.h"
#include "core/train/tokenized_data.h"

#include <cstdint>
#include <string>

namespace preflab::core {

using ReferenceOptions = ScoringOptions;

// Fills refChosen/refRejected (pairs) or ref/refKl (unpaired) of every row from `reference`
// (no grad, eval mode). Rows that already carry values (from the dataset file) are overwritten.
void computeReferenceLogps(const CausalLm &reference, TokenizedData &data, const ReferenceOptions &options);

// A key for the cache: hashes the reference weights, every token id and the options.
std::string referenceCacheKey(const CausalLm &reference, const TokenizedData &data,
                              const ReferenceOptions &options);

// Loads cacheDir/reflogps-<key>.json into `data` when present; returns whether it did.
bool loadReferenceCache(const std::string &cacheDir, const std::string &key, TokenizedData &data);
void saveReferenceCache(const std::string &cacheDir, const std::string &key, const TokenizedData &data);

} // namespace preflab::core
