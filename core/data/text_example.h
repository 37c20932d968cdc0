// Plain value types for text preference data: pairs (chosen vs rejected) and unpaired (KTO) examples.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

// One chat message of a conversational example.
struct ChatMessage {
  std::string role;
  std::string content;
};

// The messages of a conversational example: the prompt's and each side's answer (without the
// prompt repeated), for a model's own chat template (tokenizeData).
struct PairMessages {
  std::vector<ChatMessage> prompt, chosen, rejected;
};

// A paired preference example. Text fields hold the rendered strings the model scores:
// conversational inputs are rendered by renderConversation() (see text_formats.h) so that
// prompt ⊕ chosen is exactly the transcript.
struct TextPair {
  std::string id;        // from the file's "id"/"prompt_id" when present, else "<line>"
  std::int64_t line = 0; // 1-based line in the source file
  std::string prompt;
  std::string chosen;
  std::string rejected;
  // Fraction of raters preferring `chosen` (0..1) and how many raters there were, when known.
  std::optional<double> raterFraction;
  std::optional<int> raterCount;
  // Scores from the source (UltraFeedback), when present.
  std::optional<double> scoreChosen;
  std::optional<double> scoreRejected;
  // Cached reference log-probs (sequence sums over response tokens), when present.
  std::optional<double> refChosenLogp;
  std::optional<double> refRejectedLogp;
  // HH-RLHF: chosen and rejected differed before the chosen's last "\n\nAssistant:", so the
  // prompt is their common prefix cut at a turn boundary.
  bool promptFromCommonPrefix = false;
  // Conversational sources only: prompt/chosen/rejected above hold PrefLab's plain transcript
  // ("\n\nHuman: ... \n\nAssistant:"); a tokenizer with a chat template renders these instead.
  std::optional<PairMessages> messages;
};

// An unpaired (KTO) example: a completion labelled desirable (true) or undesirable (false).
struct UnpairedExample {
  std::string id;
  std::int64_t line = 0;
  std::string prompt;
  std::string completion;
  bool desirable = true;
  std::optional<double> refLogp;
  // Conversational sources only: the prompt messages and the completion's (without the prompt
  // repeated), for a model's own chat template, as PairMessages are for pairs.
  std::optional<PairMessages> messages; // prompt; chosen: the completion; rejected: unused
};

} // namespace preflab::core
