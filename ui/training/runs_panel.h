// RunsPanel: the runs started in this window, with start, pause, resume and cancel controls.
#pragma once

#include <QWidget>

class QLabel;
class QPushButton;
class QTableView;

namespace preflab::ui {

class ActiveRunsModel;
class RunController;

// The one-button start of the embedded task sits on top, so a new user can train at once.
// Pause/resume/cancel act on the selected run (else the running one). GUI thread only.
class RunsPanel : public QWidget {
  Q_OBJECT

public:
  RunsPanel(RunController *controller, const QString &embeddedTitle, QWidget *parent = nullptr);

  QString selectedRun() const; // the selected run's id, else the running one, else ""
  ActiveRunsModel *model() const { return m_model; }
  QPushButton *startButton() const { return m_start; }

signals:
  void startEmbeddedRequested();
  void newRunRequested();
  void runActivated(const QString &runId); // double-click

private:
  void updateButtons();

  RunController *m_controller;
  ActiveRunsModel *m_model;
  QTableView *m_table = nullptr;
  QPushButton *m_start = nullptr;
  QPushButton *m_pause = nullptr;
  QPushButton *m_resume = nullptr;
  QPushButton *m_cancel = nullptr;
};

} // namespace preflab::ui
