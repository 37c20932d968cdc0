// CompareWorker: the facade call off the GUI thread, with progress and cancellation.
#include "ui/compare/compare_worker.h"

#include <exception>

namespace preflab::ui {

CompareWorker::CompareWorker(CompareJob job, QObject *parent) : QObject(parent), m_job(std::move(job)) {}

void CompareWorker::run() {
  CompareOutcome outcome;
  outcome.modelRows = m_job.rows;
  auto progress = [this](const std::string &stage, double fraction) {
    emit progressed(QString::fromStdString(stage), fraction);
  };
  try {
    outcome.rows = m_job.scoreSaved ? core::scoreExistingTexts(m_job.request, m_job.textsA, m_job.textsB,
                                                               progress, &m_cancel)
                                    : core::compareGenerations(m_job.request, progress, &m_cancel);
    outcome.cancelled = m_cancel.load();
  } catch (const std::exception &e) {
    outcome.error = QString::fromUtf8(e.what());
  }
  outcome.modelRows.resize(outcome.rows.size());
  emit finished(outcome);
}

} // namespace preflab::ui
