// Torch-free records and callbacks through which a training run reports progress.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace preflab::core {

// One logged step: metric name -> value (names as TRL's, "eval/" prefix for evaluation).
struct StepRecord {
  std::int64_t step = 0;
  std::int64_t maxSteps = 0;
  double epoch = 0.0;
  double elapsedSeconds = 0.0;
  std::map<std::string, double> metrics;
};

// Called on the thread that runs the trainer. Any may be empty. They must not throw.
struct TrainerCallbacks {
  std::function<void(const StepRecord &)> onLog;    // every logging_steps
  std::function<void(const StepRecord &)> onEval;   // every eval_steps and at the end
  std::function<void(std::int64_t step, const std::string &dir)> onCheckpoint;
  std::function<void(const std::string &stage, double fraction)> onProgress; // long stages
  std::function<void(const std::string &message)> onMessage;                 // human-readable
  // A person's labels are wanted: `open` of `asked` questions wait in the label store `store`
  // for `annotator`'s decisions ("": anyone's) (D2PO with d2po.gold_labeller: person); the run
  // blocks until they are decided.
  std::function<void(const std::string &store, const std::string &annotator, std::int64_t asked,
                     std::int64_t open)>
      onLabelsWanted;
};

} // namespace preflab::core
