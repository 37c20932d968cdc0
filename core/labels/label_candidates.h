// Items to label: a prompt (or caption) and two candidates, read from a candidate file. No LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace preflab::core {

// One item of a labeling project. Text items carry two completions; image items two image paths
// (as the file gave them, resolved against the file's folder by readLabelCandidates).
struct LabelItem {
  std::string id;     // the file's "id", or "<file stem>-<line>" when it has none
  std::string kind;   // "text" | "image"
  std::string prompt; // the prompt, or the caption of an image pair
  std::string candidates[2];
  std::string source; // the file it came from
  std::int64_t line = 0;
};

// Reads a candidate file, one JSON object per line:
//   text:   {"prompt", "completion_a", "completion_b"}
//   or any preference file PrefLab reads (TRL, HH-RLHF, UltraFeedback, ...: whatever
//           readTextPreferences detects), to relabel or audit: chosen becomes the first candidate,
//           and that order is not kept as a label;
//   images: {"caption", "image_a", "image_b"}  (also a manifest's "jpg_0"/"jpg_1"); paths
//           relative to the file's folder; a missing image is an error naming it.
// Optional "id" (string or number). Throws InputError naming the file, line and key for a line
// that is not one of these, an empty candidate, two identical candidates or a repeated id;
// with `skipped`, such a line is listed there (line and reason) and the rest is read.
struct SkippedCandidate {
  std::int64_t line = 0;
  std::string reason; // the InputError's text
};
std::vector<LabelItem> readLabelCandidates(const std::string &path,
                                           std::vector<SkippedCandidate> *skipped = nullptr);

// Prompts (or captions) to generate candidates for, one per line: plain text, or a JSON object
// with a string "prompt" or "caption" (so a preference or candidate file serves too). Blank lines
// are skipped. Throws InputError naming the file and line for a JSON line without either key, a
// line that is not valid UTF-8, or a file without a prompt.
std::vector<std::string> readPromptList(const std::string &path);

} // namespace preflab::core
