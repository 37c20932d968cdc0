// DiagnosticsPanel: list of findings with standard severity icons; run-folder convenience loader.
#include "ui/diagnostics/diagnostics_panel.h"

#include "core/api/objectives.h"
#include "core/api/run_reader.h"

#include <cmath>

#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QStyle>
#include <QVBoxLayout>

namespace preflab::ui {

DiagnosticsPanel::DiagnosticsPanel(QWidget *parent) : QWidget(parent) {
  auto *layout = new QVBoxLayout(this);
  m_title = new QLabel(this);
  m_list = new QListWidget(this);
  m_list->setWordWrap(true);
  // Wrap long explanations at the dock's width instead of scrolling sideways.
  m_list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  m_list->setResizeMode(QListView::Adjust);
  m_list->setIconSize(QSize(20, 20));
  m_list->setSelectionMode(QAbstractItemView::NoSelection);
  m_list->setAlternatingRowColors(true);
  layout->addWidget(m_title);
  layout->addWidget(m_list, 1);
  clear();
}

void DiagnosticsPanel::clear() {
  m_findings.clear();
  m_list->clear();
  m_title->setText(tr("Diagnostics: no run analysed."));
  emit findingsChanged(0);
}

void DiagnosticsPanel::setFindings(const std::vector<core::DiagnosticFinding> &findings) {
  m_findings = findings;
  m_list->clear();
  const QIcon warning = style()->standardIcon(QStyle::SP_MessageBoxWarning);
  const QIcon info = style()->standardIcon(QStyle::SP_MessageBoxInformation);
  for (const core::DiagnosticFinding &f : findings) {
    const bool isWarning = f.severity == core::FindingSeverity::Warning;
    auto *item = new QListWidgetItem(isWarning ? warning : info, QString::fromStdString(f.message), m_list);
    item->setToolTip(
        QStringLiteral("%1 (%2)").arg(QString::fromStdString(f.id), isWarning ? tr("warning") : tr("info")));
    item->setData(Qt::UserRole, QString::fromStdString(f.id));
  }
  if (findings.empty()) {
    auto *item = new QListWidgetItem(style()->standardIcon(QStyle::SP_DialogApplyButton),
                                     tr("No problems found in the logged metrics."), m_list);
    item->setFlags(Qt::NoItemFlags | Qt::ItemIsEnabled);
  }
  const auto warnings = std::count_if(findings.begin(), findings.end(), [](const core::DiagnosticFinding &f) {
    return f.severity == core::FindingSeverity::Warning;
  });
  const auto notes = std::ptrdiff_t(findings.size()) - warnings;
  m_title->setText(tr("Diagnostics: %1 %2, %3 %4")
                       .arg(warnings)
                       .arg(warnings == 1 ? tr("warning") : tr("warnings"))
                       .arg(notes)
                       .arg(notes == 1 ? tr("note") : tr("notes")));
  emit findingsChanged(int(findings.size()));
}

void DiagnosticsPanel::analyse(const core::RunDiagnosticsInput &input) {
  setFindings(core::diagnoseRun(input));
}

bool DiagnosticsPanel::analyseRunFolder(const QString &runDir, QString *error) {
  const core::RunReader run(runDir.toStdString());
  auto fail = [&](const QString &why) {
    clear(); // never leave another run's findings on screen
    m_title->setText(tr("Diagnostics: %1 — %2").arg(QFileInfo(runDir).fileName(), why));
    if (error)
      *error = why;
    return false;
  };
  const auto objective = run.lossType();
  if (objective.empty())
    return fail(run.configError().empty() ? tr("the run's config.yaml names no loss_type")
                                          : QString::fromStdString(run.configError()));
  core::RunDiagnosticsInput input = core::diagnosticsInputFromRecords(run.metrics());
  input.objective = objective;
  input.beta = run.beta();
  if (!std::isfinite(input.beta) || (run.isImageRun() && input.beta == 0.0)) {
    const core::ObjectiveInfo *info = core::findObjectiveInfo(objective); // an image run's 0: the default
    input.beta = info && info->modality == core::Modality::Image ? info->defaultBeta() : 0.0;
  }
  const auto number = [&](const char *key, std::int64_t fallback) {
    try {
      return std::int64_t(std::stoll(run.configValue(key, std::to_string(fallback))));
    } catch (const std::exception &) {
      return fallback;
    }
  };
  input.pairsPerAccuracyValue =
      number("per_device_train_batch_size", 0) * number("gradient_accumulation_steps", 1);
  analyse(input);
  m_title->setText(tr("%1 — %2").arg(QFileInfo(runDir).fileName(), m_title->text()));
  return true;
}

} // namespace preflab::ui
