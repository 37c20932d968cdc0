// Batch stochastic mirror descent for MPO's mixing weights.
#include "core/metrics/mixing_weights.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace preflab::core {

MirrorStep mirrorDescentStep(const std::vector<double> &lambda, const std::vector<LogRatios> &batch,
                             double eta) {
  if (batch.empty())
    throw std::invalid_argument("mirror descent: empty batch");
  const auto K = lambda.size();
  MirrorStep out;
  out.gradient.assign(K, 0.0);
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const auto &ell = batch[b];
    if (ell.size() != K || ell.empty() || ell[0].empty())
      throw std::invalid_argument("mirror descent: log-ratios need one non-empty row per policy");
    const auto m = ell[0].size();
    std::vector<double> s(m, 0.0);
    for (std::size_t k = 0; k < K; ++k) {
      if (ell[k].size() != m)
        throw std::invalid_argument("mirror descent: rows of unequal length");
      for (std::size_t j = 0; j < m; ++j)
        s[j] += lambda[k] * ell[k][j];
    }
    const double top = *std::max_element(s.begin(), s.end());
    double z = 0.0;
    for (double v : s)
      z += std::exp(v - top);
    std::vector<double> w(m);
    for (std::size_t j = 0; j < m; ++j)
      w[j] = std::exp(s[j] - top) / z;
    out.objective += (top + std::log(z / double(m))) / double(batch.size());
    for (std::size_t k = 0; k < K; ++k) {
      double g = 0.0;
      for (std::size_t j = 0; j < m; ++j)
        g += w[j] * ell[k][j];
      out.gradient[k] += g / double(batch.size());
    }
    if (b == 0)
      out.weights = w;
  }
  // λ_k exp(−η v̂_k), normalised in log space.
  std::vector<double> logits(K);
  for (std::size_t k = 0; k < K; ++k)
    logits[k] = std::log(std::max(lambda[k], 1e-300)) - eta * out.gradient[k];
  const double top = *std::max_element(logits.begin(), logits.end());
  double z = 0.0;
  for (double v : logits)
    z += std::exp(v - top);
  out.lambda.resize(K);
  for (std::size_t k = 0; k < K; ++k)
    out.lambda[k] = std::exp(logits[k] - top) / z;
  return out;
}

MixingRun mixingWeights(std::size_t policies, std::size_t iterations, double c,
                        const std::function<std::vector<LogRatios>(std::size_t t)> &batch) {
  MixingRun run;
  std::vector<double> lambda(policies, 1.0 / double(policies));
  run.averaged.assign(policies, 0.0);
  const double eta = c / std::sqrt(double(std::max<std::size_t>(1, iterations)));
  for (std::size_t t = 0; t < iterations; ++t) {
    const auto step = mirrorDescentStep(lambda, batch(t), eta);
    lambda = step.lambda;
    run.objectives.push_back(step.objective);
    run.lambdas.push_back(lambda);
    for (std::size_t k = 0; k < policies; ++k)
      run.averaged[k] += lambda[k] / double(iterations);
  }
  if (iterations == 0)
    run.averaged = lambda;
  return run;
}

} // namespace preflab::core
