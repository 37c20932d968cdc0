// PreferenceTrainer: the text preference step (batches, accumulation, sharding, the objective,
// AdamW) run by the one TrainLoop (schedules, clipping, eval, checkpoints, exact resume,
// cancellation, NaN stop). Plain C++ with callbacks.
#pragma once

#include "core/objectives/objective.h"
#include "core/text/causal_lm.h"
#include "core/train/run_folder.h"
#include "core/train/text_train_config.h"
#include "core/train/tokenized_data.h"
#include "core/train/train_loop.h"
#include "core/train/trainer_callbacks.h"

#include <torch/optim/adamw.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

namespace preflab::core {

using TrainOutcome = LoopOutcome;

// Drives one policy on one dataset. Not thread-safe: construct, run and destroy on one thread
// (the worker's); only the cancel flag is shared. Errors in data or config throw InputError
// from the constructor; failures during run() end in a Failed outcome, never an exception.
// Throws InputError (naming loss_type or per_device_train_batch_size) unless `config`'s batches
// can be split across `worldSize` data-parallel processes: an objective whose loss is a mean of
// per-row terms (or SFT), and at least one row per process. Checked before a run prepares data.
void requireDataParallelSplit(const TextTrainConfig &config, int worldSize);

class PreferenceTrainer : private TrainStep {
public:
  // `reference` is needed only when the objective needs a reference and `train`/`eval` do not
  // carry reference log-probs already (precompute_ref_log_probs: false). `folder` must outlive
  // the trainer.
  PreferenceTrainer(const TextTrainConfig &config, CausalLm policy, TokenizedData train, TokenizedData eval,
                    RunFolder &folder, torch::Device device,
                    std::optional<CausalLm> reference = std::nullopt);

  void setCallbacks(TrainerCallbacks callbacks) {
    m_onProgress = callbacks.onProgress; // the evaluation's "evaluating" stage
    m_loop->setCallbacks(std::move(callbacks));
  }
  // Polled between optimizer steps; when set, the run checkpoints and ends as Cancelled.
  void setCancelFlag(const std::atomic<bool> *flag) { m_loop->setCancelFlag(flag); }
  // Polled between optimizer steps; while set, the run waits (status "paused") until it is
  // cleared or the cancel flag is set.
  void setPauseFlag(const std::atomic<bool> *flag) { m_loop->setPauseFlag(flag); }
  // Loads weights, optimizer state, RNG state and position from a checkpoint folder.
  void resumeFrom(const std::string &checkpointDir) { m_loop->resumeFrom(checkpointDir); }
  // Resumes from the folder's newest checkpoint (metrics after it dropped); -1 when none.
  std::int64_t resumeLatest() { return m_loop->resumeLatest(); }
  // Trains as one rank of `group` (outlives the trainer; see TrainLoop::setDataParallel): each
  // micro-batch of per_device_train_batch_size rows is split across the ranks, so a run gives
  // the same curve (up to float rounding) with any number of processes. Objectives whose loss
  // is a mean over rows, and SFT; InputError for others (KTO's KL estimate is a batch statistic)
  // and for a batch with fewer rows than ranks.
  void setDataParallel(DataParallelGroup *group) { m_loop->setDataParallel(group); }

  TrainOutcome run();
  // Evaluates on the eval set: "eval/loss", "eval/rewards/accuracies", ... (no grad).
  std::map<std::string, double> evaluate();

  std::int64_t totalSteps() const { return m_totalSteps; }
  // Threads that each take a share of every training micro-batch (1: unsharded).
  int batchShards() const { return m_shards; }
  CausalLm policy() const { return m_policy; }

private:
  // TrainStep
  // The trained parameters: all of the policy's, or only its LoRA factors.
  std::vector<torch::Tensor> parameters() override;
  torch::optim::Optimizer &optimizer() override { return *m_optimizer; }
  std::map<std::string, torch::Tensor> compute(std::int64_t step) override;
  std::map<std::string, double> evaluate(std::int64_t) override { return evaluate(); }
  void save(const std::string &dir) override;
  void load(const std::string &dir) override;
  nlohmann::json identity() const override;
  nlohmann::json exactness() const override {
    return {{"batch_shards", m_shards}, {"processes", m_worldSize}};
  }
  bool splitAcrossRanks(int rank, int worldSize) override;

  ObjectiveOutput computeBatch(const TokenizedData &data, const std::vector<std::size_t> &rows);
  ObjectiveInputs pairInputs(const TokenizedData &data, const std::vector<std::size_t> &rows);
  ObjectiveInputs unpairedInputs(const TokenizedData &data, const std::vector<std::size_t> &rows);
  std::vector<std::size_t> nextRows(std::int64_t microStep) const;
  // What a batch counts for when batches are combined (micro-batches into a step, batches into
  // an evaluation): its rows, or for the token-weighted SFT loss the response tokens it keeps,
  // so that the combined loss is the loss of all its rows as one batch.
  double batchUnits(const TokenizedData &data, const std::vector<std::size_t> &rows) const;
  void shardedBackward(const std::vector<std::size_t> &rows, double weight,
                       std::map<std::string, torch::Tensor> &sums);

  TextTrainConfig m_config;
  ObjectiveInfo m_info;
  ObjectiveFn m_objective;
  ObjectiveParams m_params;
  CausalLm m_policy;
  std::optional<CausalLm> m_reference;
  TokenizedData m_train, m_eval;
  torch::Device m_device;
  std::unique_ptr<torch::optim::AdamW> m_optimizer;
  std::unique_ptr<TrainLoop> m_loop;
  std::function<void(const std::string &, double)> m_onProgress;
  int m_shards = 1; // CPU threads that each take a share of every micro-batch (1: no sharding)
  int m_rank = 0, m_worldSize = 1; // data parallel: this process's share of every micro-batch
  std::int64_t m_totalSteps = 0;
};

} // namespace preflab::core
