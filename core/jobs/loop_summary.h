// How a run's summary takes over what the training loop ended with (text and D2PO runs).
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

} // namespace preflab::core
