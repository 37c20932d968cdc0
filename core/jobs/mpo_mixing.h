// The MPO mixing run on the embedded sentiment task: the weights of a log-linear mixture of
// policies by batch stochastic mirror descent over the reference's samples, the mixture folder,
// and the task's evaluation of the mixture (both rewards).
#pragma once

#include "core/jobs/text_training.h"

namespace preflab::core {

class SentimentTask;

// Called by runTextTraining for trainer: mpo once the task's stages are prepared; throws on bad
// input (runInFolder turns that into a Failed summary). Writes metrics.jsonl (mpo/lambda_1..K,
// mpo/lambda_avg_1..K, mpo/objective, mpo/gradient_1..K per iteration), mixture/mixture.json
// (the components and the time-averaged weights) and eval/.
RunSummary executeMpoRun(const TextTrainConfig &config, const TrainerCallbacks &cb,
                         const std::atomic<bool> *cancel, RunFolder &folder, SentimentTask &task);

// A policy named in mpo.policies: a run folder stands for its hf/ (the tuned policy).
std::string policyFolder(const std::string &path);

} // namespace preflab::core
