// ActiveRunsModel: the runs started in this window (queued, running, paused, ended) as a table.
#pragma once

#include "ui/training/run_types.h"

#include <QAbstractTableModel>
#include <QVector>

namespace preflab::ui {

class RunController;

// One row per run the controller knows, in enqueue order: name, objective, state, step / total,
// last loss, stage or last message, run folder. Follows the controller's signals; GUI thread only.
class ActiveRunsModel : public QAbstractTableModel {
  Q_OBJECT

public:
  enum Column { Name, Objective, State, Progress, Loss, Detail, Folder, ColumnCount };
  static constexpr int RunIdRole = Qt::UserRole + 1;

  explicit ActiveRunsModel(RunController *controller, QObject *parent = nullptr);

  int rowCount(const QModelIndex &parent = {}) const override;
  int columnCount(const QModelIndex &parent = {}) const override;
  QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

  QString runIdAt(int row) const;
  int rowOf(const QString &runId) const;

private:
  struct Row {
    QString id, name, objective, folder, detail;
    RunPhase phase = RunPhase::Queued;
    qint64 step = 0, maxSteps = 0;
    double loss = qQNaN();
  };
  void addRun(const QString &runId);
  void touch(int row);

  RunController *m_controller;
  QVector<Row> m_rows;
};

} // namespace preflab::ui
