// LabelWorker: one slow labeling job (generating candidates, scoring informativeness) off the GUI
// thread, with progress and cancel.
#pragma once

#include <QObject>
#include <QString>

#include <atomic>
#include <functional>
#include <string>

namespace preflab::ui {

// Lives in a QThread (moveToThread). The job reports progress through the function it is given
// and reads the cancel flag between batches; it returns "" or an error text, and never throws
// across the thread (exceptions become the error). Results travel in what the job captured: read
// them only after finished().
class LabelWorker : public QObject {
  Q_OBJECT

public:
  using Progress = std::function<void(const std::string &stage, double fraction)>;
  using Job = std::function<QString(const Progress &progress, const std::atomic<bool> *cancel)>;
  explicit LabelWorker(Job job, QObject *parent = nullptr) : QObject(parent), m_job(std::move(job)) {}

  void cancel() { m_cancel = true; }
  bool cancelled() const { return m_cancel.load(); }

public Q_SLOTS:
  void run();

Q_SIGNALS:
  void progressed(const QString &stage, double fraction);
  void finished(const QString &error);

private:
  Job m_job;
  std::atomic<bool> m_cancel{false};
};

} // namespace preflab::ui
