// How a text job runs its trainer on the one loop and how the run's summary takes over what the
// loop ended with (offline text, D2PO and WRO runs).
#pragma once

#include "core/jobs/text_training.h"
#include "core/train/train_loop.h"

namespace preflab::core {

// State, message, steps done, the last logged metrics and the last evaluation's metrics.
inline void takeLoopOutcome(RunSummary &summary, const LoopOutcome &outcome) {
  summary.state = outcome.state;
  summary.message = outcome.message;
  summary.steps = outcome.step;
  summary.lastMetrics = outcome.lastMetrics;
  for (const auto &[k, v] : outcome.lastEval)
    summary.evalSummary[k] = v;
}

// Gives `trainer` (PreferenceTrainer, D2poTrainer, WroTrainer: setCallbacks, setCancelFlag,
// setPauseFlag, resumeLatest, totalSteps, run) the callbacks and flags, resumes from the newest
// checkpoint when options.resume (said through onMessage), runs it, and takes the outcome into
// `summary` (maxSteps included).
template <class Trainer>
LoopOutcome runOnLoop(Trainer &trainer, const RunOptions &options, const TrainerCallbacks &cb,
                      const std::atomic<bool> *cancel, const std::atomic<bool> *pause, RunSummary &summary) {
  trainer.setCallbacks(cb);
  trainer.setCancelFlag(cancel);
  trainer.setPauseFlag(pause);
  if (options.resume) {
    const auto from = trainer.resumeLatest();
    if (from >= 0 && cb.onMessage)
      cb.onMessage("resumed from checkpoint step-" + std::to_string(from));
  }
  summary.maxSteps = trainer.totalSteps();
  auto outcome = trainer.run();
  takeLoopOutcome(summary, outcome);
  return outcome;
}

} // namespace preflab::core
