// Token ids of a text preference dataset, ready for batching; reference log-probs attached.
#pragma once

#include "core/data/text_preference_reader.h"
#include "core/text/tokenizer.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

class ChatTemplate;

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

// Tokenizes pairs as TRL's DPO trainer does: prompt and answers separately, without special
// tokens, the tokenizer's BOS before the prompt (withBos) and EOS after each answer. A
// conversational pair is rendered with the tokenizer's chat template when it has one
// (renderWithChatTemplate). With `asUnpaired` each pair splits into a desirable chosen and an
// undesirable rejected completion, as KTO trains on them. Unpaired input stays unpaired.
// Throws InputError naming the pair's line when its template cannot render it.
TokenizedData tokenizeData(const TextPreferenceData &data, const Tokenizer &tokenizer, bool asUnpaired);

// A conversational pair's prompt, chosen and rejected texts as TRL's DPO trainer renders them with
// a chat template: the prompt messages with the generation prompt when the last is the user's (cut
// after it, transformers' continue_final_message, when it is the assistant's), each answer as what
// prompt + answer renders after the part it shares with the prompt. `specialTokens` joins the
// template's context (bos_token, eos_token: chatTemplateTokens). A pair without messages is
// returned as it is. Throws InputError naming the pair's line.
TextPair renderWithChatTemplate(const TextPair &pair, const ChatTemplate &chatTemplate,
                                const nlohmann::json &specialTokens);

// The names of the tokenizer's BOS and EOS, as transformers hands them to a chat template
// ({"bos_token": ..., "eos_token": ...}; a token the tokenizer lacks is left out).
nlohmann::json chatTemplateTokens(const Tokenizer &tokenizer);

// The ids of prompts to sample from (sample, Compare). With `useChatTemplate` and a tokenizer that
// has a chat template, each prompt is one user message rendered with the generation prompt, as a
// conversational prompt is for training; otherwise the plain text. Either way encodePrompt's BOS
// rule applies. An empty prompt gives an empty list (the caller names it). Throws InputError (key
// "chat_template") when the template cannot render a prompt.
std::vector<TokenIds> encodeSamplingPrompts(const Tokenizer &tokenizer,
                                            const std::vector<std::string> &prompts, bool useChatTemplate);

} // namespace preflab::core
