// LabelWorker: runs the job, turning exceptions into an error text.
#include "ui/labels/label_worker.h"

#include <exception>

namespace preflab::ui {

void LabelWorker::run() {
  QString error;
  try {
    error = m_job([this](const std::string &stage,
                         double fraction) { emit progressed(QString::fromStdString(stage), fraction); },
                  &m_cancel);
  } catch (const std::exception &e) {
    error = QString::fromUtf8(e.what());
  }
  emit finished(error);
}

} // namespace preflab::ui
