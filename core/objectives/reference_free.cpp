// SimPO, SimPER and ORPO: pairwise losses that need no reference model.
#include "core/objectives/dpo_family.h"
#include "core/objectives/objective_definition.h"

#include <cmath>

namespace preflab::core {

// Each reads the policy's token means ā (policyChosenMean/policyRejectedMean, or the sums and
// lengths to derive them), all (B,), and returns a scalar fp32 loss (batch mean) with the
// pairwise metrics; rewards are β·ā (SimPER: ā). Pure functions: any thread may call them.
// Missing inputs throw c10::Error.

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

// softplus(−β·((ā_w − ā_l) − γ/β)), γ/β = gammaBetaRatio.
ObjectiveOutput simpoLoss(const ObjectiveInputs &in, const ObjectiveParams &params) {
  const std::string name = "simpo";
  const PairwiseLogps p = pairwisePolicyLogps(in, name);
  const double beta = params.beta();
  const torch::Tensor logits = beta * ((p.chosenMean - p.rejectedMean) - params.get("gamma_beta_ratio"));
  ObjectiveOutput out;
  finishPairwise(out, torch::softplus(-logits), beta * p.chosenMean, beta * p.rejectedMean, p, true);
  return out;
}

// exp(ā_l) − exp(ā_w): inverse perplexities, no β and no margin.
ObjectiveOutput simperLoss(const ObjectiveInputs &in, const ObjectiveParams &) {
  const PairwiseLogps p = pairwisePolicyLogps(in, "simper");
  // exp of a mean log-prob (≤ 0) lies in (0, 1]: no overflow, and each side's gradient is
  // weighted by its own inverse perplexity.
  const torch::Tensor losses = torch::exp(p.rejectedMean) - torch::exp(p.chosenMean);
  ObjectiveOutput out;
  finishPairwise(out, losses, p.chosenMean, p.rejectedMean, p, true);
  return out;
}

// −mean(ā_w) + λ·softplus(−(log odds_w − log odds_l)), log odds = ā − log(1 − e^ā), λ = beta.
// Adds "nll_loss", "log_odds_ratio" (mean log σ of the log-odds difference, as TRL logs it)
// and "log_odds_chosen" (mean log-odds difference).
ObjectiveOutput orpoLoss(const ObjectiveInputs &in, const ObjectiveParams &params) {
  const std::string name = "orpo";
  const PairwiseLogps p = pairwisePolicyLogps(in, name);
  const double lambda = params.beta();
  const torch::Tensor nll = -p.chosenMean.mean();                           // scalar
  const torch::Tensor diff = logOdds(p.chosenMean) - logOdds(p.rejectedMean); // (B,)
  const torch::Tensor logSigma = torch::log_sigmoid(diff);                  // (B,)
  ObjectiveOutput out;
  // finishPairwise averages per-row losses: mean(nll − λ·log σ) = nll − λ·mean(log σ).
  finishPairwise(out, nll - lambda * logSigma, lambda * p.chosenMean, lambda * p.rejectedMean, p, true);
  out.metrics["nll_loss"] = nll.detach();
  out.metrics["log_odds_ratio"] = logSigma.detach().mean();
  out.metrics["log_odds_chosen"] = diff.detach().mean();
  return out;
}

namespace {

ObjectiveDefinition referenceFreeObjective(std::string name, std::string title, std::string summary,
                                           ObjectiveFn fn) {
  ObjectiveDefinition d;
  d.info.name = std::move(name);
  d.info.title = std::move(title);
  d.info.kind = ObjectiveKind::Pairwise;
  d.info.usesMeanLogp = true;
  d.info.meanOverRows = true;
  d.info.summary = std::move(summary);
  d.text = std::move(fn);
  return d;
}

} // namespace

ObjectiveDefinition simpoObjective() {
  ObjectiveDefinition d = referenceFreeObjective(
      "simpo", "SimPO",
      "Reference-free logistic loss on beta times the token-mean log-prob margin minus a target margin gamma "
      "(gamma_beta_ratio = gamma/beta).",
      simpoLoss);
  d.info.params = {
      betaParam(2.0, 1.0, 10.0, "reward scale"),
      realParam("gamma_beta_ratio", 0.5, -1e6, 1e6, "SimPO target margin gamma divided by beta")};
  return d;
}

ObjectiveDefinition simperObjective() {
  return referenceFreeObjective(
      "simper", "SimPER",
      "Inverse perplexity of the rejected response minus that of the chosen one; no "
      "hyperparameters, no reference.",
      simperLoss);
}

ObjectiveDefinition orpoObjective() {
  ObjectiveDefinition d = referenceFreeObjective(
      "orpo", "ORPO",
      "Chosen-response NLL plus lambda times the logistic loss on the log odds-ratio of token-mean "
      "likelihoods; no reference.",
      orpoLoss);
  d.info.params = {betaParam(0.1, 0.05, 1.0, "lambda", 1e6, true)};
  return d;
}

} // namespace preflab::core
