// TrainLoop: the one optimizer loop every kind of run uses (text and image preference runs,
// diffusion pretraining, oracle and reward-model training, online rounds). It owns pause, cancel,
// the non-finite stop, the learning-rate schedule, logging, status, evaluation timing,
// checkpoints and exact resume; a TrainStep says what one optimizer step computes.
#pragma once

#include "core/train/run_folder.h"
#include "core/train/trainer_callbacks.h"

#include <torch/optim/optimizer.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace preflab::core {

class DataParallelGroup;

// What one optimizer step of a kind of run computes. The loop calls it on one thread.
class TrainStep {
public:
  virtual ~TrainStep() = default;

  // The parameters whose gradients are checked, clipped and applied.
  virtual std::vector<torch::Tensor> parameters() = 0;
  virtual torch::optim::Optimizer &optimizer() = 0;

  // Forward and backward of optimizer step `step` (0-based): gradients accumulate into the
  // parameters (zeroed by the loop just before). Returns the step's metrics as tensors, "loss"
  // among them; the loop reads "loss" every step (the finite check) and the rest at logging steps.
  virtual std::map<std::string, torch::Tensor> compute(std::int64_t step) = 0;
  // After the optimizer applied step `step` (e.g. an EMA update).
  virtual void afterUpdate(std::int64_t /*step*/) {}
  // Held-out metrics ("eval/..." names) after `step` optimizer steps; {} when there are none.
  virtual std::map<std::string, double> evaluate(std::int64_t /*step*/) { return {}; }

  // Everything besides the optimizer that an exact resume needs (weights, RNG states, data
  // position), written into / read from an existing checkpoint folder.
  virtual void save(const std::string &dir) = 0;
  virtual void load(const std::string &dir) = 0;
  // Written to trainer_state.json; on resume each key also found in the checkpoint must match
  // (e.g. {"loss_type": "dpo"}), so a checkpoint of another run is refused by name.
  virtual nlohmann::json identity() const { return nlohmann::json::object(); }
  // Also written to trainer_state.json; a key that differs on resume is reported through
  // onMessage, not refused: it changes results only by rounding (e.g. how a batch is split
  // across threads).
  virtual nlohmann::json exactness() const { return nlohmann::json::object(); }

  // Data parallel: from now on compute() takes only rank `rank`'s share of each batch of
  // `worldSize` ranks, its metrics weighted by that share (the loop sums them over the ranks).
  // Returns false (the default) for a step that cannot split its batches; the loop then refuses.
  virtual bool splitAcrossRanks(int /*rank*/, int /*worldSize*/) { return false; }
};

struct LoopSettings {
  std::int64_t totalSteps = 1;
  std::int64_t loggingSteps = 1;   // metrics.jsonl and onLog every N steps and at the last step
  std::int64_t evalSteps = 0;      // evaluate every N steps (0: only at the end)
  bool evalAtEnd = true;           // evaluate after the last step of a finished run
  std::int64_t saveSteps = 0;      // checkpoint every N steps (0: only at the end)
  bool checkpointAtEnd = true;     // checkpoint when the run ends (finished or cancelled)
  std::int64_t saveTotalLimit = 0; // keep only the newest N checkpoints (0: all)
  double maxGradNorm = 0.0;        // clip the total gradient norm to this (<= 0: measure only)
  std::function<double(std::int64_t step)> learningRate; // per 0-based step; empty: unchanged
  double stepsPerEpoch = 0.0;                            // > 0: "epoch" is logged
  bool logWindowMeanLoss = false;    // log the mean loss since the last log instead of the last
  std::string activity = "training"; // status.json message while running
  std::string failureHint;           // appended to the non-finite message: which keys to change
};

struct LoopOutcome {
  RunState state = RunState::Finished;
  std::string message;
  std::int64_t step = 0;           // optimizer steps done
  std::int64_t lastCheckpoint = 0; // step of the newest complete checkpoint (0: none)
  std::map<std::string, double> lastMetrics;
  std::map<std::string, double> lastEval;
};

class TrainLoop {
public:
  // `step` and `folder` must outlive the loop.
  TrainLoop(LoopSettings settings, TrainStep &step, RunFolder &folder);

  void setCallbacks(TrainerCallbacks callbacks) { m_callbacks = std::move(callbacks); }
  // Polled before every optimizer step; when set, the run checkpoints and ends as Cancelled.
  void setCancelFlag(const std::atomic<bool> *flag) { m_cancel = flag; }
  // Polled before every optimizer step; while set, the run waits with status "paused".
  void setPauseFlag(const std::atomic<bool> *flag) { m_pause = flag; }
  // Trains as one rank of `group` (must outlive the loop): the step computes its share, the loop
  // sums gradients and metrics over the ranks before each update, and only rank 0 writes
  // checkpoints (every rank resumes from them). Throws InputError when the step cannot split.
  void setDataParallel(DataParallelGroup *group);

  // Restores optimizer and step state from a checkpoint folder; the run continues after it.
  // Throws InputError naming the file or key when the checkpoint is not this run's.
  void resumeFrom(const std::string &checkpointDir);
  // Resumes from the newest complete checkpoint of the folder and drops metrics logged after it;
  // a damaged one (unreadable state, weights or optimizer) is reported through onMessage and
  // the next older one is tried. Returns its step, or -1 when the folder holds none (the run
  // then starts from step 0). A checkpoint of another run (identity mismatch) still throws.
  // Once a checkpoint (or none) is accepted, the folder's held writes are released
  // (RunFolder::holdUntilResumed); a refused resume leaves them held.
  std::int64_t resumeLatest();

  // Runs to totalSteps, a cancel, or a non-finite loss or gradient (Failed, the update not
  // applied, the weights before it checkpointed). Other exceptions propagate.
  LoopOutcome run();

  std::int64_t startStep() const { return m_startStep; }
  const LoopSettings &settings() const { return m_settings; }

private:
  std::map<std::string, double> optimizerStep(std::int64_t step, bool log);
  bool weightsFinite();
  void saveCheckpoint(std::int64_t step);
  void prune();
  void waitWhilePaused(std::int64_t step);
  bool cancelled() const { return m_cancel && m_cancel->load(); }

  LoopSettings m_settings;
  TrainStep &m_step;
  RunFolder &m_folder;
  TrainerCallbacks m_callbacks;
  const std::atomic<bool> *m_cancel = nullptr;
  const std::atomic<bool> *m_pause = nullptr;
  DataParallelGroup *m_parallel = nullptr;
  std::int64_t m_startStep = 0;
  double m_windowLoss = 0.0;
  std::int64_t m_windowCount = 0;
};

// Checkpoint folders hold trainer_state.json (written last: it marks the folder complete),
// optimizer.pt and what the step saves. These name the files the loop writes.
inline constexpr const char *kTrainerStateFile = "trainer_state.json";
inline constexpr const char *kOptimizerFile = "optimizer.pt";

} // namespace preflab::core
