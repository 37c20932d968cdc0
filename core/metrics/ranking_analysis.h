// Ranking accuracy, idealised ranking accuracy, alignment gap and per-pair difficulty (torch-free).
#pragma once

#include "core/objectives/objective_info.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

// Scores of one pair under the policy (and optionally the reference); log-probs are sums.
struct PairScore {
  std::string id;
  double logpChosen = 0, logpRejected = 0;
  double lenChosen = 1, lenRejected = 1; // response tokens
  std::optional<double> refChosen, refRejected;
  std::optional<double> raterFraction; // share of raters preferring chosen
};

// The β grid of the ranking-accuracy paper.
const std::vector<double> &idealizedBetaGrid();

// 1[logπ(y_w) ≥ logπ(y_l)] (plain) and the same on token means (length-normalised).
bool rankedCorrectly(const PairScore &p, bool lengthNormalised);

// A pair the raters split evenly (rater fraction 0.5) carries no preference: ranking metrics
// leave it out and count it separately, as the ranking-accuracy paper's code drops it.
bool isTie(const PairScore &p);

// The rater fraction α the idealised metrics use for `p`: its own, else `assumed`, else none.
std::optional<double> raterFractionFor(const PairScore &p, std::optional<double> assumed);

// Whether the DPO/RLHF optimum with preference α ranks the pair correctly:
// logπ_ref(y_w) − logπ_ref(y_l) + (1/β)·logit(α) > 0, α clamped to [1e-3, 1 − 1e-3]. Empty
// without reference scores or without α (the paper computes it only where votes exist; assuming
// unanimous raters gives wrong results).
std::optional<bool> idealizedCorrect(const PairScore &p, double beta, bool lengthNormalised,
                                     std::optional<double> assumedRaterFraction = std::nullopt);

// The same question for `objective`'s own optimum (ObjectiveInfo::optimalMargin) at `params`:
// the policy at the optimum ranks y_w above y_l (on token means where the objective forms its
// margin from them). Empty where the objective declares no optimum, or α or reference is missing.
std::optional<bool> optimumCorrect(const PairScore &p, const ObjectiveInfo &objective,
                                   const ObjectiveParams &params,
                                   std::optional<double> assumedRaterFraction = std::nullopt);

// Reference log-ratio c = logπ_ref(y_l) − logπ_ref(y_w) and the DPO loss threshold
// softplus(−β·c) below which the pair is ranked correctly (lower = harder).
double referenceLogRatio(const PairScore &p);
double difficultyThreshold(double c, double beta);
// `objective`'s loss for the pair at the margin h = c where the policy ranks it level
// (ObjectiveInfo::marginLoss): below it the pair is ranked correctly. DPO: difficultyThreshold.
// Empty where the objective's loss is not a non-increasing function of the margin.
std::optional<double> pairDifficulty(const PairScore &p, const ObjectiveInfo &objective,
                                     const ObjectiveParams &params);

struct RankingOptions {
  // α for pairs without a rater fraction; unset: such pairs have no idealised numbers.
  std::optional<double> assumedRaterFraction;
};

struct RankingSummary {
  std::int64_t pairs = 0;          // every pair
  std::int64_t ties = 0;           // rater fraction 0.5: left out of every ranking number
  std::int64_t idealizedPairs = 0; // non-tie pairs with reference scores and an α
  double accuracy = 0, accuracyLenNorm = 0; // over the non-tie pairs
  // Idealised ranking accuracy over the β grid: min, median, max (plain and length-normalised),
  // over the idealised pairs.
  std::optional<double> idealizedMin, idealizedMedian, idealizedMax;
  std::optional<double> idealizedLenNormMin, idealizedLenNormMedian, idealizedLenNormMax;
  // Idealised median − observed accuracy, both over the idealised pairs.
  std::optional<double> alignmentGap;
  std::optional<double> assumedRaterFraction; // echoed when the options set one
};

// Summary over pairs: idealised numbers over the non-tie pairs that have reference scores and
// an α, when there is at least one.
RankingSummary summarizeRanking(const std::vector<PairScore> &pairs, const RankingOptions &options = {});
// {"pairs","ranking/ties","ranking/accuracy","ranking/accuracy_len_norm","ranking/idealized", ...}
nlohmann::json toJson(const RankingSummary &summary);
// One object per pair for analyze: id, margin, c, difficulty under `objective` at `params`,
// idealised (DPO, β grid) and optimum (`objective`) correct flags, "tie" for ties.
nlohmann::json pairAnalysis(const PairScore &p, const ObjectiveInfo &objective, const ObjectiveParams &params,
                            std::optional<double> assumedRaterFraction = std::nullopt);
// eval/pairs.jsonl: pairAnalysis of each score, one JSON line each, with the pair's prompt, chosen
// and rejected texts (for the Pairs inspector) where texts[i] is the pair scores[i] names.
struct PairTexts {
  std::string id, prompt, chosen, rejected;
};
std::string pairAnalysisLines(const std::vector<PairScore> &scores, const std::vector<PairTexts> &texts,
                              const ObjectiveInfo &objective, const ObjectiveParams &params);

} // namespace preflab::core
