// RunWorker: core::runTextTraining / runImageTraining on the worker thread, its callbacks re-emitted as Qt
// signals.
#include "ui/training/run_worker.h"

#include "core/api/runs.h"

#include <QDateTime>

namespace preflab::ui {

namespace {

MetricRecord toRecord(const core::StepRecord &r) {
  MetricRecord out;
  out.step = r.step;
  out.maxSteps = r.maxSteps;
  out.epoch = r.epoch;
  out.elapsedSeconds = r.elapsedSeconds;
  out.wallTime = double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
  for (const auto &[name, value] : r.metrics)
    out.metrics.insert(QString::fromStdString(name), value);
  return out;
}

RunPhase toPhase(core::RunState state) {
  switch (state) {
  case core::RunState::Finished:
    return RunPhase::Finished;
  case core::RunState::Cancelled:
    return RunPhase::Cancelled;
  case core::RunState::Failed:
  case core::RunState::Running:
    break; // a run that returns "running" did not end properly
  }
  return RunPhase::Failed;
}

} // namespace

RunWorker::RunWorker(QObject *parent) : QObject(parent) {}

void RunWorker::start(const RunRequest &request) {
  m_cancel = false;
  m_pause = false;
  const QString id = request.id;
  // Grad mode and LibTorch's thread count are per thread: core sets both on this thread.
  core::TrainerCallbacks cb;
  cb.onLog = [this, id](const core::StepRecord &r) { emit logged(id, toRecord(r)); };
  cb.onEval = [this, id](const core::StepRecord &r) { emit evaluated(id, toRecord(r)); };
  cb.onProgress = [this, id](const std::string &stage, double fraction) {
    emit progress(id, QString::fromStdString(stage), fraction);
  };
  cb.onMessage = [this, id](const std::string &text) { emit message(id, QString::fromStdString(text)); };
  cb.onLabelsWanted = [this, id](const std::string &store, const std::string &annotator, std::int64_t asked,
                                 std::int64_t open) {
    emit labelsWanted(id, QString::fromStdString(store), QString::fromStdString(annotator), asked, open);
  };
  emit started(id, QString::fromStdString(request.outputDir()));
  core::RunOptions options;
  options.resume = request.resume;
  options.overwrite = request.overwrite;
  core::RunSummary summary;
  try { // runTextTraining reports failures in its summary; this guards against what it cannot (memory)
    summary = request.image ? core::runImageTraining(*request.image, options, cb, &m_cancel, &m_pause)
                            : core::runTextTraining(request.config, options, cb, &m_cancel, &m_pause);
  } catch (const std::exception &e) {
    summary.state = core::RunState::Failed;
    summary.message = e.what();
    summary.runDir = request.outputDir();
  }
  RunResult result;
  result.phase = toPhase(summary.state);
  result.message = QString::fromStdString(summary.message);
  result.runDir = QString::fromStdString(summary.runDir);
  result.steps = summary.steps;
  result.maxSteps = summary.maxSteps;
  if (!summary.evalSummary.is_null())
    result.evalSummaryJson = QString::fromStdString(
        summary.evalSummary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  emit finished(id, result);
}

} // namespace preflab::ui
