// SFT loss: negative log-likelihood of the chosen responses per token.
#include "core/objectives/sft.h"

#include "core/objectives/dpo_family.h"

namespace preflab::core {

ObjectiveOutput sftLoss(const ObjectiveInputs &in, const ObjectiveParams &) {
  const std::string name = "sft";
  const torch::Tensor logp = requireInput(in.policyChosen, "policyChosen", name);
  const torch::Tensor len = requireInput(in.lenChosen, "lenChosen", name);
  TORCH_CHECK(logp.sizes() == len.sizes(),
              "objective 'sft': policyChosen and lenChosen differ in batch size");
  ObjectiveOutput out;
  // A batch of empty responses has no tokens to fit; the clamp keeps 0/0 out of the loss.
  out.loss = -logp.sum() / len.sum().clamp_min(1.0);
  out.metrics["logps/chosen"] = logp.detach().mean();
  return out;
}

} // namespace preflab::core
