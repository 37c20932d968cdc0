// Sequence batches and log-probs: one forward, labels shifted by one, mask by construction.
#include "core/text/sequence_batch.h"

#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>

namespace preflab::core {

void truncateToFit(TokenIds &prompt, TokenIds &response, std::int64_t maxLength,
                   std::int64_t maxPromptLength) {
  const auto total = std::int64_t(prompt.size() + response.size());
  if (total <= maxLength)
    return;
  std::int64_t keepPrompt = std::min<std::int64_t>(prompt.size(), maxPromptLength);
  keepPrompt = std::min<std::int64_t>(keepPrompt, maxLength - 1);
  if (!prompt.empty())
    keepPrompt = std::max<std::int64_t>(keepPrompt, 1); // the first response token needs a context
  if (keepPrompt < std::int64_t(prompt.size()))
    prompt.erase(prompt.begin(), prompt.end() - keepPrompt);
  const std::int64_t room = maxLength - std::int64_t(prompt.size());
  if (std::int64_t(response.size()) > room)
    response.resize(std::size_t(room));
}

SequenceBatch buildSequenceBatch(const std::vector<TokenIds> &prompts,
                                 const std::vector<TokenIds> &responses, std::int64_t maxLength,
                                 std::int64_t maxPromptLength, std::int64_t padId,
                                 torch::Device device) {
  if (prompts.size() != responses.size() || prompts.empty())
    throw std::invalid_argument("buildSequenceBatch: prompts and responses must be non-empty and equal in number");
  const auto n = std::int64_t(prompts.size());
  std::vector<TokenIds> ps(prompts), rs(responses);
  std::int64_t T = 2;
  for (std::int64_t i = 0; i < n; ++i) {
    truncateToFit(ps[i], rs[i], maxLength, maxPromptLength);
    if (rs[i].empty())
      throw std::invalid_argument("buildSequenceBatch: row " + std::to_string(i) + " has an empty response");
    if (ps[i].empty()) // its first label would sit before the row (see encodePrompt)
      throw std::invalid_argument("buildSequenceBatch: row " + std::to_string(i) + " has an empty prompt");
    T = std::max<std::int64_t>(T, std::int64_t(ps[i].size() + rs[i].size()));
  }
  auto ids = torch::full({n, T}, padId, torch::kLong);
  auto mask = torch::zeros({n, T - 1}, torch::kFloat32);
  auto last = torch::zeros({n}, torch::kLong);
  auto lengths = torch::zeros({n}, torch::kFloat32);
  auto idsA = ids.accessor<std::int64_t, 2>();
  auto maskA = mask.accessor<float, 2>();
  SequenceBatch batch;
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t t = 0;
    for (auto id : ps[i])
      idsA[i][t++] = id;
    for (auto id : rs[i]) {
      maskA[i][t - 1] = 1.0f; // label at position t is predicted by position t-1
      idsA[i][t++] = id;
    }
    last[i] = t - 1;
    lengths[i] = float(rs[i].size());
    batch.promptLengths.push_back(std::int64_t(ps[i].size()));
  }
  batch.ids = ids.to(device);
  batch.labelMask = mask.to(device);
  batch.lastIndex = last.to(device);
  batch.lengths = lengths.to(device);
  return batch;
}

torch::Tensor tokenLogps(const CausalLm &model, const SequenceBatch &batch, double temperature) {
  using torch::indexing::None;
  using torch::indexing::Slice;
  auto input = batch.ids.index({Slice(), Slice(None, -1)});  // (N, T-1)
  auto labels = batch.ids.index({Slice(), Slice(1, None)});  // (N, T-1)
  auto logits = model->forward(input).to(torch::kFloat32);   // (N, T-1, V)
  if (temperature != 1.0)
    logits = logits / temperature;
  auto lp = torch::log_softmax(logits, -1).gather(-1, labels.unsqueeze(-1)).squeeze(-1);
  return lp * batch.labelMask;
}

SequenceLogps sequenceLogps(const CausalLm &model, const SequenceBatch &batch, double temperature) {
  auto lp = tokenLogps(model, batch, temperature);
  SequenceLogps out;
  out.sum = lp.sum(1);
  out.mean = out.sum / batch.lengths.clamp_min(1.0);
  return out;
}

} // namespace preflab::core
