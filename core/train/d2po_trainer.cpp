// D2poTrainer: sampling, discriminator labels, gold labels, discriminator updates, policy step.
#include "core/train/d2po_trainer.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/json_file.h"
#include "core/runtime/autocast.h"
#include "core/text/lora.h"
#include "core/text/sampler.h"
#include "core/train/batch_shards.h"
#include "core/train/config_checks.h"
#include "core/train/data_parallel.h"
#include "core/train/objective_inputs.h"
#include "core/train/pair_scoring.h"
#include "core/train/text_loop.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace preflab::core {

namespace {

torch::Tensor scalar(double value) {
  return torch::tensor(value, torch::kFloat64);
}

} // namespace

struct D2poTrainer::Round {
  std::vector<std::string> prompts, a, b; // one entry per candidate pair (distinct, non-empty answers)
  TokenizedData tokens;                   // pair i: chosen = a[i], rejected = b[i], EOS appended
  std::vector<double> scoreA, scoreB;     // the discriminator's
  std::vector<Preference> gold;           // Skip where no gold label was asked or given
  std::size_t freshGold = 0;              // gold pairs this round added to the buffer
  std::size_t answered = 0;               // gold labels this round (ties included)
  double sampleReward = std::numeric_limits<double>::quiet_NaN();
};

D2poTrainer::D2poTrainer(const TextTrainConfig &config, CausalLm policy, CausalLm reference,
                         CausalLm discriminator, std::shared_ptr<Tokenizer> tokenizer, D2poSources sources,
                         RunFolder &folder, torch::Device device)
    : m_config(config), m_policy(std::move(policy)), m_reference(std::move(reference)),
      m_discriminator(std::move(discriminator)), m_tokenizer(std::move(tokenizer)),
      m_sources(std::move(sources)), m_device(device), m_info(objectiveInfo(config.lossType)),
      m_objective(objectiveFunction(config.lossType)), m_rewardObjective(objectiveFunction("reward")),
      m_params(config.lossParams()), m_selection(goldSelectionNamed(config.d2po.goldSelection)) {
  config.validateD2po();
  if (!m_discriminator->hasScoreHead())
    throw InputError({}, 0, "trainer", "the D2PO discriminator needs a score head");
  if (!m_sources.gold)
    throw InputError({}, 0, "trainer", "D2PO needs a gold labeller");
  if (m_sources.prompts.empty())
    throw InputError({}, 0, "trainer", "D2PO needs prompts to sample from");
  m_heldOut = tokenizeData(m_sources.heldOutGold, *m_tokenizer, false);
  m_sampling.temperature = config.sentiment.sampleTemperature;
  m_sampling.maxNewTokens =
      std::min(config.sentiment.maxNewTokens, config.maxLength - config.maxPromptLength);
  m_policy->to(m_device);
  m_policy->train();
  m_reference->to(m_device);
  m_reference->eval();
  m_discriminator->to(m_device);
  m_discriminator->train();
  m_optimizer = textAdamW(parameters(), config);
  m_discOptimizer = std::make_unique<torch::optim::AdamW>(
      m_discriminator->parameters(), torch::optim::AdamWOptions(config.d2po.discriminatorLearningRate));
  auto loop = textLoopSettings(config, config.maxSteps);
  loop.activity = "online rounds";
  m_loop = std::make_unique<TrainLoop>(std::move(loop), static_cast<TrainStep &>(*this), folder);
}

std::vector<torch::Tensor> D2poTrainer::parameters() {
  return trainableParameters(m_policy);
}

