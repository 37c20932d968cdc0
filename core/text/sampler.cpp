// Sampler: batched by prompt length, top-k / top-p filtering, per-row deterministic draws.
#include "core/text/sampler.h"

#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>

namespace preflab::core {

namespace {

// Filters and normalises one row of logits (V,) on the CPU into probabilities.
std::vector<double> filteredProbs(const float *logits, std::int64_t V, const SamplingOptions &o) {
  std::vector<double> p(static_cast<std::size_t>(V));
  std::vector<std::int64_t> order(static_cast<std::size_t>(V));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return logits[a] > logits[b]; });
  const double maxLogit = logits[order[0]];
  std::int64_t keep = o.topK > 0 ? std::min(o.topK, V) : V;
  double total = 0.0;
  for (std::int64_t r = 0; r < keep; ++r) {
    const auto id = order[std::size_t(r)];
    p[std::size_t(id)] = std::exp((logits[id] - maxLogit) / o.temperature);
    total += p[std::size_t(id)];
  }
  if (o.topP < 1.0) { // nucleus: smallest prefix of the sorted tokens with mass >= topP
    double mass = 0.0;
    std::int64_t r = 0;
    for (; r < keep; ++r) {
      mass += p[std::size_t(order[std::size_t(r)])] / total;
      if (mass >= o.topP) { ++r; break; }
    }
    for (std::int64_t s = r; s < keep; ++s)
      p[std::size_t(order[std::size_t(s)])] = 0.0;
  }
  total = std::accumulate(p.begin(), p.end(), 0.0);
  for (auto &x : p)
    x /= total;
  return p;
}

std::int64_t draw(const std::vector<double> &probs, std::mt19937_64 &rng) {
  const double u = double(rng() >> 11) * (1.0 / 9007199254740992.0); // 53-bit uniform in [0,1)
  double acc = 0.0;
  for (std::size_t i = 0; i < probs.size(); ++i) {
    acc += probs[i];
    if (u < acc)
      return std::int64_t(i);
  }
  for (std::size_t i = probs.size(); i-- > 0;)
    if (probs[i] > 0)
      return std::int64_t(i);
  return 0;
}

// Generates for rows that share one prompt length.
void generateGroup(const CausalLm &model, const std::vector<TokenIds> &prompts,
                   const std::vector<std::size_t> &rows, const std::vector<std::uint64_t> &seeds,
                   const SamplingOptions &o, std::int64_t eosId, std::vector<TokenIds> &out) {
  const auto device = model->device();
  const auto block = model->blockSize();
  if (std::int64_t(prompts[rows[0]].size()) >= block)
    throw std::invalid_argument("generate: prompt of " + std::to_string(prompts[rows[0]].size()) +
                                " tokens leaves no room in block_size " + std::to_string(block));
  std::vector<TokenIds> seqs;
  std::vector<std::mt19937_64> rngs;
  for (auto r : rows) {
    seqs.push_back(prompts[r]);
    rngs.emplace_back(seeds[r]);
  }
  std::vector<bool> done(rows.size(), false);
  // Prefill the prompts once, then feed one token per step through the KV cache.
  const auto promptLen = std::int64_t(seqs[0].size());
  const auto steps = std::min(o.maxNewTokens, block - promptLen);
  auto ids = torch::empty({std::int64_t(rows.size()), promptLen}, torch::kLong);
  for (std::size_t i = 0; i < rows.size(); ++i)
    std::copy(seqs[i].begin(), seqs[i].end(), ids[std::int64_t(i)].data_ptr<std::int64_t>());
  KvCache cache;
  auto logits = model->forwardCached(ids.to(device), cache).select(1, promptLen - 1);
  for (std::int64_t step = 0; step < steps; ++step) {
    auto host = logits.to(torch::kCPU, torch::kFloat32).contiguous();
    const auto V = host.size(1);
    auto next = torch::empty({std::int64_t(rows.size()), 1}, torch::kLong);
    bool all = true;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const float *row = host.data_ptr<float>() + std::int64_t(i) * V;
      std::int64_t token;
      if (o.temperature <= 0.0)
        token = std::max_element(row, row + V) - row;
      else
        token = draw(filteredProbs(row, V, o), rngs[i]); // drawn even when done: keeps streams aligned
      if (!done[i]) {
        if (token == eosId || std::find(o.stopIds.begin(), o.stopIds.end(), token) != o.stopIds.end())
          done[i] = true;
        else out[rows[i]].push_back(token);
      }
      next[std::int64_t(i)][0] = token;
      all = all && done[i];
    }
    if (all || step + 1 == steps)
      break;
    logits = model->forwardCached(next.to(device), cache).select(1, 0);
  }
}

} // namespace

std::vector<TokenIds> generate(const CausalLm &model, const std::vector<TokenIds> &prompts,
                               const std::vector<std::uint64_t> &seeds, const SamplingOptions &options,
                               std::int64_t eosId, const std::function<void(double)> &progress) {
  if (prompts.size() != seeds.size())
    throw std::invalid_argument("generate: one seed per prompt is required");
  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  std::map<std::size_t, std::vector<std::size_t>> byLength;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (prompts[i].empty())
      throw std::invalid_argument("generate: prompt " + std::to_string(i) + " is empty");
    byLength[prompts[i].size()].push_back(i);
  }
  std::vector<TokenIds> out(prompts.size());
  std::size_t done = 0;
  for (auto &group : byLength) {
    generateGroup(model, prompts, group.second, seeds, options, eosId, out);
    done += group.second.size();
    if (progress)
      progress(double(done) / double(prompts.size()));
  }
  model->train(wasTraining);
  return out;
}

} // namespace preflab::core
