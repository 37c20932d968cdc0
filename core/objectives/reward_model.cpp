// Bradley–Terry reward-model loss with optional margin and reward centring.
#include "core/objectives/reward_model.h"

#include "core/objectives/dpo_family.h"

namespace preflab::core {

ObjectiveOutput rewardModelLoss(const ObjectiveInputs &in, const ObjectiveParams &params) {
  const std::string name = "reward";
  checkParam(params.centerRewardsCoefficient, "center_rewards_coefficient", name, 0.0, false, 1e6,
             false);
  const torch::Tensor rw = requireInput(in.rewardChosen, "rewardChosen", name);
  const torch::Tensor rl = requireInput(in.rewardRejected, "rewardRejected", name);
  TORCH_CHECK(rw.sizes() == rl.sizes(),
              "objective 'reward': rewardChosen and rewardRejected differ in batch size");
  ObjectiveOutput out;
  out.loss = torch::softplus(-(rw - rl - params.rewardMargin)).mean();
  if (params.centerRewardsCoefficient > 0.0)
    out.loss = out.loss + params.centerRewardsCoefficient * (rw + rl).pow(2).mean();
  const torch::Tensor w = rw.detach();
  const torch::Tensor l = rl.detach();
  out.metrics["rewards/chosen"] = w.mean();
  out.metrics["rewards/rejected"] = l.mean();
  out.metrics["rewards/margins"] = (w - l).mean();
  out.metrics["rewards/accuracies"] = (w > l).to(torch::kFloat32).mean();
  return out;
}

} // namespace preflab::core
