// RunController: queue, phases and the worker thread's lifetime.
#include "ui/training/run_controller.h"

#include "ui/training/run_worker.h"

#include <QDeadlineTimer>

namespace preflab::ui {

RunController::RunController(QObject *parent) : QObject(parent) {
  qRegisterMetaType<RunRequest>();
  qRegisterMetaType<MetricRecord>();
  qRegisterMetaType<RunResult>();
  qRegisterMetaType<RunPhase>();
  m_thread.setObjectName(QStringLiteral("preflab-run-worker"));
  m_worker = new RunWorker; // no parent: it moves to the worker thread
  m_worker->moveToThread(&m_thread);
  connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
  connect(this, &RunController::startRequested, m_worker, &RunWorker::start, Qt::QueuedConnection);
  connect(m_worker, &RunWorker::logged, this, &RunController::logged);
  connect(m_worker, &RunWorker::evaluated, this, &RunController::evaluated);
  connect(m_worker, &RunWorker::progress, this, &RunController::progress);
  connect(m_worker, &RunWorker::message, this, [this](const QString &id, const QString &text) {
    // core reports pausing and resuming as messages once the step boundary is reached.
    if (text.startsWith(QLatin1String("paused")) && m_phases.value(id) == RunPhase::Running)
      setPhase(id, RunPhase::Paused);
    emit message(id, text);
  });
  connect(m_worker, &RunWorker::labelsWanted, this, &RunController::labelsWanted);
  connect(m_worker, &RunWorker::finished, this, &RunController::onWorkerFinished);
  m_thread.start();
}

RunController::~RunController() {
  shutdown();
}

QString RunController::enqueue(RunRequest request) {
  if (request.id.isEmpty() || m_requests.contains(request.id))
    request.id = QStringLiteral("run-%1").arg(m_nextId++);
  if (request.label.isEmpty())
    request.label = request.id;
  const QString id = request.id;
  m_order << id;
  m_requests.insert(id, request);
  m_phases.insert(id, RunPhase::Queued);
  emit runAdded(id);
  emit phaseChanged(id, RunPhase::Queued);
  startNext();
  return id;
}

void RunController::pause(const QString &runId) {
  if (runId != m_current || m_phases.value(runId) != RunPhase::Running)
    return;
  m_worker->setPaused(true); // the phase turns Paused when core confirms at the step boundary
}

void RunController::resume(const QString &runId) {
  if (runId != m_current)
    return;
  m_worker->setPaused(false);
  if (m_phases.value(runId) == RunPhase::Paused)
    setPhase(runId, RunPhase::Running);
}

void RunController::cancel(const QString &runId) {
  const auto phase = m_phases.value(runId, RunPhase::Finished);
  if (phase == RunPhase::Queued) {
    setPhase(runId, RunPhase::Cancelled);
    RunResult result;
    result.phase = RunPhase::Cancelled;
    result.message = tr("removed from the queue before it started");
    result.runDir = QString::fromStdString(m_requests.value(runId).outputDir());
    emit finished(runId, result);
  } else if (runId == m_current) {
    m_worker->requestCancel();
  }
}

bool RunController::shutdown(int waitMs) {
  if (!m_thread.isRunning())
    return true;
  for (const auto &id : m_order)
    if (m_phases.value(id) == RunPhase::Queued)
      m_phases.insert(id, RunPhase::Cancelled);
  m_worker->requestCancel();
  m_thread.quit(); // processed once the running start() returns
  const bool stopped = m_thread.wait(QDeadlineTimer(waitMs));
  return stopped;
}

RunPhase RunController::phase(const QString &runId) const {
  return m_phases.value(runId, RunPhase::Failed);
}
RunRequest RunController::request(const QString &runId) const {
  return m_requests.value(runId);
}
QStringList RunController::runIds() const {
  return m_order;
}
QString RunController::currentRun() const {
  return m_current;
}

int RunController::activeCount() const {
  int n = 0;
  for (const auto &id : m_order)
    n += isActive(m_phases.value(id)) ? 1 : 0;
  return n;
}

void RunController::startNext() {
  if (!m_current.isEmpty())
    return;
  for (const auto &id : m_order) {
    if (m_phases.value(id) != RunPhase::Queued)
      continue;
    m_current = id;
    setPhase(id, RunPhase::Running);
    emit startRequested(m_requests.value(id));
    return;
  }
}

void RunController::onWorkerFinished(const QString &runId, const RunResult &result) {
  if (runId == m_current)
    m_current.clear();
  setPhase(runId, result.phase);
  emit finished(runId, result);
  startNext();
}

void RunController::setPhase(const QString &runId, RunPhase phase) {
  if (m_phases.value(runId) == phase && m_phases.contains(runId))
    return;
  m_phases.insert(runId, phase);
  emit phaseChanged(runId, phase);
}

} // namespace preflab::ui
