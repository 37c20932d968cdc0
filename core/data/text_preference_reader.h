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
  KtoUnpaired       // {"prompt","completion","label"}
};

// "auto", "trl", "trl-conversational", "hh-rlhf", "ultrafeedback", "kto".
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

  bool isUnpaired() const { return format == TextFormat::KtoUnpaired; }
};

// Reads `path`. Throws InputError ("FILE:LINE: key 'K': problem") for: a missing/unreadable file,
// an empty file (no records), invalid JSON or UTF-8, a record that is not an object, missing keys,
// wrong types, a line over maxLineBytes, a record of another format than the detected one.
// With skipInvalid, per-line problems are recorded in `skipped` instead (file-level ones still
// throw). Thread-safe (no shared state).
TextPreferenceData readTextPreferences(const std::string &path, const TextReadOptions &options = {});

// Detects the format of one record; throws InputError when it matches none.
TextFormat detectTextFormat(const nlohmann::json &record);

// Renders chat messages as a plain transcript: each message as "\n\n<Role>: <content>"
// (Role capitalised: "User", "Assistant", "System"). Conversational prompts end with
// "\n\nAssistant:" and responses start with " ", mirroring HH-RLHF, so prompt ⊕ response is the
// transcript a byte-level tokenizer sees.
std::string renderConversation(const std::vector<ChatMessage> &messages);

// Summary statistics as JSON: {"format","pairs","unpaired","skipped","blank_lines",
// "length":{"prompt"|"chosen"|"rejected"|"completion": {"min","mean","median","max"}} (bytes),
// "rater_fraction": {"present": n, "mean": x} (when any), "rater_count": {...},
// "ref_logps": n present, "labels": {"desirable": n, "undesirable": n} (KTO),
// "chosen_longer_fraction": share of pairs whose chosen is longer than rejected}.
nlohmann::json summarizeTextPreferences(const TextPreferenceData &data);

} // namespace preflab::core
