// Value types that cross from the run worker's thread to the GUI thread (no tensors, no pointers).
#pragma once

#include "core/api/runs.h"

#include <QHash>
#include <QMetaType>
#include <QString>

#include <optional>

namespace preflab::ui {

// What to run: the resolved config of a text run, or of an image run when `image` is set, plus
// how to treat an existing output folder.
struct RunRequest {
  QString id;                                  // assigned by RunController::enqueue when empty
  QString label;                               // shown in lists and legends
  core::TextTrainConfig config;                // a text run (unused when `image` is set)
  std::optional<core::ImageTrainConfig> image; // a text-to-image run
  bool resume = false;
  bool overwrite = false;

  std::string outputDir() const { return image ? image->outputDir : config.outputDir; }
  std::string lossType() const { return image ? image->lossType : config.lossType; }
  std::int64_t maxSteps() const { return image ? image->maxSteps : config.maxSteps; }
};

// One logged or evaluated step, as core's StepRecord with Qt containers.
struct MetricRecord {
  qint64 step = 0;
  qint64 maxSteps = 0;
  double epoch = 0;
  double elapsedSeconds = 0;
  double wallTime = 0; // unix seconds when the record reached the worker's adapter
  QHash<QString, double> metrics;
};

enum class RunPhase { Queued, Running, Paused, Finished, Failed, Cancelled };
QString runPhaseName(RunPhase phase); // "queued", "running", ...
bool isActive(RunPhase phase);        // queued, running or paused

// How a run ended.
struct RunResult {
  RunPhase phase = RunPhase::Finished; // Finished, Failed or Cancelled
  QString message;
  QString runDir;
  qint64 steps = 0;
  qint64 maxSteps = 0;
  QString evalSummaryJson; // eval/summary.json of the embedded task, or eval metrics; "" if none
};

} // namespace preflab::ui

Q_DECLARE_METATYPE(preflab::ui::RunRequest)
Q_DECLARE_METATYPE(preflab::ui::MetricRecord)
Q_DECLARE_METATYPE(preflab::ui::RunResult)
Q_DECLARE_METATYPE(preflab::ui::RunPhase)
