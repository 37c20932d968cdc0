// RunsPanel: buttons and a table over ActiveRunsModel, commands forwarded to RunController.
#include "ui/training/runs_panel.h"

#include "ui/training/active_runs_model.h"
#include "ui/training/run_controller.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QTableView>
#include <QVBoxLayout>

namespace preflab::ui {

RunsPanel::RunsPanel(RunController *controller, const QString &embeddedTitle, QWidget *parent)
    : QWidget(parent), m_controller(controller), m_model(new ActiveRunsModel(controller, this)) {
  m_start = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), embeddedTitle);
  m_start->setToolTip(tr("Fine-tunes a tiny GPT so its reviews turn positive: SFT, pairs labelled by "
                         "simulated raters, DPO, then evaluation. No download; a few minutes on a laptop."));
  m_start->setMinimumHeight(32);
  auto *newRun = new QPushButton(tr("New run…"));
  m_pause = new QPushButton(style()->standardIcon(QStyle::SP_MediaPause), tr("Pause"));
  m_resume = new QPushButton(style()->standardIcon(QStyle::SP_MediaSeekForward), tr("Resume"));
  m_cancel = new QPushButton(style()->standardIcon(QStyle::SP_MediaStop), tr("Cancel"));
  m_table = new QTableView;
  m_table->setModel(m_model);
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setSelectionMode(QAbstractItemView::SingleSelection);
  m_table->verticalHeader()->hide();
  m_table->horizontalHeader()->setStretchLastSection(true);
  m_table->setAlternatingRowColors(true);

  auto *top = new QHBoxLayout;
  top->addWidget(m_start, 1);
  top->addWidget(newRun);
  auto *controls = new QHBoxLayout;
  controls->addWidget(m_pause);
  controls->addWidget(m_resume);
  controls->addWidget(m_cancel);
  controls->addStretch(1);
  auto *layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(m_table, 1);
  layout->addLayout(controls);

  connect(m_start, &QPushButton::clicked, this, &RunsPanel::startEmbeddedRequested);
  connect(newRun, &QPushButton::clicked, this, &RunsPanel::newRunRequested);
  connect(m_pause, &QPushButton::clicked, this, [this] { m_controller->pause(selectedRun()); });
  connect(m_resume, &QPushButton::clicked, this, [this] { m_controller->resume(selectedRun()); });
  connect(m_cancel, &QPushButton::clicked, this, [this] { m_controller->cancel(selectedRun()); });
  connect(m_table, &QTableView::doubleClicked, this,
          [this](const QModelIndex &i) { emit runActivated(m_model->runIdAt(i.row())); });
  connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &RunsPanel::updateButtons);
  connect(controller, &RunController::phaseChanged, this, &RunsPanel::updateButtons);
  updateButtons();
}

QString RunsPanel::selectedRun() const {
  const auto rows = m_table->selectionModel()->selectedRows();
  if (!rows.isEmpty())
    return m_model->runIdAt(rows.first().row());
  return m_controller->currentRun();
}

void RunsPanel::updateButtons() {
  const QString id = selectedRun();
  const auto phase = id.isEmpty() ? RunPhase::Finished : m_controller->phase(id);
  m_pause->setEnabled(phase == RunPhase::Running);
  m_resume->setEnabled(phase == RunPhase::Paused);
  m_cancel->setEnabled(isActive(phase));
}

} // namespace preflab::ui
