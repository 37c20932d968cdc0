// Ranking accuracy, idealised ranking accuracy, alignment gap and per-pair difficulty (torch-free).
#pragma once

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

// Whether the DPO/RLHF optimum with ground-truth preference α ranks the pair correctly:
// logπ_ref(y_w) − logπ_ref(y_l) + (1/β)·logit(α) > 0. α defaults to 1 − ε (ε = 1e-3) when the
// pair has no rater fraction, and is clamped to [ε, 1 − ε]. Needs reference scores.
bool idealizedCorrect(const PairScore &p, double beta, bool lengthNormalised);

// Reference log-ratio c = logπ_ref(y_l) − logπ_ref(y_w) and the DPO loss threshold
// softplus(−β·c) below which the pair is ranked correctly (lower = harder).
double referenceLogRatio(const PairScore &p);
double difficultyThreshold(double c, double beta);

struct RankingSummary {
  std::int64_t pairs = 0;
  double accuracy = 0, accuracyLenNorm = 0;
  // Idealised ranking accuracy over the β grid: min, median, max (plain and length-normalised).
  std::optional<double> idealizedMin, idealizedMedian, idealizedMax;
  std::optional<double> idealizedLenNormMin, idealizedLenNormMedian, idealizedLenNormMax;
  std::optional<double> alignmentGap; // idealised median − observed accuracy
};

// Summary over pairs (idealised numbers only when every pair has reference scores).
RankingSummary summarizeRanking(const std::vector<PairScore> &pairs);
// {"pairs","ranking/accuracy","ranking/accuracy_len_norm","ranking/idealized", ...}
nlohmann::json toJson(const RankingSummary &summary);
// One object per pair for analyze: id, margin, c, difficulty at `beta`, correct flags.
nlohmann::json pairAnalysis(const PairScore &p, double beta);

} // namespace preflab::core
