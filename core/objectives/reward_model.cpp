// Bradley–Terry reward-model loss with optional margin and reward centring.
#include "core/objectives/dpo_family.h"
#include "core/objectives/objective_definition.h"

namespace preflab::core {

// Reads rewardChosen, rewardRejected, (B,). Loss: mean softplus(−(r_w − r_l − m)) with margin
// m = rewardMargin, plus c·mean((r_w + r_l)²) when c = centerRewardsCoefficient > 0 (keeps the
// rewards centred on 0). Metrics: "rewards/chosen", "rewards/rejected" (means), "rewards/margins"
// (mean r_w − r_l), "rewards/accuracies" (r_w > r_l, ties wrong). Pure function, any thread.
// Missing inputs throw c10::Error.
ObjectiveOutput rewardModelLoss(const ObjectiveInputs &in, const ObjectiveParams &params) {
  const std::string name = "reward";
  const torch::Tensor rw = requireInput(in.rewardChosen, "rewardChosen", name);
  const torch::Tensor rl = requireInput(in.rewardRejected, "rewardRejected", name);
  TORCH_CHECK(rw.sizes() == rl.sizes(),
              "objective 'reward': rewardChosen and rewardRejected differ in batch size");
  ObjectiveOutput out;
  const double center = params.get("center_rewards_coefficient");
  out.loss = torch::softplus(-(rw - rl - params.get("reward_margin"))).mean();
  if (center > 0.0)
    out.loss = out.loss + center * (rw + rl).pow(2).mean();
  const torch::Tensor w = rw.detach();
  const torch::Tensor l = rl.detach();
  out.metrics["rewards/chosen"] = w.mean();
  out.metrics["rewards/rejected"] = l.mean();
  out.metrics["rewards/margins"] = (w - l).mean();
  out.metrics["rewards/accuracies"] = (w > l).to(torch::kFloat32).mean();
  return out;
}

ObjectiveDefinition rewardObjective() {
  ObjectiveDefinition d;
  d.info.name = "reward";
  d.info.title = "Reward model (Bradley-Terry)";
  d.info.kind = ObjectiveKind::Reward;
  d.info.startsAtLn2 = true;
  d.info.meanOverRows = true;
  d.info.summary =
      "Logistic loss on the chosen-minus-rejected reward gap, with optional margin and reward centring.";
  d.info.params = {realParam("reward_margin", 0.0, -1e6, 1e6,
                             "reward model: margin m the chosen reward must beat the rejected one by"),
                   realParam("center_rewards_coefficient", 0.0, 0.0, 1e6,
                             "reward model: weight of the squared mean reward (centring)")};
  d.text = rewardModelLoss;
  return d;
}

} // namespace preflab::core
