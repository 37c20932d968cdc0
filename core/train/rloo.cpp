// Win-rate rewards, the leave-one-out baseline and the statistics of a step's groups.
#include "core/train/rloo.h"

#include "core/io/input_error.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace preflab::core {

WinRateTransform winRateTransformNamed(const std::string &name) {
  if (name == "identity")
    return WinRateTransform::Identity;
  if (name == "log")
    return WinRateTransform::Log;
  if (name == "logit")
    return WinRateTransform::Logit;
  throw InputError({}, 0, "wro.h", "is '" + name + "', must be identity, log or logit");
}

double applyWinRateTransform(WinRateTransform h, double p) {
  p = std::clamp(p, kJudgeProbabilityFloor, 1.0 - kJudgeProbabilityFloor);
  switch (h) {
  case WinRateTransform::Identity:
    return p;
  case WinRateTransform::Log:
    return std::log(p);
  case WinRateTransform::Logit:
    return std::log(p) - std::log1p(-p);
  }
  return p;
}

double judgeProbability(double score, double competitorScore) {
  const double d = score - competitorScore;
  return d >= 0 ? 1.0 / (1.0 + std::exp(-d)) : std::exp(d) / (1.0 + std::exp(d));
}

double winRateReward(WinRateTransform h, double score, const std::vector<double> &competitorScores) {
  if (competitorScores.empty())
    throw InputError({}, 0, "wro.competitors", "no reference answers to judge against");
  double sum = 0.0;
  for (double c : competitorScores)
    sum += applyWinRateTransform(h, judgeProbability(score, c));
  return sum / double(competitorScores.size());
}

std::vector<double> klPenalisedRewards(const std::vector<double> &rewards,
                                       const std::vector<double> &policyLogps,
                                       const std::vector<double> &referenceLogps, double beta) {
  if (policyLogps.size() != rewards.size() || referenceLogps.size() != rewards.size())
    throw std::invalid_argument("klPenalisedRewards: " + std::to_string(rewards.size()) + " rewards, " +
                                std::to_string(policyLogps.size()) + " and " +
                                std::to_string(referenceLogps.size()) + " log-probs");
  std::vector<double> out(rewards.size());
  for (std::size_t i = 0; i < rewards.size(); ++i)
    out[i] = rewards[i] - beta * (policyLogps[i] - referenceLogps[i]);
  return out;
}

std::vector<double> rlooAdvantages(const std::vector<double> &rewards, std::size_t groupSize) {
  if (groupSize < 2 || rewards.size() % groupSize != 0)
    throw InputError({}, 0, "wro.samples_per_prompt",
                     "leave-one-out needs groups of >= 2 samples (" + std::to_string(rewards.size()) +
                         " rewards in groups of " + std::to_string(groupSize) + ")");
  std::vector<double> out(rewards.size());
  for (std::size_t g = 0; g < rewards.size(); g += groupSize) {
    double sum = 0.0;
    for (std::size_t i = 0; i < groupSize; ++i)
      sum += rewards[g + i];
    for (std::size_t i = 0; i < groupSize; ++i)
      out[g + i] = rewards[g + i] - (sum - rewards[g + i]) / double(groupSize - 1);
  }
  return out;
}

MeanInterval meanWithInterval(const std::vector<double> &values) {
  if (values.empty())
    return {};
  const double n = double(values.size());
  double mean = 0.0, var = 0.0;
  for (double v : values)
    mean += v / n;
  for (double v : values)
    var += (v - mean) * (v - mean) / n;
  const double half = 1.959963984540054 * std::sqrt(var / n);
  return {mean, mean - half, mean + half};
}

AdvantageStats advantageStats(const std::vector<double> &rewards, std::size_t groupSize, double eps) {
  AdvantageStats s;
  if (rewards.empty())
    return s;
  const auto adv = rlooAdvantages(rewards, groupSize);
  const double n = double(rewards.size());
  for (std::size_t i = 0; i < rewards.size(); ++i) {
    s.rewardMean += rewards[i] / n;
    s.advantageAbsMean += std::abs(adv[i]) / n;
  }
  for (double r : rewards)
    s.rewardStd += (r - s.rewardMean) * (r - s.rewardMean) / n;
  s.rewardStd = std::sqrt(s.rewardStd);
  const double groups = n / double(groupSize);
  for (std::size_t g = 0; g < rewards.size(); g += groupSize) {
    const auto first = rewards.begin() + std::ptrdiff_t(g), last = first + std::ptrdiff_t(groupSize);
    const auto [lo, hi] = std::minmax_element(first, last);
    s.usefulGroups += (*hi - *lo > eps) / groups;
    double mean = 0.0, var = 0.0;
    for (auto it = first; it != last; ++it)
      mean += *it / double(groupSize);
    for (auto it = first; it != last; ++it)
      var += (*it - mean) * (*it - mean) / double(groupSize);
    s.withinGroupStd += std::sqrt(var) / groups;
  }
  return s;
}

} // namespace preflab::core
