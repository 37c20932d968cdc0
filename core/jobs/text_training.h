// The torch-free entry point of a text (language model) run, shared by the CLI and the app's worker.
#pragma once

#include "core/train/run_folder.h"
#include "core/train/text_train_config.h"
#include "core/train/trainer_callbacks.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace preflab::core {

class DataParallelGroup; // core/train/data_parallel.h
struct LaunchEnv;        // core/runtime/launch_env.h

// Joins the data-parallel group `env` describes, with its timeouts, for RunOptions::dataParallel.
// Throws std::runtime_error when the group cannot be joined.
std::shared_ptr<DataParallelGroup> joinDataParallelGroup(const LaunchEnv &env);

struct RunOptions {
  bool resume = false;    // continue from the latest checkpoint in output_dir
  bool overwrite = false; // delete an existing output_dir first
  // Set when this process is one rank of a data-parallel run (core/train/data_parallel.h):
  // rank 0 claims and writes the run folder and prepares the data, the other ranks wait for it,
  // then read what it prepared and write nothing. Offline text and text-to-image runs.
  std::shared_ptr<DataParallelGroup> dataParallel;
};

struct RunSummary {
  RunState state = RunState::Finished;
  std::string message;
  std::string runDir;
  std::int64_t steps = 0;
  std::int64_t maxSteps = 0; // total optimizer steps of the run (from max_steps or the epochs)
  std::map<std::string, double> lastMetrics;
  nlohmann::json evalSummary; // the embedded task's eval/summary.json, else eval metrics
};

// Runs one training job end to end: run folder, data, model, reference log-probs (cached),
// trainer, checkpoints, hf/ export, evaluation. Blocks the calling thread; call it from a
// worker thread in a GUI. Never throws: bad input ends in a Failed summary whose message names
// the file/line/key, and status.json says the same. `cancel` and `pause` are owned by the caller,
// may be set from any thread, and are polled between optimizer steps (and between the embedded
// task's stages for `cancel`); while `pause` is set the run waits with status "paused".
// Returns body()'s summary; an exception it throws becomes `started` marked Failed with the
// exception's message (LibTorch errors without their backtrace).
RunSummary summaryOrFailure(const RunSummary &started, const std::function<RunSummary()> &body);

// The frame both kinds of run share: validatedConfigYaml() (validates and returns the resolved
// config), claimOutputDir (run_folder_guard.h: the folder's lock, held for the whole run, and the
// resume / overwrite checks), config.yaml and status.json ("starting", then the summary's state),
// with body() in between. Never throws: any failure ends in a Failed summary with its message.
RunSummary runInFolder(const std::string &outputDir, std::int64_t maxSteps, const RunOptions &options,
                       const std::function<std::string()> &validatedConfigYaml,
                       const std::function<RunSummary(RunFolder &)> &body);

RunSummary runTextTraining(const TextTrainConfig &config, const RunOptions &options,
                           const TrainerCallbacks &callbacks, const std::atomic<bool> *cancel = nullptr,
                           const std::atomic<bool> *pause = nullptr);

} // namespace preflab::core
