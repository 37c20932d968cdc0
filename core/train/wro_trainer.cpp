// WroTrainer: policy samples, judged against cached reference samples, RLOO step with a KL penalty.
#include "core/train/wro_trainer.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/json_file.h"
#include "core/runtime/autocast.h"
#include "core/text/lora.h"
#include "core/text/sampler.h"
#include "core/text/sequence_batch.h"
#include "core/train/config_checks.h"
#include "core/train/data_parallel.h"
#include "core/train/gold_selection.h"
#include "core/train/text_loop.h"

#include <torch/torch.h>

#include <cmath>

namespace preflab::core {

namespace {

torch::Tensor wroScalar(double value) {
  return torch::tensor(value, torch::kFloat64);
}

constexpr std::uint64_t kPromptSalt = 0x3a01;
constexpr std::uint64_t kCompetitorSalt = 0xc0de5eedull;

} // namespace

WroTrainer::WroTrainer(const TextTrainConfig &config, CausalLm policy, CausalLm reference,
                       std::shared_ptr<Tokenizer> tokenizer, WroSources sources, RunFolder &folder,
                       torch::Device device)
    : m_config(config), m_policy(std::move(policy)), m_reference(std::move(reference)),
      m_tokenizer(std::move(tokenizer)), m_sources(std::move(sources)), m_device(device),
      m_h(winRateTransformNamed(config.wro.h)) {
  config.validateWro();
  if (!m_sources.judge)
    throw InputError({}, 0, "wro.judge", "WRO needs a judge");
  if (m_sources.prompts.empty())
    throw InputError({}, 0, "trainer", "WRO needs prompts to sample from");
  m_sampling.temperature = config.sentiment.sampleTemperature;
  m_sampling.maxNewTokens =
      std::min(config.sentiment.maxNewTokens, config.maxLength - config.maxPromptLength);
  m_policy->to(m_device);
  m_policy->train();
  m_reference->to(m_device);
  m_reference->eval();
  m_optimizer = textAdamW(parameters(), config);
  auto loop = textLoopSettings(config, config.maxSteps);
  loop.activity = "win-rate optimisation";
  m_loop = std::make_unique<TrainLoop>(std::move(loop), static_cast<TrainStep &>(*this), folder);
}

std::vector<torch::Tensor> WroTrainer::parameters() {
  return trainableParameters(m_policy);
}

const std::vector<double> &WroTrainer::competitorScores(std::size_t index) {
  if (const auto it = m_competitors.find(index); it != m_competitors.end())
    return it->second;
  const auto &prompt = m_sources.prompts.at(index);
  const auto count = std::size_t(m_config.wro.competitors);
  const std::vector<TokenIds> ids(count, encodePrompt(*m_tokenizer, prompt));
  std::vector<std::uint64_t> seeds;
  for (std::size_t k = 0; k < count; ++k)
    seeds.push_back(onlineSampleSeed(m_config.seed ^ kCompetitorSalt, index, k));
  const auto samples = generate(m_reference, ids, seeds, m_sampling, m_tokenizer->eosId());
  std::vector<std::string> texts;
  for (const auto &s : samples)
    texts.push_back(m_tokenizer->decode(s));
  return m_competitors[index] = m_sources.judge(std::vector<std::string>(count, prompt), texts);
}

void WroTrainer::setDataParallel(DataParallelGroup *group) {
  if (group && group->worldSize() > 1)
    checkWroSplit(m_config.wro.promptsPerStep, group->worldSize());
  m_loop->setDataParallel(group);
  m_group = group && group->worldSize() > 1 ? group : nullptr;
}

std::map<std::string, torch::Tensor> WroTrainer::compute(std::int64_t step) {
  const auto &w = m_config.wro;
  const auto K = std::size_t(w.samplesPerPrompt);
  const auto picked = poolStream(m_sources.prompts.size(), std::size_t(step * w.promptsPerStep),
                                 std::size_t(w.promptsPerStep), m_config.seed, kPromptSalt);
  const int rank = m_group ? m_group->rank() : 0, world = m_group ? m_group->worldSize() : 1;
  // This rank's answers: the prompts at positions rank, rank + world, ...; an answer keeps its
  // global index K·i + k (its sampling seed and its place in the gathered vectors).
  std::vector<std::size_t> mine; // global answer indices
  std::vector<TokenIds> ids;
  std::vector<std::uint64_t> seeds;
  std::vector<std::string> promptTexts;
  for (std::size_t i = std::size_t(rank); i < picked.size(); i += std::size_t(world)) {
    const auto &prompt = m_sources.prompts[picked[i]];
    const auto encoded = encodePrompt(*m_tokenizer, prompt);
    for (std::size_t k = 0; k < K; ++k) {
      mine.push_back(K * i + k);
      ids.push_back(encoded);
      promptTexts.push_back(prompt);
      seeds.push_back(onlineSampleSeed(m_config.seed, std::uint64_t(step), K * i + k));
    }
  }
  const auto samples = generate(m_policy, ids, seeds, m_sampling, m_tokenizer->eosId());
  std::vector<std::string> texts;
  std::vector<TokenIds> responses;
  std::vector<double> sampleRewards;
  for (std::size_t j = 0; j < samples.size(); ++j) {
    texts.push_back(m_tokenizer->decode(samples[j]));
    responses.push_back(samples[j]);
    if (std::int64_t(samples[j].size()) < m_sampling.maxNewTokens)
      responses.back().push_back(m_tokenizer->eosId()); // it ended by itself: EOS is part of it
    sampleRewards.push_back(m_sources.sampleReward ? m_sources.sampleReward(promptTexts[j], texts[j]) : 0.0);
  }
  const auto scores = m_sources.judge(promptTexts, texts);
  if (scores.size() != texts.size())
    throw std::runtime_error("the WRO judge returned " + std::to_string(scores.size()) + " scores for " +
                             std::to_string(texts.size()) + " answers");
  std::vector<double> rewards, winProbability;
  for (std::size_t j = 0; j < texts.size(); ++j) {
    const auto &competitors = competitorScores(picked[mine[j] / K]);
    rewards.push_back(winRateReward(m_h, scores[j], competitors));
    winProbability.push_back(winRateReward(WinRateTransform::Identity, scores[j], competitors));
  }
  const auto batch =
      buildSequenceBatch(ids, responses, m_config.maxLength, m_config.maxPromptLength, 0, m_device);
  const double temperature = m_sampling.temperature;
  torch::Tensor logp, refLogp;
  {
    const CudaAutocastGuard autocast(m_device, m_config.bf16); // the forwards only
    logp = sequenceLogps(m_policy, batch, temperature).sum.to(torch::kFloat64);
    torch::NoGradGuard noGrad;
    refLogp = sequenceLogps(m_reference, batch, temperature).sum.to(torch::kFloat64);
  }
  // The KL penalty of each sequence is part of its reward: no gradient through it.
  auto values = [](const torch::Tensor &t) {
    const auto c = t.detach().cpu().contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  };
  auto lpPolicy = values(logp), lpReference = values(refLogp);
  // Every rank's per-answer numbers in one vector of all answers (zeros elsewhere, summed over the
  // ranks), so the statistics below are one process's, bit for bit, on every rank.
  // One collective: each vector in its own block of `total`.
  const std::size_t total = picked.size() * K;
  if (m_group) {
    const std::vector<std::vector<double> *> perAnswer = {&rewards, &winProbability, &lpPolicy, &lpReference,
                                                          &sampleRewards};
    auto all = torch::zeros({std::int64_t(perAnswer.size() * total)}, torch::kFloat64);
    auto *a = all.data_ptr<double>();
    for (std::size_t v = 0; v < perAnswer.size(); ++v)
      for (std::size_t j = 0; j < mine.size(); ++j)
        a[v * total + mine[j]] = (*perAnswer[v])[j];
    m_group->sum(all);
    for (std::size_t v = 0; v < perAnswer.size(); ++v)
      perAnswer[v]->assign(a + v * total, a + (v + 1) * total);
  }
  const auto penalised = klPenalisedRewards(rewards, lpPolicy, lpReference, m_config.beta);
  const auto advantages = rlooAdvantages(penalised, K);
  std::vector<double> myAdvantages;
  for (const auto j : mine)
    myAdvantages.push_back(advantages[j]);
  const auto adv = torch::tensor(myAdvantages, torch::kFloat64).to(m_device);
  // The mean over every rank's answers: this rank's share of the sum.
  const auto loss = m_group ? -(adv * logp).sum() / double(total) : -(adv * logp).mean();
  loss.backward();
  const auto stats = advantageStats(penalised, K);
  const auto raw = advantageStats(rewards, K);
  m_usefulSteps += raw.usefulGroups > 0.0;
  double meanKl = 0.0, meanWin = 0.0, sampleReward = 0.0;
  const double n = double(rewards.size());
  for (std::size_t j = 0; j < rewards.size(); ++j) {
    meanKl += (lpPolicy[j] - lpReference[j]) / n;
    meanWin += winProbability[j] / n;
    sampleReward += sampleRewards[j] / n;
  }
  std::map<std::string, torch::Tensor> out;
  out["loss"] = loss.detach();
  out["wro/reward"] = wroScalar(raw.rewardMean);
  out["wro/reward_std"] = wroScalar(raw.rewardStd);
  out["wro/reward_std_within_prompt"] = wroScalar(raw.withinGroupStd);
  out["wro/useful_prompts"] = wroScalar(raw.usefulGroups);
  out["wro/useful_steps"] = wroScalar(double(m_usefulSteps) / double(step + 1));
  out["wro/advantage_abs_mean"] = wroScalar(stats.advantageAbsMean);
  out["wro/kl"] = wroScalar(meanKl);
  out["wro/objective"] = wroScalar(raw.rewardMean - m_config.beta * meanKl);
  out["wro/judge_win_probability"] = wroScalar(meanWin);
  out["wro/competitor_prompts"] = wroScalar(double(m_competitors.size()));
  if (m_sources.sampleReward)
    out["wro/sample_reward"] = wroScalar(sampleReward);
  if (m_group) // the loop sums the ranks' metrics: the statistics (the same on every rank) count once
    for (auto &[name, value] : out)
      if (name != "loss" && name != "wro/competitor_prompts" && rank != 0)
        value = torch::zeros_like(value);
  return out;
}

std::map<std::string, double> WroTrainer::evaluate(std::int64_t) {
  if (m_sources.evaluatePolicy)
    return m_sources.evaluatePolicy(m_policy);
  return {};
}

void WroTrainer::save(const std::string &dir) {
  torch::save(m_policy, dir + "/model.pt");
  writeFileAtomic(dir + "/wro_state.json", nlohmann::json{{"useful_steps", m_usefulSteps}}.dump() + "\n");
}

void WroTrainer::load(const std::string &dir) {
  torch::load(m_policy, dir + "/model.pt", m_device);
  const auto path = dir + "/wro_state.json";
  const auto state = readJsonObjectFile(path);
  try {
    m_usefulSteps = state.at("useful_steps").get<std::int64_t>();
  } catch (const nlohmann::json::exception &e) {
    throw InputError(path, 0, "useful_steps", std::string("not a WRO checkpoint state: ") + e.what());
  }
}

nlohmann::json WroTrainer::identity() const {
  return {{"trainer", "wro"},
          {"seed", m_config.seed},
          {"model", modelIdentity(*m_policy)},
          {"h", m_config.wro.h},
          {"judge", m_sources.judgeName},
          {"beta", m_config.beta},
          {"samples_per_prompt", m_config.wro.samplesPerPrompt},
          {"competitors", m_config.wro.competitors}};
}

} // namespace preflab::core
