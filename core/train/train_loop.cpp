// TrainLoop: step timing, the non-finite stop, logging, status, evaluation and checkpoints.
#include "core/train/train_loop.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/train/data_parallel.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

// A step whose loss or gradient norm is not finite; its update was not applied.
struct NonFiniteStep : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string number(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  return std::to_string(v);
}

} // namespace

TrainLoop::TrainLoop(LoopSettings settings, TrainStep &step, RunFolder &folder)
    : m_settings(std::move(settings)), m_step(step), m_folder(folder) {
  if (m_settings.totalSteps < 1)
    throw InputError({}, 0, "max_steps", "a run needs at least one optimizer step");
  m_settings.loggingSteps = std::max<std::int64_t>(1, m_settings.loggingSteps);
}

void TrainLoop::setDataParallel(DataParallelGroup *group) {
  if (group && group->worldSize() > 1 && !m_step.splitAcrossRanks(group->rank(), group->worldSize()))
    throw InputError({}, 0, {},
                     "this kind of run trains in one process only: start it without a launcher "
                     "(no RANK/WORLD_SIZE, SLURM_PROCID or OMPI_COMM_WORLD_RANK)");
  m_parallel = group && group->worldSize() > 1 ? group : nullptr;
}

std::map<std::string, double> TrainLoop::optimizerStep(std::int64_t step, bool log) {
  auto &optimizer = m_step.optimizer();
  optimizer.zero_grad();
  auto metrics = m_step.compute(step);
  if (m_parallel) // every rank then holds the global batch's gradients and metrics
    sumStepAcrossRanks(*m_parallel, m_step.parameters(), metrics);
  const double loss = metrics.at("loss").item<double>(); // one sync per step: the finite check needs it
  const double maxNorm =
      m_settings.maxGradNorm > 0 ? m_settings.maxGradNorm : std::numeric_limits<double>::infinity();
  // With an infinite bound the gradients are scaled by exactly 1: the norm is only measured.
  const double gradNorm = torch::nn::utils::clip_grad_norm_(m_step.parameters(), maxNorm);
  if (!std::isfinite(loss) || !std::isfinite(gradNorm))
    throw NonFiniteStep(
        std::string("non-finite ") +
        (std::isfinite(loss) ? "gradient norm (" + number(gradNorm) : "loss (" + number(loss)) +
        ") at step " + std::to_string(step + 1));
  double lr = 0.0;
  if (m_settings.learningRate) {
    lr = m_settings.learningRate(step);
    for (auto &group : optimizer.param_groups())
      group.options().set_lr(lr);
  } else if (!optimizer.param_groups().empty()) {
    lr = optimizer.param_groups().front().options().get_lr();
  }
  optimizer.step();
  m_step.afterUpdate(step);
  m_windowLoss += loss;
  ++m_windowCount;
  if (!log)
    return {};
  std::map<std::string, double> out;
  for (const auto &[name, value] : metrics)
    out[name] = name == "loss" ? loss : value.item<double>();
  if (m_settings.logWindowMeanLoss)
    out["loss"] = m_windowLoss / double(m_windowCount);
  m_windowLoss = 0.0;
  m_windowCount = 0;
  out["grad_norm"] = gradNorm;
  out["learning_rate"] = lr;
  return out;
}

bool TrainLoop::weightsFinite() {
  torch::NoGradGuard noGrad;
  for (const auto &p : m_step.parameters())
    if (!torch::isfinite(p).all().item<bool>())
      return false;
  return true;
}

void TrainLoop::saveCheckpoint(std::int64_t step) {
  if (m_parallel && !m_parallel->writes())
    return; // rank 0 writes it; every rank holds the same weights and optimizer state
  const auto dir = m_folder.checkpointDir(step);
  const auto tmp = dir + ".tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  m_step.save(tmp);
  torch::save(m_step.optimizer(), tmp + "/" + kOptimizerFile);
  nlohmann::json state = m_step.identity();
  state.update(m_step.exactness());
  state["global_step"] = step;
  state["max_steps"] = m_settings.totalSteps;
  writeFileAtomic(tmp + "/" + kTrainerStateFile, state.dump(2) + "\n"); // written last: marks completeness
  fs::remove_all(dir);
  fs::rename(tmp, dir);
  prune();
  if (m_callbacks.onCheckpoint)
    m_callbacks.onCheckpoint(step, dir);
}

