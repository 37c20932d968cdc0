// Reads text preference JSONL (TRL standard/conversational, HH-RLHF, UltraFeedback binarized, KTO).
#pragma once

#include "core/data/text_example.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace preflab::core {

enum class TextFormat {
  Auto,             // detect from the first non-blank line
  TrlStandard,      // {"prompt","chosen","rejected"} strings
  TrlConversational,// the same keys holding message lists [{"role","content"}]
  HhRlhf,           // {"chosen","rejected"} transcripts; prompt = prefix up to the last "\n\nAssistant:"
  UltraFeedback,    // {"prompt","chosen":[msgs],"rejected":[msgs],"score_chosen","score_rejected"}
  KtoUnpaired,      // {"prompt","completion","label"}
  TrlImplicitPrompt,// {"chosen":[msgs],"rejected":[msgs]}: whole conversations, the prompt is their common prefix
  ShareGpt,         // LLaMA-Factory: {"conversations":[{"from","value"}],"chosen":{"from","value"},"rejected":{...}}
  LlamaFactoryV1,   // {"chosen_messages","rejected_messages"}: [{"role","content":[{"type":"text","value"}]}]
  Alpaca,           // {"instruction","input","chosen","rejected"} strings
  OpenAiDpo,        // {"input":{"messages"},"preferred_output":[msgs],"non_preferred_output":[msgs]}
  KtoMessages       // LLaMA-Factory KTO: {"messages":[...; the last one answers],"label"}
};

// "auto", "trl", "trl-conversational", "hh-rlhf", "ultrafeedback", "kto", "trl-implicit-prompt",
// "sharegpt", "llamafactory-v1", "alpaca", "openai-dpo", "kto-messages".
std::string textFormatName(TextFormat format);
// Inverse of textFormatName; throws InputError naming the accepted names.
TextFormat parseTextFormat(const std::string &name);

struct TextReadOptions {
  TextFormat format = TextFormat::Auto;
  bool skipInvalid = false; // false: the first bad line throws; true: bad lines are skipped and listed
  std::size_t maxLineBytes = std::size_t(64) << 20; // longer lines are errors, not crashes
};

struct SkippedLine {
  std::int64_t line = 0;
  std::string reason;
};

// The parsed file. Exactly one of pairs / unpaired is filled, depending on the format.
struct TextPreferenceData {
  std::string path;
  TextFormat format = TextFormat::Auto; // the format actually used
  std::vector<TextPair> pairs;
  std::vector<UnpairedExample> unpaired;
  std::vector<SkippedLine> skipped;     // only with skipInvalid
  std::int64_t blankLines = 0;          // ignored, but counted

  bool isUnpaired() const { return format == TextFormat::KtoUnpaired || format == TextFormat::KtoMessages; }
  bool isJsonArray = false;             // the file was one JSON array of records, not JSONL
  bool gzip = false;                    // the file was gzip-compressed
  // HH-RLHF lines whose chosen and rejected disagree before their last "\n\nAssistant:" (one
  // side has an extra turn): their prompt is the common prefix cut at a turn boundary.
  std::vector<std::int64_t> commonPrefixPromptLines;
};

// Reads `path`. Throws InputError ("FILE:LINE: key 'K': problem") for: a missing/unreadable file,
// an empty file (no records), invalid JSON or UTF-8, a record that is not an object, missing keys,
// wrong types, a line over maxLineBytes, a record of another format than the detected one.
// With skipInvalid, per-line problems are recorded in `skipped` instead (file-level ones still
// throw). Thread-safe (no shared state).
TextPreferenceData readTextPreferences(const std::string &path, const TextReadOptions &options = {});

// Detects the format of one record; throws InputError when it matches none.
TextFormat detectTextFormat(const nlohmann::json &record);

// Pairs that carry no preference signal or an empty side, by line: chosen == rejected (training
// drops them: they add nothing to any pairwise objective but noise in its mean), and an empty
// chosen or rejected (kept: an empty answer is a real, if poor, response; its EOS is scored).
struct PairSignal {
  std::vector<std::int64_t> identical, emptyChosen, emptyRejected;
};
PairSignal pairSignal(const TextPreferenceData &data);
// Removes the pairs whose chosen equals rejected; returns their lines.
std::vector<std::int64_t> dropIdenticalPairs(TextPreferenceData &data);

// Renders chat messages as a plain transcript: each message as "\n\n<Role>: <content>"
// (Role capitalised: "User", "Assistant", "System"). Conversational prompts end with
// "\n\nAssistant:" and responses start with " ", mirroring HH-RLHF, so prompt ⊕ response is the
// transcript a byte-level tokenizer sees.
std::string renderConversation(const std::vector<ChatMessage> &messages);

// Summary statistics as JSON: {"format","pairs","unpaired","skipped","blank_lines",
// "length":{"prompt"|"chosen"|"rejected"|"completion": {"min","mean","median","max"}} (bytes),
// "rater_fraction": {"present": n, "mean": x} (when any), "rater_count": {...},
// "ref_logps": n present, "labels": {"desirable": n, "undesirable": n} (KTO),
// "chosen_longer_fraction": share of pairs whose chosen is longer than rejected,
// "identical_pairs" / "empty_chosen" / "empty_rejected": {"count", "lines"} (pairSignal),
// "prompt_from_common_prefix": {"count", "lines"} (HH-RLHF), "json_array", "gzip"}.
nlohmann::json summarizeTextPreferences(const TextPreferenceData &data);

} // namespace preflab::core
