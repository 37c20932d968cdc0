// PreferenceTrainer: batches, objective, AdamW step, logging, eval, checkpoints and resume.
#include "core/train/preference_trainer.h"

#include "core/io/atomic_file.h"
#include "core/io/content_hash.h"
#include "core/io/input_error.h"
#include "core/runtime/autocast.h"
#include "core/text/lora.h"
#include "core/text/sequence_batch.h"
#include "core/train/batch_shards.h"
#include "core/train/config_checks.h"
#include "core/train/objective_inputs.h"
#include "core/train/text_loop.h"

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>
#include <random>
#include <thread>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

torch::Tensor doubles(const std::vector<double> &values, torch::Device device) {
  return torch::tensor(values, torch::kFloat64).to(device, torch::kFloat32);
}

// Sum of metric tensors over micro-batches, read out once at logging steps. The loss is weighted
// as the trainer combines it (tokens for SFT), the metrics by rows.
void accumulate(std::map<std::string, torch::Tensor> &into, const ObjectiveOutput &out, double lossWeight,
                double metricWeight) {
  auto add = [&](const std::string &name, const torch::Tensor &v, double weight) {
    auto w = v.detach().to(torch::kFloat64) * weight;
    auto it = into.find(name);
    if (it == into.end())
      into.emplace(name, w);
    else
      it->second = it->second + w;
  };
  add("loss", out.loss, lossWeight);
  for (const auto &[name, value] : out.metrics)
    add(name, value, metricWeight);
}

std::map<std::string, double> toDoubles(const std::map<std::string, torch::Tensor> &metrics) {
  std::map<std::string, double> out;
  for (const auto &[name, value] : metrics)
    out[name] = value.item<double>();
  return out;
}

} // namespace

PreferenceTrainer::PreferenceTrainer(const TextTrainConfig &config, CausalLm policy, TokenizedData train,
                                     TokenizedData eval, RunFolder &folder, torch::Device device,
                                     std::optional<CausalLm> reference)
    : m_config(config), m_info(objectiveInfo(config.lossType)),
      m_objective(objectiveFunction(config.lossType)), m_policy(std::move(policy)),
      m_reference(std::move(reference)), m_train(std::move(train)), m_eval(std::move(eval)),
      m_device(device) {
  if (m_train.size() == 0)
    throw InputError(config.trainFile, 0, {}, "the training set has no examples");
  if (m_info.needsReference && !m_reference && !m_train.hasReference())
    throw InputError({}, 0, "ref_model_name_or_path",
                     "objective '" + config.lossType +
                         "' needs a reference model or cached reference log-probs");
  if (m_info.kind == ObjectiveKind::Reward && !m_policy->hasScoreHead())
    throw InputError({}, 0, "loss_type", "'reward' needs a model with a score head");
  m_params = config.lossParams();
  const auto perStep = config.perDeviceTrainBatchSize * config.gradientAccumulationSteps;
  m_totalSteps =
      config.maxSteps > 0
          ? config.maxSteps
          : std::max<std::int64_t>(
                1, std::int64_t(std::ceil(config.numTrainEpochs * double(m_train.size()) / double(perStep))));
  m_policy->to(m_device);
  m_policy->train();
  if (m_reference) {
    (*m_reference)->to(m_device);
    (*m_reference)->eval();
  }
  // Data-parallel shards on CPU (see shardedBackward): only for objectives that declare their loss
  // a mean over rows, and without dropout, whose masks would then depend on how the threads
  // interleave on the shared generator.
  if (m_device.is_cpu() && m_info.meanOverRows && m_policy->dropout() == 0.0)
    m_shards = std::max(1, at::get_num_threads());
  m_optimizer = textAdamW(parameters(), config);
  auto loop = textLoopSettings(config, m_totalSteps);
  loop.stepsPerEpoch =
      double(m_train.size()) / double(config.perDeviceTrainBatchSize * config.gradientAccumulationSteps);
  m_loop = std::make_unique<TrainLoop>(std::move(loop), static_cast<TrainStep &>(*this), folder);
}

// Rows of micro-batch `microStep`: a stream of seeded per-epoch permutations, so the data
// position is a pure function of the step (exact resume needs nothing else).
std::vector<std::size_t> PreferenceTrainer::nextRows(std::int64_t microStep) const {
  const auto n = m_train.size();
  const auto b = std::size_t(m_config.perDeviceTrainBatchSize);
  std::vector<std::size_t> rows;
  std::int64_t cachedEpoch = -1;
  std::vector<std::size_t> perm;
  for (std::size_t k = std::size_t(microStep) * b; rows.size() < b; ++k) {
    const auto epoch = std::int64_t(k / n);
    if (epoch != cachedEpoch) {
      perm.resize(n);
      std::iota(perm.begin(), perm.end(), 0);
      std::mt19937_64 rng(m_config.seed * 1000003ull + std::uint64_t(epoch));
      std::shuffle(perm.begin(), perm.end(), rng);
      cachedEpoch = epoch;
    }
    rows.push_back(perm[k % n]);
  }
  return rows;
}

