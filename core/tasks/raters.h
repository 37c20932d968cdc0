// Simulated raters shared by the embedded tasks: Bradley–Terry draws and a win-rate interval.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace preflab::core {

// Each of `raters` independent raters prefers the first item with probability
// σ((reward0 − reward1) / temperature); one 53-bit uniform draw from `rng` per rater.
// Returns how many preferred the first item.
inline int simulateRaterVotes(double reward0, double reward1, int raters, double temperature,
                              std::mt19937_64 &rng) {
  const double p = 1.0 / (1.0 + std::exp(-(reward0 - reward1) / temperature));
  int votes = 0;
  for (int i = 0; i < raters; ++i)
    votes += double(rng() >> 11) / 9007199254740992.0 < p;
  return votes;
}

// Win rate of per-prompt outcomes (1 win, 0.5 tie, 0 loss) with a normal-approximation 95%
// interval from their sample variance: {mean, low, high}; {0, 0, 0} for no outcomes.
struct WinRate {
  double rate = 0.0, low = 0.0, high = 0.0;
};
inline WinRate winRateWithInterval(const std::vector<double> &outcomes) {
  if (outcomes.empty())
    return {};
  const double n = double(outcomes.size());
  double sum = 0.0, sumSq = 0.0;
  for (double o : outcomes) {
    sum += o;
    sumSq += o * o;
  }
  const double mean = sum / n;
  const double se = std::sqrt(std::max(0.0, sumSq / n - mean * mean) / std::max(1.0, n - 1.0));
  return {mean, mean - 1.96 * se, mean + 1.96 * se};
}

} // namespace preflab::core