void TrainLoop::prune() {
  if (m_settings.saveTotalLimit <= 0)
    return;
  auto steps = m_folder.checkpointSteps();
  while (std::int64_t(steps.size()) > m_settings.saveTotalLimit) {
    fs::remove_all(m_folder.checkpointDir(steps.front()));
    steps.erase(steps.begin());
  }
}

void TrainLoop::resumeFrom(const std::string &dir) {
  const auto statePath = dir + "/" + kTrainerStateFile;
  const auto state = nlohmann::json::parse(readFile(statePath), nullptr, false);
  if (!state.is_object() || !state.contains("global_step") || !state["global_step"].is_number_integer())
    throw InputError(statePath, 0, "global_step", "not a PrefLab checkpoint");
  const auto identity = m_step.identity(); // a named value: items() only refers to it
  for (const auto &[key, expected] : identity.items())
    if (state.contains(key) && state[key] != expected)
      throw InputError(
          statePath, 0, key,
          key == "train_data"
              ? "the training pairs differ from those the checkpoint was trained on (content hash " +
                    state[key].dump() + ", now " + expected.dump() + "): was the training file changed?"
              : "the checkpoint was trained with " + key + " " + state[key].dump() + ", this run has " +
                    expected.dump());
  const auto exactness = m_step.exactness();
  for (const auto &[key, now] : exactness.items())
    if (state.contains(key) && state[key] != now && m_callbacks.onMessage)
      m_callbacks.onMessage("the checkpoint was trained with " + key + " " + state[key].dump() +
                            ", this run has " + now.dump() +
                            ": the resumed steps match an uninterrupted run only up to rounding");
  try {
    m_step.load(dir);
    torch::load(m_step.optimizer(), dir + "/" + kOptimizerFile);
  } catch (const c10::Error &e) {
    throw InputError(dir, 0, {},
                     std::string("corrupt or incompatible checkpoint: ") + e.what_without_backtrace());
  }
  m_startStep = state["global_step"].get<std::int64_t>();
}

std::int64_t TrainLoop::resumeLatest() {
  auto steps = m_folder.checkpointSteps();
  while (!steps.empty()) {
    const auto step = steps.back();
    const auto dir = m_folder.checkpointDir(step);
    try {
      resumeFrom(dir);
      m_folder.release();
      m_folder.truncateMetricsAfter(step, step >= m_settings.totalSteps);
      return step;
    } catch (const InputError &e) {
      if (!m_step.identity().contains(e.key())) { // damaged, not another run's
        steps.pop_back();
        if (m_callbacks.onMessage)
          m_callbacks.onMessage("checkpoint step-" + std::to_string(step) + " is damaged (" + e.what() + ")" +
                                (steps.empty() ? std::string("; no older checkpoint to resume from")
                                               : "; trying step-" + std::to_string(steps.back())));
        if (steps.empty())
          throw;
        continue;
      }
      throw;
    }
  }
  m_folder.release();
  return -1;
}

void TrainLoop::waitWhilePaused(std::int64_t step) {
  if (!m_pause || !m_pause->load())
    return;
  m_folder.writeStatus(RunState::Running, "paused", step, m_settings.totalSteps);
  if (m_callbacks.onMessage)
    m_callbacks.onMessage("paused at step " + std::to_string(step));
  // A sleep-poll rather than a condition variable: the flags belong to the caller, and a 50 ms
  // reaction time is well under what a person pressing "resume" notices.
  while (m_pause->load() && !cancelled())
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  m_folder.writeStatus(RunState::Running, m_settings.activity, step, m_settings.totalSteps);
  if (m_callbacks.onMessage && !cancelled())
    m_callbacks.onMessage("resumed at step " + std::to_string(step));
}