ObjectiveInputs PreferenceTrainer::pairInputs(const TokenizedData &data,
                                              const std::vector<std::size_t> &rows) {
  return pairObjectiveInputs(m_policy, m_reference ? &*m_reference : nullptr, m_info, data, rows,
                             m_config.maxLength, m_config.maxPromptLength, m_device);
}

ObjectiveInputs PreferenceTrainer::unpairedInputs(const TokenizedData &data,
                                                  const std::vector<std::size_t> &rows) {
  std::vector<TokenIds> prompts, responses;
  std::vector<std::uint8_t> desirable;
  for (auto r : rows) {
    prompts.push_back(data.unpaired[r].prompt);
    responses.push_back(data.unpaired[r].completion);
    desirable.push_back(data.unpaired[r].desirable ? 1 : 0);
  }
  for (auto r : rows) {
    prompts.push_back(data.unpaired[r].prompt);
    responses.push_back(data.unpaired[r].klCompletion);
  }
  auto batch =
      buildSequenceBatch(prompts, responses, m_config.maxLength, m_config.maxPromptLength, 0, m_device);
  const auto B = std::int64_t(rows.size());
  ObjectiveInputs in;
  auto lp = sequenceLogps(m_policy, batch);
  in.policyCompletion = lp.sum.narrow(0, 0, B);
  in.klPolicy = lp.sum.narrow(0, B, B).detach();
  in.lenChosen = batch.lengths.narrow(0, 0, B);
  in.desirable =
      torch::tensor(std::vector<std::int64_t>(desirable.begin(), desirable.end())).to(m_device, torch::kBool);
  if (data.hasReference()) {
    std::vector<double> ref, refKl;
    for (auto r : rows) {
      ref.push_back(*data.unpaired[r].ref);
      refKl.push_back(*data.unpaired[r].refKl);
    }
    in.refCompletion = doubles(ref, m_device);
    in.klRef = doubles(refKl, m_device);
  } else {
    torch::NoGradGuard noGrad;
    auto ref = sequenceLogps(*m_reference, batch).sum;
    in.refCompletion = ref.narrow(0, 0, B);
    in.klRef = ref.narrow(0, B, B);
  }
  return in;
}

ObjectiveOutput PreferenceTrainer::computeBatch(const TokenizedData &data,
                                                const std::vector<std::size_t> &rows) {
  const CudaAutocastGuard autocast(m_device, m_config.bf16); // the forwards only; ended before backward
  const auto in = data.unpaired.empty() ? pairInputs(data, rows) : unpairedInputs(data, rows);
  return m_objective(in, m_params);
}

// One micro-batch split into m_shards contiguous row ranges, each scored, differentiated and
// reduced on its own thread. Every sharded objective's loss and metrics are means over pairs, so
// weighting shard s by rows_s / rows gives the unsharded values (up to float summation order).
void PreferenceTrainer::shardedBackward(const std::vector<std::size_t> &rows, double weight,
                                        std::map<std::string, torch::Tensor> &sums) {
  const auto bounds = shardBounds(rows.size(), m_shards);
  const int n = int(bounds.size()) - 1;
  auto params = parameters();
  std::vector<ObjectiveOutput> outs(static_cast<std::size_t>(n));
  std::vector<std::vector<torch::Tensor>> grads(static_cast<std::size_t>(n));
  std::vector<double> weights(static_cast<std::size_t>(n));
  runShards(n, [&](int s) {
    const std::vector<std::size_t> part(rows.begin() + std::ptrdiff_t(bounds[s]),
                                        rows.begin() + std::ptrdiff_t(bounds[s + 1]));
    weights[s] = weight * double(part.size()) / double(rows.size());
    outs[s] = computeBatch(m_train, part);
    grads[s] = shardGradients(outs[s].loss * weights[s], params);
  });
  addShardGradients(params, grads);
  for (int s = 0; s < n; ++s)
    accumulate(sums, outs[s], weights[s], weights[s]);
}

double PreferenceTrainer::batchUnits(const TokenizedData &data, const std::vector<std::size_t> &rows) const {
  if (m_info.kind != ObjectiveKind::Sft || data.pairs.empty())
    return double(rows.size());
  double tokens = 0;
  for (auto r : rows) { // the tokens buildSequenceBatch keeps, without building it
    TokenIds prompt = data.pairs[r].prompt, response = data.pairs[r].chosen;
    truncateToFit(prompt, response, m_config.maxLength, m_config.maxPromptLength);
    tokens += double(response.size());
  }
  return tokens;
}