D2poTrainer::Round D2poTrainer::sampleRound(std::int64_t round) {
  const auto &d = m_config.d2po;
  const auto pool = m_sources.prompts.size();
  std::vector<std::string> prompts;
  std::vector<TokenIds> ids;
  std::vector<std::uint64_t> seeds;
  // The pool in a seeded order per pass, so the prompts of a round depend only on its number.
  const auto picked = poolStream(pool, std::size_t(round * d.promptsPerRound), std::size_t(d.promptsPerRound),
                                 m_config.seed, 0xd290);
  for (std::size_t i = 0; i < picked.size(); ++i) {
    const auto &prompt = m_sources.prompts[picked[i]];
    for (std::uint64_t s = 0; s < 2; ++s) {
      prompts.push_back(prompt);
      ids.push_back(encodePrompt(*m_tokenizer, prompt));
      seeds.push_back(onlineSampleSeed(m_config.seed, std::uint64_t(round), 2 * std::uint64_t(i) + s));
    }
  }
  const auto samples = generate(m_policy, ids, seeds, m_sampling, m_tokenizer->eosId());
  Round r;
  TextPreferenceData pairs;
  double reward = 0.0;
  for (std::size_t i = 0; i + 1 < samples.size(); i += 2) {
    const auto a = m_tokenizer->decode(samples[i]), b = m_tokenizer->decode(samples[i + 1]);
    if (m_sources.sampleReward)
      reward += m_sources.sampleReward(prompts[i], a) + m_sources.sampleReward(prompts[i], b);
    if (a == b || a.empty() || b.empty())
      continue; // no preference between them
    TextPair p;
    p.id = "round" + std::to_string(round + 1) + "-" + std::to_string(i / 2);
    p.prompt = prompts[i];
    p.chosen = a;
    p.rejected = b;
    pairs.pairs.push_back(p);
    r.prompts.push_back(prompts[i]);
    r.a.push_back(a);
    r.b.push_back(b);
  }
  if (m_sources.sampleReward)
    r.sampleReward = reward / double(samples.size());
  r.tokens = tokenizeData(pairs, *m_tokenizer, false);
  std::vector<const TokenIds *> ps, rs;
  for (const auto &p : r.tokens.pairs) {
    ps.insert(ps.end(), {&p.prompt, &p.prompt});
    rs.insert(rs.end(), {&p.chosen, &p.rejected});
  }
  const auto scores =
      rewardScores(m_discriminator, ps, rs,
                   {m_config.maxLength, m_config.maxPromptLength, m_config.perDeviceEvalBatchSize});
  for (std::size_t i = 0; i < r.tokens.pairs.size(); ++i) {
    r.scoreA.push_back(scores[2 * i]);
    r.scoreB.push_back(scores[2 * i + 1]);
  }
  r.gold.assign(r.a.size(), Preference::Skip);
  return r;
}

void D2poTrainer::askGold(Round &r, std::int64_t round) {
  const auto left = std::max<std::int64_t>(0, m_config.d2po.goldBudget - m_goldUsed);
  const auto quota = std::size_t(std::min(m_config.d2po.goldPerRound, left));
  const auto picks = selectForGold(r.scoreA, r.scoreB, quota, m_selection,
                                   roundSeed(m_config.seed, std::uint64_t(round), 0x9e1d));
  if (picks.empty())
    return;
  std::vector<LabelRequest> requests;
  for (auto i : picks)
    requests.push_back(
        {r.prompts[i], r.a[i], r.b[i], roundSeed(m_config.seed ^ 0x601du, std::uint64_t(round), i)});
  const auto answers = m_sources.gold->label(requests, m_cancel);
  for (std::size_t k = 0; k < picks.size() && k < answers.size(); ++k) {
    const auto i = picks[k];
    const auto answer = answers[k];
    if (answer == Preference::Skip)
      continue; // not answered: nothing spent
    ++m_goldUsed;
    ++r.answered;
    r.gold[i] = answer;
    if (answer == Preference::Tie)
      continue; // gold says neither is better: no pair for anyone
    const auto &t = r.tokens.pairs[i];
    const bool aWins = answer == Preference::A;
    m_gold.push_back({t.prompt, aWins ? t.chosen : t.rejected, aWins ? t.rejected : t.chosen});
    ++r.freshGold;
    if (r.scoreA[i] != r.scoreB[i]) {
      ++m_compared;
      m_agreed += (r.scoreA[i] > r.scoreB[i]) == aWins;
    }
  }
}

double D2poTrainer::trainDiscriminator(std::size_t fresh, std::uint64_t seed) {
  const auto &d = m_config.d2po;
  const auto range = replayRange(m_gold.size(), fresh, std::size_t(d.replayPairs));
  if (d.discriminatorEpochs == 0 || range.last == range.first)
    return std::numeric_limits<double>::quiet_NaN();
  TokenizedData data;
  for (auto i = range.first; i < range.last; ++i) {
    TokenizedPair p;
    p.prompt = m_gold[i].prompt;
    p.chosen = m_gold[i].winner;
    p.rejected = m_gold[i].loser;
    data.pairs.push_back(std::move(p));
  }
  const auto &rewardInfo = objectiveInfo("reward");
  const auto rewardParams = defaultObjectiveParams(rewardInfo);
  std::vector<std::size_t> order(data.pairs.size());
  std::iota(order.begin(), order.end(), 0);
  const auto batch = std::size_t(d.discriminatorBatchSize);
  double lastEpochLoss = 0.0;
  m_discriminator->train();
  for (std::int64_t epoch = 0; epoch < d.discriminatorEpochs; ++epoch) {
    std::mt19937_64 rng(roundSeed(seed, std::uint64_t(epoch), 0xd15c));
    std::shuffle(order.begin(), order.end(), rng);
    double sum = 0.0;
    for (std::size_t start = 0; start < order.size(); start += batch) {
      const std::vector<std::size_t> rows(order.begin() + std::ptrdiff_t(start),
                                          order.begin() +
                                              std::ptrdiff_t(std::min(order.size(), start + batch)));
      m_discOptimizer->zero_grad();
      ObjectiveOutput out;
      {
        const CudaAutocastGuard autocast(m_device, m_config.bf16);
        out = m_rewardObjective(pairObjectiveInputs(m_discriminator, nullptr, rewardInfo, data, rows,
                                                    m_config.maxLength, m_config.maxPromptLength, m_device),
                                rewardParams);
      }
      out.loss.backward();
      m_discOptimizer->step();
      sum += out.loss.item<double>() * double(rows.size());
    }
    lastEpochLoss = sum / double(order.size());
  }
  return lastEpochLoss;
}

