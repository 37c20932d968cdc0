// RunController: a queue of training runs executed one at a time by a RunWorker in its own QThread.
#pragma once

#include "ui/training/run_types.h"

#include <QHash>
#include <QObject>
#include <QStringList>
#include <QThread>

namespace preflab::ui {

class RunWorker;

// Owns the worker thread. GUI thread only. Runs start in the order they were enqueued, one at
// a time (one run already uses every core of a small machine; a second would halve both). A
// failing run ends as Failed with its message and the next queued run starts. Shutdown is
// request (cancel), quit, wait.
class RunController : public QObject {
  Q_OBJECT

public:
  explicit RunController(QObject *parent = nullptr);
  ~RunController() override; // shutdown()

  // Queues a run; returns its id (request.id, or a new one when empty). Starts it when idle.
  QString enqueue(RunRequest request);
  void pause(const QString &runId);  // a running run waits between steps
  void resume(const QString &runId); // a paused run goes on
  // A queued run is dropped (phase Cancelled at once); a running or paused run stops at the
  // next step boundary, saves a checkpoint and ends as Cancelled.
  void cancel(const QString &runId);
  // Cancels everything, waits up to `waitMs` for the running step to end and stops the thread.
  // Returns false when the worker did not stop in time.
  bool shutdown(int waitMs = 30000);

  RunPhase phase(const QString &runId) const;
  RunRequest request(const QString &runId) const;
  QStringList runIds() const;        // in enqueue order
  QString currentRun() const;        // the running or paused run, or ""
  int activeCount() const;           // queued + running + paused

signals:
  void runAdded(const QString &runId);
  void phaseChanged(const QString &runId, preflab::ui::RunPhase phase);
  void logged(const QString &runId, const preflab::ui::MetricRecord &record);
  void evaluated(const QString &runId, const preflab::ui::MetricRecord &record);
  void progress(const QString &runId, const QString &stage, double fraction);
  void message(const QString &runId, const QString &text);
  void labelsWanted(const QString &runId, const QString &store, const QString &annotator, qint64 asked,
                    qint64 open);
  void finished(const QString &runId, const preflab::ui::RunResult &result);
  void startRequested(const preflab::ui::RunRequest &request); // internal: to the worker

private:
  void startNext();
  void onWorkerFinished(const QString &runId, const RunResult &result);
  void setPhase(const QString &runId, RunPhase phase);

  QThread m_thread;
  RunWorker *m_worker = nullptr; // lives in m_thread; deleted when the thread finishes
  QStringList m_order;
  QHash<QString, RunRequest> m_requests;
  QHash<QString, RunPhase> m_phases;
  QString m_current;
  int m_nextId = 1;
};

} // namespace preflab::ui
