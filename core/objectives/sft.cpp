// SFT loss: negative log-likelihood of the chosen responses per token.
#include "core/objectives/dpo_family.h"
#include "core/objectives/objective_definition.h"

namespace preflab::core {

// Reads policyChosen (sums) and lenChosen, (B,). Loss: −Σ policyChosen / Σ lenChosen, the NLL
// per response token over the whole batch (long responses weigh more than in a mean of per-row
// means, as in the usual token-level cross-entropy). Metric: "logps/chosen" (mean sum).
// Pure function, any thread; missing inputs throw c10::Error.
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

ObjectiveDefinition sftObjective() {
  ObjectiveDefinition d;
  d.info.name = "sft";
  d.info.title = "SFT (chosen-response NLL)";
  d.info.kind = ObjectiveKind::Sft;
  d.info.summary = "Token-level negative log-likelihood of the chosen responses.";
  d.text = sftLoss;
  return d;
}

} // namespace preflab::core
