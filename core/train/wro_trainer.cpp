// WroTrainer: policy samples, judged against cached reference samples, RLOO step with a KL penalty.
#include "core/train/wro_trainer.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/json_file.h"
#include "core/runtime/autocast.h"
#include "core/text/lora.h"
#include "core/text/sampler.h"
#include "core/text/sequence_batch.h"
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

std::map<std::string, torch::Tensor> WroTrainer::compute(std::int64_t step) {
  const auto &w = m_config.wro;
  const auto K = std::size_t(w.samplesPerPrompt);
  const auto picked = poolStream(m_sources.prompts.size(), std::size_t(step * w.promptsPerStep),
                                 std::size_t(w.promptsPerStep), m_config.seed, kPromptSalt);
  std::vector<TokenIds> ids;
  std::vector<std::uint64_t> seeds;
  std::vector<std::string> promptTexts;
  for (std::size_t i = 0; i < picked.size(); ++i) {
    const auto &prompt = m_sources.prompts[picked[i]];
    const auto encoded = encodePrompt(*m_tokenizer, prompt);
    for (std::size_t k = 0; k < K; ++k) {
      ids.push_back(encoded);
      promptTexts.push_back(prompt);
      seeds.push_back(onlineSampleSeed(m_config.seed, std::uint64_t(step), K * i + k));
    }
  }
  const auto samples = generate(m_policy, ids, seeds, m_sampling, m_tokenizer->eosId());
  std::vector<std::string> texts;
  std::vector<TokenIds> responses;
  double sampleReward = 0.0;
  for (std::size_t j = 0; j < samples.size(); ++j) {
    texts.push_back(m_tokenizer->decode(samples[j]));
    responses.push_back(samples[j]);
    if (std::int64_t(samples[j].size()) < m_sampling.maxNewTokens)
      responses.back().push_back(m_tokenizer->eosId()); // it ended by itself: EOS is part of it
    if (m_sources.sampleReward)
      sampleReward += m_sources.sampleReward(promptTexts[j], texts[j]) / double(samples.size());
  }
  const auto scores = m_sources.judge(promptTexts, texts);
  if (scores.size() != texts.size())
    throw std::runtime_error("the WRO judge returned " + std::to_string(scores.size()) + " scores for " +
                             std::to_string(texts.size()) + " answers");
  std::vector<double> rewards, winProbability;
  for (std::size_t j = 0; j < texts.size(); ++j) {
    const auto &competitors = competitorScores(picked[j / K]);
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
  const auto lpPolicy = values(logp), lpReference = values(refLogp);
  const auto penalised = klPenalisedRewards(rewards, lpPolicy, lpReference, m_config.beta);
  const auto advantages = rlooAdvantages(penalised, K);
  const auto adv = torch::tensor(advantages, torch::kFloat64).to(m_device);
  const auto loss = -(adv * logp).mean();
  loss.backward();
  const auto stats = advantageStats(penalised, K);
  const auto raw = advantageStats(rewards, K);
  m_usefulSteps += raw.usefulGroups > 0.0;
  double meanKl = 0.0, meanWin = 0.0;
  const double n = double(rewards.size());
  for (std::size_t j = 0; j < rewards.size(); ++j) {
    meanKl += (lpPolicy[j] - lpReference[j]) / n;
    meanWin += winProbability[j] / n;
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