double D2poTrainer::discriminatorAccuracy() {
  if (m_heldOut.pairs.empty())
    return std::numeric_limits<double>::quiet_NaN();
  std::vector<const TokenIds *> ps, rs;
  for (const auto &p : m_heldOut.pairs) {
    ps.insert(ps.end(), {&p.prompt, &p.prompt});
    rs.insert(rs.end(), {&p.chosen, &p.rejected});
  }
  const auto scores =
      rewardScores(m_discriminator, ps, rs,
                   {m_config.maxLength, m_config.maxPromptLength, m_config.perDeviceEvalBatchSize});
  double correct = 0;
  for (std::size_t i = 0; i < m_heldOut.pairs.size(); ++i)
    correct += scores[2 * i] > scores[2 * i + 1];
  return correct / double(m_heldOut.pairs.size());
}

std::map<std::string, torch::Tensor> D2poTrainer::compute(std::int64_t step) {
  const auto &d = m_config.d2po;
  if (step == 0 && m_goldUsed == 0) { // before round 1: the discriminator's warm start
    const auto tokens = tokenizeData(m_sources.initialGold, *m_tokenizer, false);
    const auto n = std::min<std::size_t>(tokens.pairs.size(), std::size_t(d.goldBudget));
    for (std::size_t i = 0; i < n; ++i)
      m_gold.push_back({tokens.pairs[i].prompt, tokens.pairs[i].chosen, tokens.pairs[i].rejected});
    m_goldUsed = std::int64_t(n);
    if (n > 0)
      m_discLoss = trainDiscriminator(n, roundSeed(m_config.seed, ~0ull, 0));
    m_discAccuracy = discriminatorAccuracy();
  }
  auto r = sampleRound(step);
  askGold(r, step);
  // The policy's pairs: gold-labelled ones as gold says; with silver, every other pair as the
  // discriminator scores it, except those it scores equal (no preference: logit 0, no gradient).
  TokenizedData pairs;
  std::int64_t silver = 0, equal = 0;
  for (std::size_t i = 0; i < r.tokens.pairs.size(); ++i) {
    auto p = r.tokens.pairs[i];
    bool aWins;
    if (r.gold[i] == Preference::A || r.gold[i] == Preference::B) {
      aWins = r.gold[i] == Preference::A;
    } else if (r.gold[i] == Preference::Tie || !d.silver) {
      continue;
    } else if (r.scoreA[i] == r.scoreB[i]) {
      ++equal;
      continue;
    } else {
      aWins = r.scoreA[i] > r.scoreB[i];
      ++silver;
    }
    if (!aWins)
      std::swap(p.chosen, p.rejected);
    pairs.pairs.push_back(std::move(p));
  }
  std::map<std::string, torch::Tensor> out;
  if (!pairs.pairs.empty()) {
    // This rank's contiguous share of the pairs; a rank whose share is empty scores the first pair
    // with weight 0, so that every rank reports the same metrics.
    const std::size_t n = pairs.pairs.size();
    const auto bounds = shardBounds(n, m_worldSize); // fewer ranges than ranks when n is smaller
    std::vector<std::size_t> rows;
    if (std::size_t(m_rank) + 1 < bounds.size())
      for (std::size_t i = bounds[std::size_t(m_rank)]; i < bounds[std::size_t(m_rank) + 1]; ++i)
        rows.push_back(i);
    const double weight = double(rows.size()) / double(n);
    if (rows.empty())
      rows.push_back(0);
    ObjectiveOutput o;
    {
      const CudaAutocastGuard autocast(m_device, m_config.bf16); // the forwards only
      o = m_objective(pairObjectiveInputs(m_policy, &m_reference, m_info, pairs, rows, m_config.maxLength,
                                          m_config.maxPromptLength, m_device),
                      m_params);
    }
    if (m_worldSize > 1) { // shares of the mean over every rank's pairs
      o.loss = o.loss * weight;
      for (auto &[name, value] : o.metrics)
        value = value * weight;
    }
    o.loss.backward();
    out = o.metrics;
    out["loss"] = o.loss.detach();
  } else {
    out["loss"] = scalar(0.0); // nothing to learn from this round: no gradient, the step is empty
  }
  if (r.freshGold > 0) {
    m_discLoss = trainDiscriminator(r.freshGold, roundSeed(m_config.seed, std::uint64_t(step), 1));
    m_discAccuracy = discriminatorAccuracy();
  }
  out["d2po/gold_labels"] = scalar(double(m_goldUsed));
  out["d2po/gold_round"] = scalar(double(r.answered));
  out["d2po/sampled_pairs"] = scalar(double(r.tokens.pairs.size()));
  out["d2po/policy_pairs"] = scalar(double(pairs.pairs.size()));
  out["d2po/silver_pairs"] = scalar(double(silver));
  out["d2po/equal_scores"] = scalar(double(equal));
  out["d2po/gold_buffer"] = scalar(double(m_gold.size()));
  if (m_compared > 0)
    out["d2po/silver_gold_agreement"] = scalar(double(m_agreed) / double(m_compared));
  if (std::isfinite(m_discAccuracy))
    out["d2po/discriminator_accuracy"] = scalar(m_discAccuracy);
  if (std::isfinite(m_discLoss))
    out["d2po/discriminator_loss"] = scalar(m_discLoss);
  if (std::isfinite(r.sampleReward))
    out["d2po/sample_reward"] = scalar(r.sampleReward);
  if (m_rank != 0) // the round's numbers are the same on every rank: the loop's sum counts rank 0's
    for (auto &[name, value] : out)
      if (name.rfind("d2po/", 0) == 0)
        value = torch::zeros_like(value);
  return out;
}