LoopOutcome TrainLoop::run() {
  const auto total = m_settings.totalSteps;
  LoopOutcome outcome;
  outcome.step = m_startStep;
  outcome.lastCheckpoint = m_startStep;
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  auto epoch = [&](std::int64_t step) {
    return m_settings.stepsPerEpoch > 0 ? double(step) / m_settings.stepsPerEpoch : 0.0;
  };
  auto record = [&](std::int64_t step, std::map<std::string, double> metrics) {
    return StepRecord{step, total, epoch(step), elapsed(), std::move(metrics)};
  };
  std::int64_t lastEvalStep = -1;
  auto evaluate = [&](std::int64_t step) {
    m_folder.writeStatus(RunState::Running, "evaluating", step, total);
    auto metrics = m_step.evaluate(step);
    lastEvalStep = step;
    m_folder.writeStatus(RunState::Running, m_settings.activity, step, total);
    if (metrics.empty())
      return;
    outcome.lastEval = metrics;
    m_folder.appendMetrics(step, metrics);
    if (m_callbacks.onEval)
      m_callbacks.onEval(record(step, std::move(metrics)));
  };
  auto checkpoint = [&](std::int64_t step) {
    // A finite gradient with a huge step can still overflow the weights; they must not be saved
    // as a good checkpoint (checked here, not every step: a pass over the weights per save).
    if (!weightsFinite())
      throw NonFiniteStep("non-finite weights after step " + std::to_string(step) + " (the update diverged)");
    saveCheckpoint(step);
    outcome.lastCheckpoint = step;
  };
  m_folder.writeStatus(RunState::Running, m_settings.activity, m_startStep, total);
  double lastStatus = elapsed();
  std::int64_t step = m_startStep;
  try {
    for (; step < total; ++step) {
      waitWhilePaused(step);
      if (cancelled()) {
        outcome.state = RunState::Cancelled;
        outcome.message = "cancelled at step " + std::to_string(step);
        break;
      }
      const auto done = step + 1;
      const bool log = done % m_settings.loggingSteps == 0 || done == total;
      auto metrics = optimizerStep(step, log);
      outcome.step = done;
      if (log) {
        if (m_settings.stepsPerEpoch > 0)
          metrics["epoch"] = epoch(done);
        m_folder.appendMetrics(done, metrics);
        if (elapsed() - lastStatus >= 1.0) { // status.json is fsynced: at most once a second
          m_folder.writeStatus(RunState::Running, m_settings.activity, done, total);
          lastStatus = elapsed();
        }
        outcome.lastMetrics = metrics;
        if (m_callbacks.onLog)
          m_callbacks.onLog(record(done, std::move(metrics)));
      }
      if (m_settings.saveSteps > 0 && done % m_settings.saveSteps == 0)
        checkpoint(done);
      if (m_settings.evalSteps > 0 && done % m_settings.evalSteps == 0 && done < total)
        evaluate(done);
    }
  } catch (const NonFiniteStep &e) {
    // The update was not applied: the weights are those after `step` good steps, unless an
    // earlier update already made them non-finite (then nothing more is saved).
    if (step > outcome.lastCheckpoint && weightsFinite())
      checkpoint(step);
    outcome.state = RunState::Failed;
    outcome.message = std::string(e.what()) +
                      (m_settings.failureHint.empty() ? "" : " (" + m_settings.failureHint + ")") +
                      "; last good checkpoint: " +
                      (outcome.lastCheckpoint > 0 ? "step-" + std::to_string(outcome.lastCheckpoint)
                                                  : std::string("none (it failed on the first step)"));
    return outcome;
  }
  if (m_settings.checkpointAtEnd && outcome.step > outcome.lastCheckpoint)
    checkpoint(outcome.step);
  if (outcome.state == RunState::Finished && m_settings.evalAtEnd && lastEvalStep != outcome.step)
    evaluate(outcome.step);
  return outcome;
}

} // namespace preflab::core
