// SimPO, SimPER and ORPO: pairwise losses that need no reference model.
#include "core/objectives/reference_free.h"

#include "core/objectives/dpo_family.h"

#include <cmath>

namespace preflab::core {

namespace {

// log(1 − e^a) for a ≤ 0, accurate on both sides of −ln 2 (algorithms.md §0.2). Each branch
// sees an input clamped to its own side, so the branch torch::where discards cannot put an
// infinite derivative (× 0 = NaN) into the gradient. a: any shape.
torch::Tensor log1mexp(const torch::Tensor &a) {
  const double ln2 = std::log(2.0);
  const torch::Tensor nearZero = torch::log(-torch::expm1(a.clamp_min(-ln2)));
  const torch::Tensor farFromZero = torch::log1p(-torch::exp(a.clamp_max(-ln2)));
  return torch::where(a > -ln2, nearZero, farFromZero);
}

// log(p / (1 − p)) from a = log p. A mean log-prob of exactly 0 (every token certain) would give
// +inf and inf − inf = NaN for a pair of such responses; capping a just below 0 keeps it finite.
// a: (B,).
torch::Tensor logOdds(const torch::Tensor &a) {
  const torch::Tensor capped = a.clamp_max(-1e-6);
  return capped - log1mexp(capped);
}

} // namespace

ObjectiveOutput simpoLoss(const ObjectiveInputs &in, const ObjectiveParams &params) {
  const std::string name = "simpo";
  checkParam(params.beta, "beta", name, 0.0, true, 1e6, false);
  const PairwiseLogps p = pairwisePolicyLogps(in, name);
  const double beta = params.beta;
  const torch::Tensor logits = beta * ((p.chosenMean - p.rejectedMean) - params.gammaBetaRatio);
  ObjectiveOutput out;
  finishPairwise(out, torch::softplus(-logits), beta * p.chosenMean, beta * p.rejectedMean, p);
  return out;
}

ObjectiveOutput simperLoss(const ObjectiveInputs &in, const ObjectiveParams &) {
  const PairwiseLogps p = pairwisePolicyLogps(in, "simper");
  // exp of a mean log-prob (≤ 0) lies in (0, 1]: no overflow, and each side's gradient is
  // weighted by its own inverse perplexity.
  const torch::Tensor losses = torch::exp(p.rejectedMean) - torch::exp(p.chosenMean);
  ObjectiveOutput out;
  finishPairwise(out, losses, p.chosenMean, p.rejectedMean, p);
  return out;
}

ObjectiveOutput orpoLoss(const ObjectiveInputs &in, const ObjectiveParams &params) {
  const std::string name = "orpo";
  checkParam(params.beta, "beta", name, 0.0, false, 1e6, false);
  const PairwiseLogps p = pairwisePolicyLogps(in, name);
  const double lambda = params.beta;
  const torch::Tensor nll = -p.chosenMean.mean();                           // scalar
  const torch::Tensor diff = logOdds(p.chosenMean) - logOdds(p.rejectedMean); // (B,)
  const torch::Tensor logSigma = torch::log_sigmoid(diff);                  // (B,)
  ObjectiveOutput out;
  // finishPairwise averages per-row losses: mean(nll − λ·log σ) = nll − λ·mean(log σ).
  finishPairwise(out, nll - lambda * logSigma, lambda * p.chosenMean, lambda * p.rejectedMean, p);
  out.metrics["nll_loss"] = nll.detach();
  out.metrics["log_odds_ratio"] = logSigma.detach().mean();
  out.metrics["log_odds_chosen"] = diff.detach().mean();
  return out;
}

} // namespace preflab::core