void D2poTrainer::setDataParallel(DataParallelGroup *group) {
  if (group && group->worldSize() > 1) {
    checkD2poSplit(m_config, m_info.meanOverRows, group->worldSize());
    m_rank = group->rank();
    m_worldSize = group->worldSize();
  }
  m_loop->setDataParallel(group);
}

std::map<std::string, double> D2poTrainer::evaluate(std::int64_t) {
  std::map<std::string, double> out;
  if (m_sources.evaluatePolicy)
    out = m_sources.evaluatePolicy(m_policy);
  out["eval/gold_labels"] = double(m_goldUsed);
  if (std::isfinite(m_discAccuracy))
    out["eval/discriminator_accuracy"] = m_discAccuracy;
  return out;
}

void D2poTrainer::save(const std::string &dir) {
  torch::save(m_policy, dir + "/model.pt");
  torch::save(m_discriminator, dir + "/discriminator.pt");
  torch::save(*m_discOptimizer, dir + "/discriminator_optimizer.pt");
  nlohmann::json gold = nlohmann::json::array();
  for (const auto &g : m_gold)
    gold.push_back({g.prompt, g.winner, g.loser});
  const nlohmann::json state = {{"gold_used", m_goldUsed},
                                {"compared", m_compared},
                                {"agreed", m_agreed},
                                {"discriminator_accuracy", m_discAccuracy},
                                {"discriminator_loss", m_discLoss},
                                {"gold_pairs", gold}};
  writeFileAtomic(dir + "/d2po_state.json", state.dump() + "\n");
}

void D2poTrainer::load(const std::string &dir) {
  torch::load(m_policy, dir + "/model.pt", m_device);
  torch::load(m_discriminator, dir + "/discriminator.pt", m_device);
  torch::load(*m_discOptimizer, dir + "/discriminator_optimizer.pt");
  const auto path = dir + "/d2po_state.json";
  const auto state = readJsonObjectFile(path);
  try {
    m_goldUsed = state.at("gold_used").get<std::int64_t>();
    m_compared = state.at("compared").get<std::int64_t>();
    m_agreed = state.at("agreed").get<std::int64_t>();
    // NaN is written as null: the discriminator had not been measured or trained yet.
    auto number = [&](const char *key) {
      const auto &v = state.at(key);
      return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
    };
    m_discAccuracy = number("discriminator_accuracy");
    m_discLoss = number("discriminator_loss");
    m_gold.clear();
    for (const auto &g : state.at("gold_pairs"))
      m_gold.push_back({g.at(0).get<TokenIds>(), g.at(1).get<TokenIds>(), g.at(2).get<TokenIds>()});
  } catch (const nlohmann::json::exception &e) {
    throw InputError(path, 0, {}, std::string("not a D2PO checkpoint state: ") + e.what());
  }
}

nlohmann::json D2poTrainer::identity() const {
  return {{"trainer", "d2po"},
          {"loss_type", m_config.lossType},
          {"seed", m_config.seed},
          {"model", modelIdentity(*m_policy)},
          {"gold_budget", m_config.d2po.goldBudget},
          {"gold_selection", m_config.d2po.goldSelection},
          {"silver", m_config.d2po.silver}};
}

} // namespace preflab::core
