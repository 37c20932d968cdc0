// KTO loss with a detached, clamped KL baseline z and per-class weights.
#include "core/objectives/kto.h"

#include "core/objectives/dpo_family.h"

namespace preflab::core {

namespace {

// Mean of values over the rows where mask holds; 0 for an empty group. values, mask: (B,).
torch::Tensor ktoGroupMean(const torch::Tensor &values, const torch::Tensor &mask) {
  const torch::Tensor m = mask.to(values.scalar_type());
  return (values * m).sum() / m.sum().clamp_min(1.0);
}

// z = max(0, mean(klPolicy − klRef)), detached; a zero scalar when no KL batch is given.
torch::Tensor klBaseline(const ObjectiveInputs &in, const torch::Tensor &like) {
  if (!in.klPolicy.defined())
    return torch::zeros({}, like.options());
  const torch::Tensor kl =
      requireInput(in.klPolicy, "klPolicy", "kto") - requireInput(in.klRef, "klRef", "kto"); // (K,)
  return kl.mean().clamp_min(0.0).detach();
}

} // namespace

ObjectiveOutput ktoLoss(const ObjectiveInputs &in, const ObjectiveParams &params) {
  const std::string name = "kto";
  checkParam(params.beta, "beta", name, 0.0, true, 1e6, false);
  checkParam(params.desirableWeight, "desirable_weight", name, 0.0, false, 1e6, false);
  checkParam(params.undesirableWeight, "undesirable_weight", name, 0.0, false, 1e6, false);
  const torch::Tensor policy = requireInput(in.policyCompletion, "policyCompletion", name);
  const torch::Tensor ratio = policy - requireInput(in.refCompletion, "refCompletion", name);
  TORCH_CHECK(in.desirable.defined() && in.desirable.sizes() == ratio.sizes(),
              "objective 'kto' needs input desirable, (B,) bool like policyCompletion");
  const torch::Tensor desirable = in.desirable.to(torch::kBool);
  const torch::Tensor z = klBaseline(in, ratio);
  const double beta = params.beta;
  // Desirable rows want r above z, undesirable rows want it below.
  const torch::Tensor signedGap = torch::where(desirable, ratio - z, z - ratio); // (B,)
  const torch::Tensor weights =
      torch::where(desirable, torch::full_like(ratio, params.desirableWeight),
                   torch::full_like(ratio, params.undesirableWeight)); // λ_D or λ_U, (B,)
  ObjectiveOutput out;
  out.loss = (weights * (1.0 - torch::sigmoid(beta * signedGap))).mean();
  const torch::Tensor rewards = (beta * ratio).detach();
  const torch::Tensor undesirable = desirable.logical_not();
  out.metrics["kl"] = z;
  out.metrics["rewards/chosen"] = ktoGroupMean(rewards, desirable);
  out.metrics["rewards/rejected"] = ktoGroupMean(rewards, undesirable);
  out.metrics["rewards/margins"] = out.metrics["rewards/chosen"] - out.metrics["rewards/rejected"];
  out.metrics["logps/chosen"] = ktoGroupMean(policy.detach(), desirable);
  out.metrics["logps/rejected"] = ktoGroupMean(policy.detach(), undesirable);
  return out;
}

} // namespace preflab::core
