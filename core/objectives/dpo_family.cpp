// DPO-family losses and the pairwise helpers the other objective sources share.
#include "core/objectives/dpo_family.h"

#include "core/objectives/objective_definition.h"

#include <algorithm>
#include <cmath>

namespace preflab::core {

torch::Tensor requireInput(const torch::Tensor &t, const char *field,
                           const std::string &objective) {
  TORCH_CHECK(t.defined(), "objective '", objective, "' needs input ", field);
  TORCH_CHECK(t.dim() == 1, "objective '", objective, "': input ", field,
              " must be one-dimensional (B,), got ", t.dim(), " dimensions");
  return t.to(torch::kFloat32);
}

namespace {

// One side's sum and mean; whichever is missing comes from the other and the token count.
void completeSide(const torch::Tensor &sum, const torch::Tensor &mean, const torch::Tensor &len,
                  const char *side, const std::string &objective, torch::Tensor &sumOut,
                  torch::Tensor &meanOut) {
  const std::string sumField = std::string("policy") + side;
  const std::string meanField = sumField + "Mean";
  const std::string lenField = std::string("len") + side;
  if (sum.defined() && mean.defined()) {
    sumOut = requireInput(sum, sumField.c_str(), objective);
    meanOut = requireInput(mean, meanField.c_str(), objective);
    return;
  }
  TORCH_CHECK(sum.defined() || mean.defined(), "objective '", objective, "' needs input ",
              sumField, " or ", meanField);
  // Token counts of 0 would give 0/0; an empty response has no mean log-prob anyway.
  const torch::Tensor n = requireInput(len, lenField.c_str(), objective).clamp_min(1.0);
  if (sum.defined()) {
    sumOut = requireInput(sum, sumField.c_str(), objective);
    meanOut = sumOut / n;
  } else {
    meanOut = requireInput(mean, meanField.c_str(), objective);
    sumOut = meanOut * n;
  }
}

// Policy and reference log-ratios of a DPO-family batch, all (B,) fp32.
struct DpoTerms {
  PairwiseLogps policy;
  torch::Tensor chosenRatio;   // log π_θ(y_w) − log π_ref(y_w)
  torch::Tensor rejectedRatio; // log π_θ(y_l) − log π_ref(y_l)
};

DpoTerms dpoTerms(const ObjectiveInputs &in, const std::string &objective) {
  DpoTerms terms;
  terms.policy = pairwisePolicyLogps(in, objective);
  terms.chosenRatio = terms.policy.chosen - requireInput(in.refChosen, "refChosen", objective);
  terms.rejectedRatio =
      terms.policy.rejected - requireInput(in.refRejected, "refRejected", objective);
  // Compare against the policy's shape too: a (1,) reference would otherwise broadcast silently.
  TORCH_CHECK(terms.chosenRatio.sizes() == terms.policy.chosen.sizes() &&
                  terms.rejectedRatio.sizes() == terms.policy.rejected.sizes(),
              "objective '", objective, "': reference and policy inputs differ in batch size");
  return terms;
}

ObjectiveOutput dpoStyle(const ObjectiveInputs &in, const ObjectiveParams &params,
                         const std::string &objective, bool robust) {
  const DpoTerms t = dpoTerms(in, objective);
  const double beta = params.beta();
  const double eps = params.get("label_smoothing");
  const torch::Tensor logits = beta * (t.chosenRatio - t.rejectedRatio); // β·h, (B,)
  torch::Tensor losses;
  if (robust) // unbiased estimator: the flipped-label term enters with a minus sign
    losses = ((1.0 - eps) * torch::softplus(-logits) - eps * torch::softplus(logits)) /
             (1.0 - 2.0 * eps);
  else
    losses = (1.0 - eps) * torch::softplus(-logits) + eps * torch::softplus(logits);
  ObjectiveOutput out;
  finishPairwise(out, losses, beta * t.chosenRatio, beta * t.rejectedRatio, t.policy);
  return out;
}

} // namespace

PairwiseLogps pairwisePolicyLogps(const ObjectiveInputs &in, const std::string &objective) {
  PairwiseLogps p;
  completeSide(in.policyChosen, in.policyChosenMean, in.lenChosen, "Chosen", objective, p.chosen,
               p.chosenMean);
  completeSide(in.policyRejected, in.policyRejectedMean, in.lenRejected, "Rejected", objective,
               p.rejected, p.rejectedMean);
  TORCH_CHECK(p.chosen.sizes() == p.rejected.sizes() &&
                  p.chosenMean.sizes() == p.chosen.sizes() &&
                  p.rejectedMean.sizes() == p.rejected.sizes(),
              "objective '", objective, "': chosen and rejected inputs differ in batch size");
  return p;
}

void finishPairwise(ObjectiveOutput &out, const torch::Tensor &losses,
                    const torch::Tensor &chosenRewards, const torch::Tensor &rejectedRewards,
                    const PairwiseLogps &policy, bool logpsAsMeans) {
  out.loss = losses.mean();
  const torch::Tensor rw = chosenRewards.detach();
  const torch::Tensor rl = rejectedRewards.detach();
  auto fraction = [](const torch::Tensor &flags) { return flags.to(torch::kFloat32).mean(); };
  out.metrics["rewards/chosen"] = rw.mean();
  out.metrics["rewards/rejected"] = rl.mean();
  out.metrics["rewards/margins"] = (rw - rl).mean();
  out.metrics["rewards/accuracies"] = fraction(rw > rl); // ties count as wrong, as in TRL
  out.metrics["logps/chosen"] = (logpsAsMeans ? policy.chosenMean : policy.chosen).detach().mean();
  out.metrics["logps/rejected"] = (logpsAsMeans ? policy.rejectedMean : policy.rejected).detach().mean();
  // Ranking accuracy (Chen et al. 2024) compares the policy alone, not its reward.
  out.metrics["ranking/accuracy"] = fraction(policy.chosen.detach() >= policy.rejected.detach());
  out.metrics["ranking/accuracy_len_norm"] =
      fraction(policy.chosenMean.detach() >= policy.rejectedMean.detach());
}

ObjectiveOutput dpoLoss(const ObjectiveInputs &in, const ObjectiveParams &params) {
  return dpoStyle(in, params, "dpo", false);
}

ObjectiveOutput cdpoLoss(const ObjectiveInputs &in, const ObjectiveParams &params) {
  return dpoStyle(in, params, "cdpo", false);
}

ObjectiveOutput robustDpoLoss(const ObjectiveInputs &in, const ObjectiveParams &params) {
  return dpoStyle(in, params, "robust", true);
}

ObjectiveOutput ipoLoss(const ObjectiveInputs &in, const ObjectiveParams &params) {
  const std::string name = "ipo";
  const DpoTerms t = dpoTerms(in, name);
  // TRL divides each side's log-ratio by its own token count (the eric-mitchell code uses sums);
  // the logged rewards use the same per-token ratios, as TRL's do.
  const torch::Tensor chosen =
      t.chosenRatio / requireInput(in.lenChosen, "lenChosen", name).clamp_min(1.0);
  const torch::Tensor rejected =
      t.rejectedRatio / requireInput(in.lenRejected, "lenRejected", name).clamp_min(1.0);
  const double tau = params.beta();
  const torch::Tensor losses = (chosen - rejected - 1.0 / (2.0 * tau)).pow(2);
  ObjectiveOutput out;
  finishPairwise(out, losses, tau * chosen, tau * rejected, t.policy);
  return out;
}

ObjectiveOutput hingeLoss(const ObjectiveInputs &in, const ObjectiveParams &params) {
  const std::string name = "hinge";
  const DpoTerms t = dpoTerms(in, name);
  const double beta = params.beta();
  const torch::Tensor losses = torch::relu(1.0 - beta * (t.chosenRatio - t.rejectedRatio));
  ObjectiveOutput out;
  finishPairwise(out, losses, beta * t.chosenRatio, beta * t.rejectedRatio, t.policy);
  return out;
}

ObjectiveOutput rdpoLoss(const ObjectiveInputs &in, const ObjectiveParams &params) {
  const std::string name = "rdpo";
  const DpoTerms t = dpoTerms(in, name);
  const torch::Tensor lenDiff = requireInput(in.lenChosen, "lenChosen", name) -
                                requireInput(in.lenRejected, "lenRejected", name); // (B,)
  const double beta = params.beta();
  const torch::Tensor logits = beta * (t.chosenRatio - t.rejectedRatio) + params.get("rdpo_alpha") * lenDiff;
  const torch::Tensor losses = torch::softplus(-logits);
  ObjectiveOutput out;
  finishPairwise(out, losses, beta * t.chosenRatio, beta * t.rejectedRatio, t.policy);
  return out;
}

// ---- Declarations (registered in objective_list.h). ----

namespace {

// log(q / (1 − q)) with q kept inside [1e-3, 1 − 1e-3]: unanimous raters would put the optimum at
// an infinite margin (the ranking-accuracy paper's α clamp).
double clampedLogit(double q) {
  constexpr double kEps = 1e-3;
  q = std::clamp(q, kEps, 1.0 - kEps);
  return std::log(q) - std::log1p(-q);
}

double softplus(double x) { return x > 30 ? x : std::log1p(std::exp(x)); }

// σ(βh*) = q, the probability the optimum assigns to "chosen wins".
double logisticOptimum(const ObjectiveParams &params, double q) { return clampedLogit(q) / params.beta(); }

ObjectiveParam labelSmoothingParam(bool robust) {
  return realParam("label_smoothing", 0.0, 0.0, 0.5, "label-flip rate epsilon of the preference labels",
                   robust);
}

// cDPO (and DPO with label_smoothing): σ(βh*) = (1 − ε)α + ε(1 − α).
double conservativeOptimum(const ObjectiveParams &p, const PairFacts &f) {
  const double eps = p.get("label_smoothing");
  return logisticOptimum(p, (1.0 - eps) * f.raterFraction + eps * (1.0 - f.raterFraction));
}

ObjectiveDefinition dpoFamilyObjective(std::string name, std::string title, std::string betaMeaning,
                                       std::string summary, ObjectiveFn fn) {
  ObjectiveDefinition d;
  d.info.name = std::move(name);
  d.info.title = std::move(title);
  d.info.kind = ObjectiveKind::Pairwise;
  d.info.needsReference = true;
  d.info.meanOverRows = true;
  d.info.summary = std::move(summary);
  d.info.params = {betaParam(0.1, 0.01, 1.0, std::move(betaMeaning))};
  d.text = std::move(fn);
  return d;
}

} // namespace

ObjectiveDefinition dpoObjective() {
  ObjectiveDefinition d = dpoFamilyObjective(
      "dpo", "DPO (sigmoid)", "KL strength",
      "Logistic loss on beta times the policy-minus-reference log-ratio margin (sequence sums); "
      "label_smoothing > 0 mixes in the flipped-label loss (conservative DPO; TRL's sigmoid loss "
      "ignores label_smoothing).",
      dpoLoss);
  d.info.startsAtLn2 = true;
  d.info.params.push_back(labelSmoothingParam(false));
  d.info.optimalMargin = conservativeOptimum;
  d.info.marginLoss = [](const ObjectiveParams &p, double h, const PairFacts &) -> std::optional<double> {
    if (p.get("label_smoothing") != 0.0) // the mix has its minimum at a finite margin
      return std::nullopt;
    return softplus(-p.beta() * h);
  };
  return d;
}

ObjectiveDefinition ipoObjective() {
  ObjectiveDefinition d = dpoFamilyObjective(
      "ipo", "IPO", "tau (regularisation)",
      "Squared distance of the log-ratio margin from 1/(2 tau); each side's log-ratio is "
      "divided by its token count first, as TRL does.",
      ipoLoss);
  d.info.optimalMargin = [](const ObjectiveParams &p, const PairFacts &f) {
    return (2.0 * f.raterFraction - 1.0) / (2.0 * p.beta()); // α(h − m)² + (1 − α)(h + m)² is least there
  };
  d.info.marginOnTokenMeans = true;
  return d;
}

ObjectiveDefinition cdpoObjective() {
  ObjectiveDefinition d = dpoFamilyObjective(
      "cdpo", "cDPO (conservative DPO)", "KL strength",
      "DPO's logistic loss mixed with the flipped-label loss by label_smoothing epsilon in [0, 0.5].",
      cdpoLoss);
  d.info.startsAtLn2 = true;
  d.info.params.push_back(labelSmoothingParam(false));
  d.info.optimalMargin = conservativeOptimum;
  return d;
}

ObjectiveDefinition robustObjective() {
  ObjectiveDefinition d = dpoFamilyObjective(
      "robust", "Robust DPO", "KL strength",
      "Unbiased DPO under a label-flip rate epsilon = label_smoothing in [0, 0.5).", robustDpoLoss);
  d.info.startsAtLn2 = true;
  d.info.params.push_back(labelSmoothingParam(true));
  // σ(βh*) = (α − ε)/(1 − 2ε): the estimator undoes the flips it assumes.
  d.info.optimalMargin = [](const ObjectiveParams &p, const PairFacts &f) {
    const double eps = p.get("label_smoothing");
    return logisticOptimum(p, (f.raterFraction - eps) / (1.0 - 2.0 * eps));
  };
  d.info.marginLoss = [](const ObjectiveParams &p, double h, const PairFacts &) -> std::optional<double> {
    const double eps = p.get("label_smoothing"), x = p.beta() * h;
    return ((1.0 - eps) * softplus(-x) - eps * softplus(x)) / (1.0 - 2.0 * eps);
  };
  return d;
}

ObjectiveDefinition hingeObjective() {
  ObjectiveDefinition d =
      dpoFamilyObjective("hinge", "Hinge (RSO)", "inverse margin",
                         "Hinge on beta times the log-ratio margin: zero once it exceeds 1/beta.", hingeLoss);
  // No optimum: every margin past 1/β has zero loss.
  d.info.marginLoss = [](const ObjectiveParams &p, double h, const PairFacts &) -> std::optional<double> {
    return std::max(0.0, 1.0 - p.beta() * h);
  };
  return d;
}

ObjectiveDefinition rdpoObjective() {
  ObjectiveDefinition d = dpoFamilyObjective(
      "rdpo", "R-DPO (length-regularised)", "KL strength",
      "DPO with rdpo_alpha times the chosen-minus-rejected token count added to the margin.", rdpoLoss);
  // At zero margin its loss is softplus(−α·Δlen), ln 2 only for equal lengths: not startsAtLn2.
  d.info.params.push_back(realParam("rdpo_alpha", 0.01, -1e6, 1e6,
                                    "R-DPO length penalty per token of chosen-minus-rejected length"));
  // σ(βh* + α_len·Δlen) = α: DPO's optimum shifted by the length term.
  d.info.optimalMargin = [](const ObjectiveParams &p, const PairFacts &f) {
    return (clampedLogit(f.raterFraction) - p.get("rdpo_alpha") * (f.lenChosen - f.lenRejected)) / p.beta();
  };
  d.info.marginLoss = [](const ObjectiveParams &p, double h, const PairFacts &f) -> std::optional<double> {
    return softplus(-(p.beta() * h + p.get("rdpo_alpha") * (f.lenChosen - f.lenRejected)));
  };
  return d;
}

} // namespace preflab::core
