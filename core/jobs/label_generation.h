// Candidates to label, generated from a model (two samples per prompt, two seeds per caption), and
// active selection: how informative a label on each pair would be for a reference/policy pair of
// text models. Torch-free.
#pragma once

#include "core/diffusion/diffusion_sampling_options.h"
#include "core/jobs/compare_tools.h"
#include "core/labels/label_candidates.h"
#include "core/labels/label_store.h"
#include "core/text/sampling_options.h"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

// Whether `dir` is a diffusion model folder (diffusion_config.json), else a text model is assumed.
bool isDiffusionModelFolder(const std::string &dir);

struct CandidateGenerationRequest {
  std::string model;                // a text model folder, or a diffusion model folder
  std::vector<std::string> prompts; // prompts, or captions for a diffusion model
  std::uint64_t seed = 0;           // item i samples with seeds seed + 2i and seed + 2i + 1
  SamplingOptions sampling;         // text (temperature must be > 0: two greedy samples are one)
  DiffusionSamplingOptions imageSampling;
  std::string device = "cpu";
  std::int64_t batchSize = 8; // prompts per step (and per progress/cancel check)
  // The candidate file to write (JSONL). Images go to <out stem>-images/ beside it. Item ids are
  // "<out stem>-<i>" (1-based), so two files generated into one store never share an id.
  std::string out;
};

struct CandidateGenerationResult {
  std::string path;              // the candidate file written
  bool images = false;           // image pairs (a diffusion model) rather than text pairs
  std::int64_t items = 0;        // lines written
  std::int64_t identical = 0;    // prompts whose two samples were the same, left out (named in `left`)
  std::vector<std::string> left; // "prompt i: ..." for each prompt left out
  bool cancelled = false;        // stopped by `cancel`: the file holds the prompts done before
};

// Samples two candidates per prompt from one model and writes a candidate file that
// readLabelCandidates reads: text lines {"id", "prompt", "completion_a", "completion_b",
// "seed_a", "seed_b", "model"}, image lines {"id", "caption", "image_a", "image_b", "seed_a",
// "seed_b", "model"} with PNGs under <out stem>-images/. Bytes of a text sample that are not
// UTF-8 (a byte-level model can stop inside a character) are written as U+FFFD. A pair whose two samples are
// identical is left out and counted. The file is written atomically at the end, also when cancelled (with
// what was done). Progress stages: "loading model", "generating". Any thread; slow.
// Throws InputError for a missing model folder, no prompts, an empty prompt, a temperature of 0,
// an empty output path, or an output file (or, for images, an images folder) that exists.
CandidateGenerationResult generateLabelCandidates(const CandidateGenerationRequest &request,
                                                  const CompareProgressFn &progress = {},
                                                  const std::atomic<bool> *cancel = nullptr);

// The prompts of generated candidates when none are given: the sentiment task's held-out
// openers (text), or the Fashion-MNIST class captions in their phrasings (images).
std::vector<std::string> builtInLabelPrompts(bool images, std::int64_t count, std::uint64_t seed);

struct InformativenessRequest {
  std::string policy;    // the model being trained (a folder)
  std::string reference; // π_ref (a folder); empty: the policy (margins are then all 0)
  double beta = 0.1;
  std::string device = "cpu";
  std::int64_t batchSize = 8;
};

// How much a label on one text pair would tell the policy. "Winner" is the presumed winner: the
// candidate `firstWins` names (the caller passes the current majority, or the stored first
// candidate, which for an imported preference file is its chosen one).
struct PairInformativeness {
  // β·[(log π_θ − log π_ref)(winner) − (log π_θ − log π_ref)(loser)]: the DPO implicit reward
  // margin. |margin| near 0: the policy has no opinion yet, the label decides.
  double margin = 0.0;
  // c = log π_ref(loser) − log π_ref(winner), and the DPO loss below which the policy ranks the
  // pair correctly, softplus(−β·c) (the ranking-accuracy paper's Theorem 4.1): the lower, the
  // harder the pair is to learn.
  double c = 0.0;
  double difficulty = 0.0;
  // Not empty: this item was not scored (an empty prompt, or one longer than the models take);
  // the numbers are then meaningless.
  std::string error;
  bool scored() const { return error.empty(); }
};

// Scores each text item's two candidates under the policy and the reference (summed response
// log-probs; no sampling). Returns one entry per item, fewer when cancelled; an item whose prompt
// cannot be scored has its reason in `error` and the others are scored. Throws InputError for an
// image item (only text pairs are scored), a missing model folder, or models with different
// tokenizers.
std::vector<PairInformativeness> scoreInformativeness(const InformativenessRequest &request,
                                                      const std::vector<LabelItem> &items,
                                                      const std::vector<bool> &firstWins,
                                                      const CompareProgressFn &progress = {},
                                                      const std::atomic<bool> *cancel = nullptr);

// The presumed winner of each item for scoreInformativeness: the first candidate unless the
// current decisions' majority says second.
std::vector<bool> presumedFirstWins(const std::vector<StoredItem> &items,
                                    const std::vector<LabelEvent> &current);

// What scoreInformativeness takes from a store: its text items (image pairs are not scored), their
// store keys, and their presumed winners.
struct RankableItems {
  std::vector<std::int64_t> keys;
  std::vector<LabelItem> items;
  std::vector<bool> firstWins;
};
RankableItems rankableItems(const std::vector<StoredItem> &stored, const std::vector<LabelEvent> &current);

} // namespace preflab::core
