// pairObjectiveInputs: the log-probs (or reward scores) an objective needs for rows of pair data.
#include "core/train/objective_inputs.h"

#include "core/text/sequence_batch.h"

#include <torch/torch.h>

namespace preflab::core {

namespace {

torch::Tensor floats(const std::vector<double> &values, torch::Device device) {
  return torch::tensor(values, torch::kFloat64).to(device, torch::kFloat32);
}

} // namespace

ObjectiveInputs pairObjectiveInputs(const CausalLm &policy, const CausalLm *reference,
                                    const ObjectiveInfo &info, const TokenizedData &data,
                                    const std::vector<std::size_t> &rows, std::int64_t maxLength,
                                    std::int64_t maxPromptLength, torch::Device device) {
  const bool sft = info.kind == ObjectiveKind::Sft;
  std::vector<TokenIds> prompts, responses;
  for (auto r : rows) {
    prompts.push_back(data.pairs[r].prompt);
    responses.push_back(data.pairs[r].chosen);
  }
  if (!sft)
    for (auto r : rows) {
      prompts.push_back(data.pairs[r].prompt);
      responses.push_back(data.pairs[r].rejected);
    }
  auto batch = buildSequenceBatch(prompts, responses, maxLength, maxPromptLength, 0, device);
  const auto B = std::int64_t(rows.size());
  ObjectiveInputs in;
  auto half = [&](const torch::Tensor &t, int i) { return sft ? t : t.narrow(0, i * B, B); };
  in.lenChosen = half(batch.lengths, 0);
  if (!sft)
    in.lenRejected = half(batch.lengths, 1);
  if (info.kind == ObjectiveKind::Reward) {
    auto scores = policy->score(batch.ids, batch.lastIndex);
    in.rewardChosen = half(scores, 0);
    in.rewardRejected = half(scores, 1);
    return in;
  }
  auto lp = sequenceLogps(policy, batch);
  in.policyChosen = half(lp.sum, 0);
  in.policyChosenMean = half(lp.mean, 0);
  if (!sft) {
    in.policyRejected = half(lp.sum, 1);
    in.policyRejectedMean = half(lp.mean, 1);
  }
  if (!info.needsReference)
    return in;
  if (data.hasReference()) {
    std::vector<double> rc, rr;
    for (auto r : rows) {
      rc.push_back(*data.pairs[r].refChosen);
      rr.push_back(*data.pairs[r].refRejected);
    }
    in.refChosen = floats(rc, device);
    in.refRejected = floats(rr, device);
  } else if (reference) {
    torch::NoGradGuard noGrad;
    auto ref = sequenceLogps(*reference, batch).sum;
    in.refChosen = half(ref, 0);
    in.refRejected = half(ref, 1);
  }
  return in;
}

} // namespace preflab::core
