// The WRO run on the embedded sentiment task: models, judge, trainer, export, evaluation.
#pragma once

#include "core/jobs/text_training.h"

namespace preflab::core {

class SentimentTask;

// Called by runTextTraining for trainer: wro once the task's stages are prepared; throws on bad
// input (runInFolder turns that into a Failed summary).
RunSummary executeWroRun(const TextTrainConfig &config, const RunOptions &options, const TrainerCallbacks &cb,
                         const std::atomic<bool> *cancel, const std::atomic<bool> *pause, RunFolder &folder,
                         SentimentTask &task);

} // namespace preflab::core
