// The pieces of a win-rate-optimisation step that need no model: h of a judge's preference
// probability, the reward against several competitors, the per-sequence KL penalty and the
// leave-one-out (RLOO) advantages. No LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace preflab::core {

enum class WinRateTransform { Identity, Log, Logit };

// "identity" | "log" | "logit"; throws InputError naming wro.h otherwise.
WinRateTransform winRateTransformNamed(const std::string &name);

// h(p). p is clamped to [kJudgeProbabilityFloor, 1 − kJudgeProbabilityFloor] first, so log and
// logit stay finite when a judge is certain.
inline constexpr double kJudgeProbabilityFloor = 1e-6;
double applyWinRateTransform(WinRateTransform h, double p);

// A Bradley–Terry judge's probability that the answer scored `score` beats a competitor scored
// `competitorScore`: σ(score − competitorScore).
double judgeProbability(double score, double competitorScore);

// WRO's reward of one answer: the mean over competitors of h(σ(score − competitorScore_k)).
double winRateReward(WinRateTransform h, double score, const std::vector<double> &competitorScores);

// The rewards RLOO optimises: reward − beta · (log π(y|x) − log π_ref(y|x)), the KL penalty of each
// whole sequence (its mean over samples from π estimates KL(π‖π_ref)). Equal sizes.
std::vector<double> klPenalisedRewards(const std::vector<double> &rewards,
                                       const std::vector<double> &policyLogps,
                                       const std::vector<double> &referenceLogps, double beta);

// Leave-one-out advantages of groups of `groupSize` consecutive rewards: each minus the mean of
// the other groupSize − 1 of its group. groupSize >= 2; rewards.size() a multiple of it.
std::vector<double> rlooAdvantages(const std::vector<double> &rewards, std::size_t groupSize);

// The mean of per-prompt values with a normal 95% interval (mean ± 1.96 · sd / √n; the
// population sd). An h-win rate of a policy against a competitor is such a mean.
struct MeanInterval {
  double mean = 0.0, low = 0.0, high = 0.0;
};
MeanInterval meanWithInterval(const std::vector<double> &values);

// What one step's groups show about how hard the objective is to optimise.
struct AdvantageStats {
  double rewardMean = 0.0;
  double rewardStd = 0.0;        // over all rewards of the step (population)
  double withinGroupStd = 0.0;   // mean over groups of the rewards' spread inside the group
  double usefulGroups = 0.0;     // share of groups whose rewards are not all equal (some gradient)
  double advantageAbsMean = 0.0; // mean |A|
};
// `eps`: rewards closer than this count as equal.
AdvantageStats advantageStats(const std::vector<double> &rewards, std::size_t groupSize, double eps = 1e-9);

} // namespace preflab::core
