// RunWorker: lives in a QThread and adapts core's trainer callbacks into queued signals.
#pragma once

#include "ui/training/run_types.h"

#include <QObject>

#include <atomic>

namespace preflab::ui {

// Runs one training job at a time on the thread it lives in (moved there by RunController).
// start() blocks that thread until the run ends; meanwhile requestCancel() and setPaused() may be
// called from any thread (they only set atomic flags that core polls between steps). Every
// signal carries value types only and is delivered queued to receivers in other threads.
class RunWorker : public QObject {
  Q_OBJECT

public:
  explicit RunWorker(QObject *parent = nullptr);

  void requestCancel() { m_cancel = true; }        // any thread
  void setPaused(bool paused) { m_pause = paused; } // any thread

public slots:
  // Never throws: a bad config or a failing run ends in finished() with phase Failed.
  void start(const preflab::ui::RunRequest &request);

signals:
  void started(const QString &runId, const QString &runDir);
  void logged(const QString &runId, const preflab::ui::MetricRecord &record);
  void evaluated(const QString &runId, const preflab::ui::MetricRecord &record);
  void progress(const QString &runId, const QString &stage, double fraction);
  void message(const QString &runId, const QString &text);
  // The run waits for a person's labels: `open` of `asked` questions in the label store `store`.
  void labelsWanted(const QString &runId, const QString &store, const QString &annotator, qint64 asked,
                    qint64 open);
  void finished(const QString &runId, const preflab::ui::RunResult &result);

private:
  std::atomic<bool> m_cancel{false};
  std::atomic<bool> m_pause{false};
};

} // namespace preflab::ui
