// DiagnosticsPanel: the run diagnostics' findings as a list with a severity icon and a one-line explanation.
#pragma once

#include "core/api/diagnostics.h"

#include <QWidget>

#include <vector>

class QLabel;
class QListWidget;

namespace preflab::ui {

// Shows core::diagnoseRun findings (warnings first, as core orders them); an empty list shows
// "No problems found". GUI thread only; analysing is cheap (a few passes over the series).
class DiagnosticsPanel : public QWidget {
  Q_OBJECT

public:
  explicit DiagnosticsPanel(QWidget *parent = nullptr);

  void setFindings(const std::vector<core::DiagnosticFinding> &findings);
  // diagnoseRun(input), then setFindings.
  void analyse(const core::RunDiagnosticsInput &input);
  // Reads a run folder's metrics.jsonl and config.yaml (objective, β, batch × accumulation) and
  // analyses them. Returns false with *error set when the folder has no readable metrics or config.
  bool analyseRunFolder(const QString &runDir, QString *error = nullptr);
  void clear();

  int findingCount() const { return int(m_findings.size()); }
  const std::vector<core::DiagnosticFinding> &findings() const { return m_findings; }
  QListWidget *list() const { return m_list; }

signals:
  void findingsChanged(int count);

private:
  std::vector<core::DiagnosticFinding> m_findings;
  QLabel *m_title = nullptr;
  QListWidget *m_list = nullptr;
};

} // namespace preflab::ui
