// Token ids of a text preference dataset, ready for batching; reference log-probs attached.
#pragma once

#include "core/data/text_preference_reader.h"
#include "core/text/tokenizer.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

using TokenIds = std::vector<std::int64_t>;

struct TokenizedPair {
  std::string id;
  TokenIds prompt, chosen, rejected; // responses end with the EOS id
  std::optional<double> raterFraction;
  std::optional<double> refChosen, refRejected; // reference Σ log-probs
};

struct TokenizedUnpaired {
  std::string id;
  TokenIds prompt, completion;
  TokenIds klCompletion; // the next example's completion: a mismatched pair for KTO's z
  bool desirable = true;
  std::optional<double> ref, refKl;
};

struct TokenizedData {
  std::vector<TokenizedPair> pairs;
  std::vector<TokenizedUnpaired> unpaired;
  std::size_t size() const { return pairs.empty() ? unpaired.size() : pairs.size(); }
  bool hasReference() const; // every row carries reference log-probs
};

// Tokenizes pairs (and, with `asUnpaired`, splits each pair into a desirable chosen and an
// undesirable rejected completion, as KTO trains on them). Unpaired input stays unpaired.
TokenizedData tokenizeData(const TextPreferenceData &data, const Tokenizer &tokenizer, bool asUnpaired);

} // namespace preflab::core
