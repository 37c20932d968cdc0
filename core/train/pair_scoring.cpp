// Batched response scoring for evaluation, ranking analysis and the reference cache.
#include "core/train/pair_scoring.h"

#include "core/text/sequence_batch.h"

#include <torch/torch.h>

#include <algorithm>

namespace preflab::core {

ResponseScores scoreResponses(const CausalLm &model, const std::vector<const TokenIds *> &prompts,
                              const std::vector<const TokenIds *> &responses, const ScoringOptions &o) {
  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  ResponseScores out;
  const auto device = model->device();
  // The logits and their log-softmax (2 x rows x max_length x vocabulary floats) dominate: with a
  // real vocabulary (Qwen3's 151,669 ids) a batch of 64 rows would need tens of GiB, so fewer
  // rows go through at once. The sums do not depend on how rows are grouped.
  const double rowBytes = 2.0 * 4.0 * double(o.maxLength) * double(model->vocabSize());
  const auto rows =
      std::size_t(std::clamp<double>(double(kScoringBytes) / rowBytes, 1.0, double(o.batchSize)));
  for (std::size_t start = 0; start < prompts.size(); start += rows) {
    const auto end = std::min(prompts.size(), start + rows);
    std::vector<TokenIds> ps, rs;
    for (auto i = start; i < end; ++i) {
      ps.push_back(*prompts[i]);
      rs.push_back(*responses[i]);
    }
    auto batch = buildSequenceBatch(ps, rs, o.maxLength, o.maxPromptLength, 0, device);
    auto sums = sequenceLogps(model, batch, o.temperature).sum.to(torch::kCPU, torch::kFloat64).contiguous();
    auto lens = batch.lengths.to(torch::kCPU, torch::kFloat64).contiguous();
    out.sums.insert(out.sums.end(), sums.data_ptr<double>(), sums.data_ptr<double>() + sums.numel());
    out.lengths.insert(out.lengths.end(), lens.data_ptr<double>(), lens.data_ptr<double>() + lens.numel());
    if (o.progress)
      o.progress(double(end) / double(prompts.size()));
  }
  model->train(wasTraining);
  return out;
}

std::vector<double> rewardScores(const CausalLm &model, const std::vector<const TokenIds *> &prompts,
                                 const std::vector<const TokenIds *> &responses, const ScoringOptions &o) {
  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  std::vector<double> out;
  out.reserve(prompts.size());
  const auto rows = std::size_t(std::max<std::int64_t>(1, o.batchSize));
  for (std::size_t start = 0; start < prompts.size(); start += rows) {
    const auto end = std::min(prompts.size(), start + rows);
    std::vector<TokenIds> ps, rs;
    for (auto i = start; i < end; ++i) {
      ps.push_back(*prompts[i]);
      rs.push_back(*responses[i]);
    }
    const auto batch = buildSequenceBatch(ps, rs, o.maxLength, o.maxPromptLength, 0, model->device());
    const auto scores =
        model->score(batch.ids, batch.lastIndex).to(torch::kCPU, torch::kFloat64).contiguous();
    out.insert(out.end(), scores.data_ptr<double>(), scores.data_ptr<double>() + scores.numel());
    if (o.progress)
      o.progress(double(end) / double(prompts.size()));
  }
  model->train(wasTraining);
  return out;
}

std::vector<PairScore> scorePairs(const CausalLm &policy, const CausalLm *reference,
                                  const TokenizedData &data, const ScoringOptions &options) {
  std::vector<const TokenIds *> ps, rs;
  for (const auto &p : data.pairs) {
    ps.insert(ps.end(), {&p.prompt, &p.prompt});
    rs.insert(rs.end(), {&p.chosen, &p.rejected});
  }
  const auto pol = scoreResponses(policy, ps, rs, options);
  ResponseScores ref;
  if (reference)
    ref = scoreResponses(*reference, ps, rs, options);
  std::vector<PairScore> out;
  for (std::size_t i = 0; i < data.pairs.size(); ++i) {
    PairScore s;
    s.id = data.pairs[i].id;
    s.logpChosen = pol.sums[2 * i];
    s.logpRejected = pol.sums[2 * i + 1];
    s.lenChosen = pol.lengths[2 * i];
    s.lenRejected = pol.lengths[2 * i + 1];
    if (reference) {
      s.refChosen = ref.sums[2 * i];
      s.refRejected = ref.sums[2 * i + 1];
    } else {
      s.refChosen = data.pairs[i].refChosen;
      s.refRejected = data.pairs[i].refRejected;
    }
    s.raterFraction = data.pairs[i].raterFraction;
    out.push_back(s);
  }
  return out;
}

std::vector<PairTexts> pairTexts(const TextPreferenceData &data) {
  std::vector<PairTexts> out;
  for (const auto &p : data.pairs)
    out.push_back({p.id, p.prompt, p.chosen, p.rejected});
  return out;
}

} // namespace preflab::core
