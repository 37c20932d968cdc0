// CompareWorker: runs one comparison (generate or score saved texts) in a worker thread.
#pragma once

#include "ui/compare/compare_row.h"

#include <QObject>

#include <atomic>

namespace preflab::ui {

// One job: the request and, for saved samples, the texts to score instead of sampling.
struct CompareJob {
  core::CompareRequest request;
  std::vector<int> rows;                   // table row of each prompt
  bool scoreSaved = false;                 // score textsA/textsB instead of generating
  std::vector<std::string> textsA, textsB; // with scoreSaved
};

// Lives in a QThread (moveToThread) for one job. run() calls the torch-free facade; only value
// types leave the thread, through the queued signals. cancel() may be called from any thread:
// the facade reads the flag between batches. Errors are caught here and delivered in
// CompareOutcome::error, never thrown across the thread boundary.
class CompareWorker : public QObject {
  Q_OBJECT

public:
  explicit CompareWorker(CompareJob job, QObject *parent = nullptr);

  void cancel() { m_cancel = true; }

public slots:
  void run();

signals:
  void progressed(const QString &stage, double fraction);
  void finished(const preflab::ui::CompareOutcome &outcome);

private:
  CompareJob m_job;
  std::atomic<bool> m_cancel{false};
};

} // namespace preflab::ui
