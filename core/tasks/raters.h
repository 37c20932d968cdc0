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

// Win rate of per-prompt outcomes (1 win, 0.5 tie, 0 loss), ties counted as half a win, with the
// Wilson score 95% interval for that share over n prompts: inside [0, 1], and of non-zero width
// at 0, at 1 and when every outcome is a tie (where a normal interval from the sample variance
// collapses to a point). `ties` is the share of tied prompts, reported beside the rate.
struct WinRate {
  double rate = 0.0, low = 0.0, high = 0.0, ties = 0.0;
};
inline WinRate winRateWithInterval(const std::vector<double> &outcomes) {
  if (outcomes.empty())
    return {};
  const double n = double(outcomes.size());
  double sum = 0.0, tied = 0.0;
  for (double o : outcomes) {
    sum += o;
    tied += o == 0.5;
  }
  const double p = sum / n, z = 1.959963984540054, z2 = z * z;
  const double centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
  const double half = z / (1.0 + z2 / n) * std::sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n));
  return {p, std::max(0.0, centre - half), std::min(1.0, centre + half), tied / n};
}

} // namespace preflab::core
