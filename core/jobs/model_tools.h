// Torch-free operations on saved models for the CLI and the app: pair evaluation, ranking
// analysis, sampling, export.
#pragma once

#include "core/text/sampling_options.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

using ProgressFn = std::function<void(const std::string &stage, double fraction)>;

struct PairEvalOptions {
  std::string modelDir; // HF or native model folder
  std::string dataPath; // preference JSONL
  std::string refDir;   // optional reference model folder
  std::string outPath;  // per-pair JSONL
  std::string format = "auto";
  bool skipInvalid = false;
  bool dumpTokens = false;          // add prompt_ids, chosen_ids, rejected_ids
  std::int64_t maxLength = 0;       // 0: the model's block size
  std::int64_t maxPromptLength = 0; // 0: half of max_length
  std::int64_t batchSize = 64;
  std::string device = "cpu";
  std::optional<double> assumedRaterFraction; // α for pairs without rater_fraction (idealised numbers)
};

// Scores every pair: writes one line per pair (id, logp_chosen, logp_rejected, len_chosen,
// len_rejected, ref_logp_* with a reference, token ids with dumpTokens) and returns the ranking
// summary (plus "skipped"). A reward model (score head) is scored alone: reward_chosen,
// reward_rejected and lengths per line, and the reward objective's metrics ("rewards/accuracies",
// "rewards/margins", "rewards/chosen", "rewards/rejected", ties wrong) plus "pairs" as the summary.
// Throws InputError for bad files.
nlohmann::json evaluatePairs(const PairEvalOptions &options, const ProgressFn &progress = {});

struct AnalyzeOptions {
  std::string lossType = "dpo"; // whose optimum and difficulty the per-pair lines use
  double beta = 0.1;            // that objective's β (its other parameters: their defaults)
  std::optional<double> assumedRaterFraction; // α for pairs without rater_fraction
  std::string outPairsPath;                   // per-pair analysis JSONL (optional)
};

// Reads an evaluatePairs output (which must carry ref_logp_*; rater_fraction is used when the
// line has it), writes per-pair analysis lines (c, difficulty and optimum correctness under the
// objective, idealised correctness per β of the grid, ...) and returns the summary: ranking
// accuracy, idealised min/median/max over the β grid and alignment gap (over pairs with an α),
// ties left out and counted.
nlohmann::json analyzeEvalFile(const std::string &evalPath, const AnalyzeOptions &options);

// Samples one continuation per prompt with seeds seed, seed+1, ...; returns the texts.
std::vector<std::string> sampleFromModel(const std::string &modelDir, const std::vector<std::string> &prompts,
                                         std::uint64_t seed, const SamplingOptions &options,
                                         const std::string &device = "cpu");

// Writes `modelDir` (native, checkpoint, HF or PEFT adapter folder) as a Hugging Face folder of
// its architecture. A model with LoRA adapters is written as a PEFT adapter folder, or with
// `merge` as a plain folder with the adapters merged into the weights. Returns what was written.
std::string exportModel(const std::string &modelDir, const std::string &outDir, bool merge = false);

} // namespace preflab::core
