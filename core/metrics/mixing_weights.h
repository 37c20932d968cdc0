// MPO's mixing weights: batch stochastic mirror descent (exponentiated gradient on the simplex)
// on F(λ) = E_x log E_{y~π_ref} exp(Σ_k λ_k ℓ_k(x, y)), ℓ_k = log π_k(y|x) − log π_ref(y|x).
// Torch-free: the log-ratios come in as numbers.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace preflab::core {

// Log-ratios of one prompt's reference samples: ell[k][j] for policy k and sample j (sequence
// sums). Every row has the same number of samples m >= 1.
using LogRatios = std::vector<std::vector<double>>;

struct MirrorStep {
  std::vector<double> lambda;   // after the step, on the simplex
  std::vector<double> gradient; // v̂_k: the batch mean of Σ_j w_j ℓ_kj
  double objective = 0.0;       // F̂(λ) before the step: batch mean of log (1/m) Σ_j exp(s_j)
  std::vector<double> weights;  // w_j = softmax_j(s_j) of the batch's first prompt (for tests and logs)
};

// One BSMD iteration at `lambda` over a batch of prompts with step size `eta`: s_j = Σ_k λ_k ℓ_kj,
// w = softmax(s) (in log space: sums of sequence log-ratios are large), v̂_k = Σ_j w_j ℓ_kj
// averaged over the batch, λ_k ← λ_k exp(−η v̂_k) / Σ_i λ_i exp(−η v̂_i). Throws
// std::invalid_argument for an empty batch or rows of unequal length.
MirrorStep mirrorDescentStep(const std::vector<double> &lambda, const std::vector<LogRatios> &batch,
                             double eta);

struct MixingRun {
  std::vector<std::vector<double>> lambdas; // λ_t after each iteration t = 1..T
  std::vector<double> objectives;           // F̂(λ_t) of each iteration's batch, before its step
  std::vector<double> averaged; // λ̂_T = (1/T) Σ_t λ_t (t = 1..T, the iterates after each step)
};

// T iterations from λ uniform with η = c / √T; batch(t) gives iteration t's log-ratios (t = 0..T-1).
MixingRun mixingWeights(std::size_t policies, std::size_t iterations, double c,
                        const std::function<std::vector<LogRatios>(std::size_t t)> &batch);

} // namespace preflab::core