std::map<std::string, torch::Tensor> PreferenceTrainer::compute(std::int64_t step) {
  const auto accum = m_config.gradientAccumulationSteps;
  std::vector<std::vector<std::size_t>> micro(static_cast<std::size_t>(accum));
  std::vector<double> units(micro.size());
  double total = 0, rows = 0;
  for (std::int64_t m = 0; m < accum; ++m) {
    micro[std::size_t(m)] = nextRows(step * accum + m);
    units[std::size_t(m)] = batchUnits(m_train, micro[std::size_t(m)]);
    total += units[std::size_t(m)];
    rows += double(micro[std::size_t(m)].size());
  }
  std::map<std::string, torch::Tensor> sums;
  for (std::size_t m = 0; m < micro.size(); ++m) {
    double weight = total > 0 ? units[m] / total : 1.0 / double(accum);
    auto part = micro[m];
    if (m_worldSize > 1) { // this rank's rows, weighted as a thread shard of one process would be
      const auto bounds = shardBounds(micro[m].size(), m_worldSize);
      part.assign(micro[m].begin() + std::ptrdiff_t(bounds[std::size_t(m_rank)]),
                  micro[m].begin() + std::ptrdiff_t(bounds[std::size_t(m_rank) + 1]));
      weight = units[m] > 0 ? weight * batchUnits(m_train, part) / units[m] : weight / m_worldSize;
    }
    if (m_shards > 1 && part.size() > 1) { // sharded objectives weigh rows: weight is rows_m / rows
      shardedBackward(part, weight, sums);
      continue;
    }
    auto out = computeBatch(m_train, part);
    (out.loss * weight).backward();
    accumulate(sums, out, weight, m_info.meanOverRows ? weight : double(part.size()) / rows);
  }
  return sums;
}

void requireDataParallelSplit(const TextTrainConfig &config, int worldSize) {
  const auto info = objectiveInfo(config.lossType); // SFT's token-weighted mean splits too
  checkDataParallelSplit(config.lossType, info.meanOverRows || info.kind == ObjectiveKind::Sft,
                         config.perDeviceTrainBatchSize, worldSize);
}

bool PreferenceTrainer::splitAcrossRanks(int rank, int worldSize) {
  requireDataParallelSplit(m_config, worldSize);
  m_rank = rank;
  m_worldSize = worldSize;
  return true;
}

std::map<std::string, double> PreferenceTrainer::evaluate() {
  std::map<std::string, double> out;
  if (m_eval.size() == 0)
    return out;
  torch::NoGradGuard noGrad;
  m_policy->eval();
  std::map<std::string, torch::Tensor> sums;
  const auto b = std::size_t(m_config.perDeviceEvalBatchSize);
  if (m_onProgress)
    m_onProgress("evaluating", 0.0);
  std::vector<std::size_t> all(m_eval.size());
  std::iota(all.begin(), all.end(), 0);
  const double total = std::max(1.0, batchUnits(m_eval, all));
  for (std::size_t start = 0; start < m_eval.size(); start += b) {
    std::vector<std::size_t> rows;
    for (auto i = start; i < std::min(m_eval.size(), start + b); ++i)
      rows.push_back(i);
    accumulate(sums, computeBatch(m_eval, rows), batchUnits(m_eval, rows) / total,
               double(rows.size()) / double(m_eval.size()));
    if (m_onProgress)
      m_onProgress("evaluating", double(start + rows.size()) / double(m_eval.size()));
  }
  m_policy->train();
  for (const auto &[name, value] : toDoubles(sums))
    out["eval/" + name] = value;
  return out;
}

std::vector<torch::Tensor> PreferenceTrainer::parameters() {
  return trainableParameters(m_policy);
}

void PreferenceTrainer::save(const std::string &dir) {
  torch::save(m_policy, dir + "/model.pt");
  torch::save(at::detail::getDefaultCPUGenerator().get_state(), dir + "/rng.pt");
}

void PreferenceTrainer::load(const std::string &dir) {
  torch::load(m_policy, dir + "/model.pt", m_device);
  torch::Tensor rng;
  torch::load(rng, dir + "/rng.pt");
  auto generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(rng);
}

nlohmann::json PreferenceTrainer::identity() const {
  // The training data by content (its token ids): the same train_file path may hold other pairs
  // by the time a run is resumed, and then the resumed steps would not continue this run.
  std::uint64_t h = kFnvOffset;
  auto add = [&h](const TokenIds &ids) {
    const std::uint64_t n = ids.size();
    h = fnv1a(fnv1a(h, &n, sizeof n), ids.data(), ids.size() * sizeof(std::int64_t));
  };
  for (const auto &p : m_train.pairs) {
    add(p.prompt);
    add(p.chosen);
    add(p.rejected);
  }
  for (const auto &u : m_train.unpaired) {
    add(u.prompt);
    add(u.completion);
  }
  return {{"loss_type", m_config.lossType},
          {"seed", m_config.seed},
          {"model", modelIdentity(*m_policy)},
          {"train_data", hexDigest(h)}};
}

TrainOutcome PreferenceTrainer::run() {
  return m_loop->run();
}

} // namespace preflab::core
