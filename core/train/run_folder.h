// RunFolder: the on-disk layout of one run (config, metrics, status, checkpoints, samples, eval).
#pragma once

#include "core/io/tensorboard_events.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

enum class RunState { Running, Finished, Failed, Cancelled };
std::string runStateName(RunState state); // "running", "finished", "failed", "cancelled"

// Owns the writers of one run folder. Paths:
//   config.yaml, metrics.jsonl (one JSON object per logged step, flushed per line),
//   status.json (state, message, step, updated_at), checkpoints/step-N/, samples/, eval/, hf/,
//   and events.out.tfevents.* (the same metrics for TensorBoard, one file per process that wrote).
// One thread writes to a RunFolder at a time; readers in other processes see whole lines and
// whole files (status.json is replaced atomically).
class RunFolder {
public:
  // Creates the folder and its sub-folders; throws std::runtime_error when it cannot. With
  // `writes` false (the ranks after rank 0 of a data-parallel run) nothing is created or written:
  // the writers below do nothing, and what the folder holds (checkpoints) can still be read.
  explicit RunFolder(std::string root, bool writes = true);
  bool writes() const { return m_writes; }

  const std::string &root() const { return m_root; }
  std::string path(const std::string &relative) const { return m_root + "/" + relative; }
  std::string checkpointDir(std::int64_t step) const;

  // config.yaml, and the same text (as a Markdown code block, tag "config", step 0) in the event
  // file; a resume's config is written on release, its event file already holds it.
  void writeConfig(const std::string &yaml);
  // Appends {"step": step, ...metrics, "time": unix seconds} and flushes; the finite metrics also
  // go to this process's TensorBoard event file.
  void appendMetrics(std::int64_t step, const std::map<std::string, double> &metrics);
  void writeStatus(RunState state, const std::string &message, std::int64_t step,
                   std::int64_t maxSteps);

  // Drops metrics lines whose step is after `step` (used when resuming from a checkpoint), and
  // with `evaluationRedone` also the evaluation lines at `step` itself: a resume from the final
  // checkpoint evaluates it again, and its lines must not appear twice.
  void truncateMetricsAfter(std::int64_t step, bool evaluationRedone = false);
  // Steps of complete checkpoints (folders named step-N holding trainer_state.json), ascending.
  std::vector<std::int64_t> checkpointSteps() const;

  // A resume over an existing run may still be refused once the data is read (a checkpoint
  // trained on other pairs): until release(), config.yaml and status.json are held in memory
  // (the last of each kept), so a refused resume leaves the folder as it was. release() writes
  // them; TrainLoop::resumeLatest calls it once the checkpoint (or its absence) is accepted.
  void holdUntilResumed() { m_holding = true; }
  void release();
  bool holding() const { return m_holding; }

  // Writes `content` to path(relative) atomically (throws std::runtime_error naming the path);
  // nothing on a folder that does not write, so evaluation code need not ask which rank it is.
  void writeFile(const std::string &relative, const std::string &content);
  // An image in the run's TensorBoard event file (the encoded PNG and its size), e.g. an
  // evaluation grid; nothing on a folder that does not write.
  void appendImage(std::int64_t step, const std::string &tag, const std::string &png, int height, int width,
                   int channels);

private:
  EventFileWriter &events(); // opened on first use; after a resume it starts at the resumed step
  std::string m_root;
  bool m_writes = true;
  std::ofstream m_metrics;
  std::unique_ptr<EventFileWriter> m_events;
  std::optional<std::int64_t> m_resumedAt; // the step a resume truncated to: the events say so
  bool m_holding = false;
  std::string m_heldConfig;
  std::string m_heldStatus;
};

// Reads metrics.jsonl leniently: skips a half-written last line; returns one object per line.
std::vector<nlohmann::json> readMetricsFile(const std::string &path);

} // namespace preflab::core
