// KTO loss with a detached, clamped KL baseline z and per-class weights.
#include "core/objectives/dpo_family.h"
#include "core/objectives/objective_definition.h"

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

// Reads policyCompletion, refCompletion (sums), desirable (bool), all (B,), and optionally
// klPolicy, klRef (K,): sums for mismatched (prompt, completion) pairs. With r = policy − ref
// and z = max(0, mean(klPolicy − klRef)) detached (0 when klPolicy is undefined), a desirable row
// costs λ_D·(1 − σ(β(r − z))) and an undesirable one λ_U·(1 − σ(β(z − r))); the loss is the mean
// over all rows. z is this batch's estimate only: a data-parallel caller that wants TRL's
// all-rank estimate must reduce klPolicy − klRef itself before the call.
// Metrics: "kl" (z), "rewards/chosen" / "rewards/rejected" (mean β·r over desirable /
// undesirable rows; 0 when a group is empty, to avoid a host sync), "rewards/margins",
// "logps/chosen" / "logps/rejected" (mean policy sums per group).
// Pure function, any thread; missing inputs throw c10::Error.
ObjectiveOutput ktoLoss(const ObjectiveInputs &in, const ObjectiveParams &params) {
  const std::string name = "kto";
  const torch::Tensor policy = requireInput(in.policyCompletion, "policyCompletion", name);
  const torch::Tensor ratio = policy - requireInput(in.refCompletion, "refCompletion", name);
  TORCH_CHECK(in.desirable.defined() && in.desirable.sizes() == ratio.sizes(),
              "objective 'kto' needs input desirable, (B,) bool like policyCompletion");
  const torch::Tensor desirable = in.desirable.to(torch::kBool);
  const torch::Tensor z = klBaseline(in, ratio);
  const double beta = params.beta();
  // Desirable rows want r above z, undesirable rows want it below.
  const torch::Tensor signedGap = torch::where(desirable, ratio - z, z - ratio); // (B,)
  const torch::Tensor weights =
      torch::where(desirable, torch::full_like(ratio, params.get("desirable_weight")),
                   torch::full_like(ratio, params.get("undesirable_weight"))); // λ_D or λ_U, (B,)
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

ObjectiveDefinition ktoObjective() {
  ObjectiveDefinition d;
  d.info.name = "kto";
  d.info.title = "KTO";
  d.info.kind = ObjectiveKind::Unpaired;
  d.info.needsReference = true;
  d.info.summary =
      "Sigmoid value of each completion's log-ratio against a detached batch KL baseline, weighted "
      "per desirable/undesirable class.";
  d.info.params = {
      betaParam(0.1, 0.01, 1.0, "KL strength"),
      realParam("desirable_weight", 1.0, 0.0, 1e6, "KTO weight of desirable completions (lambda_D)"),
      realParam("undesirable_weight", 1.0, 0.0, 1e6, "KTO weight of undesirable completions (lambda_U)")};
  d.text = ktoLoss;
  return d;
}

} // namespace preflab::core
