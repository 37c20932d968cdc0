// ActiveRunsModel: rows follow RunController's queue, phases, logged steps and messages.
#include "ui/training/active_runs_model.h"

#include "ui/training/run_controller.h"

#include <QColor>
#include <QDir>

#include <cmath>

namespace preflab::ui {

ActiveRunsModel::ActiveRunsModel(RunController *controller, QObject *parent)
    : QAbstractTableModel(parent), m_controller(controller) {
  for (const auto &id : controller->runIds())
    addRun(id);
  connect(controller, &RunController::runAdded, this, &ActiveRunsModel::addRun);
  connect(controller, &RunController::phaseChanged, this, [this](const QString &id, RunPhase phase) {
    const int row = rowOf(id);
    if (row < 0)
      return;
    m_rows[row].phase = phase;
    touch(row);
  });
  connect(controller, &RunController::logged, this, [this](const QString &id, const MetricRecord &r) {
    const int row = rowOf(id);
    if (row < 0)
      return;
    m_rows[row].step = r.step;
    m_rows[row].maxSteps = r.maxSteps;
    m_rows[row].loss = r.metrics.value(QStringLiteral("loss"), m_rows[row].loss);
    m_rows[row].detail = tr("training");
    touch(row);
  });
  connect(controller, &RunController::progress, this,
          [this](const QString &id, const QString &stage, double f) {
            const int row = rowOf(id);
            if (row < 0)
              return;
            m_rows[row].detail = QStringLiteral("%1 %2%").arg(stage).arg(int(std::round(100.0 * f)));
            touch(row);
          });
  connect(controller, &RunController::message, this, [this](const QString &id, const QString &text) {
    const int row = rowOf(id);
    if (row < 0)
      return;
    m_rows[row].detail = text;
    touch(row);
  });
  connect(controller, &RunController::finished, this, [this](const QString &id, const RunResult &result) {
    const int row = rowOf(id);
    if (row < 0)
      return;
    m_rows[row].phase = result.phase;
    m_rows[row].detail = result.message;
    if (result.steps > 0)
      m_rows[row].step = result.steps;
    if (result.maxSteps > 0)
      m_rows[row].maxSteps = result.maxSteps;
    touch(row);
  });
}

void ActiveRunsModel::addRun(const QString &runId) {
  if (rowOf(runId) >= 0)
    return;
  const auto request = m_controller->request(runId);
  Row row;
  row.id = runId;
  row.name = request.label;
  row.objective = QString::fromStdString(request.lossType());
  row.folder = QDir::toNativeSeparators(QString::fromStdString(request.outputDir()));
  row.maxSteps = std::max<qint64>(0, request.maxSteps());
  row.phase = m_controller->phase(runId);
  beginInsertRows({}, int(m_rows.size()), int(m_rows.size()));
  m_rows.push_back(row);
  endInsertRows();
}

void ActiveRunsModel::touch(int row) {
  emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

int ActiveRunsModel::rowCount(const QModelIndex &parent) const {
  return parent.isValid() ? 0 : int(m_rows.size());
}
int ActiveRunsModel::columnCount(const QModelIndex &parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QString ActiveRunsModel::runIdAt(int row) const {
  return row >= 0 && row < m_rows.size() ? m_rows[row].id : QString();
}

int ActiveRunsModel::rowOf(const QString &runId) const {
  for (int i = 0; i < m_rows.size(); ++i)
    if (m_rows[i].id == runId)
      return i;
  return -1;
}

QVariant ActiveRunsModel::data(const QModelIndex &index, int role) const {
  if (!index.isValid() || index.row() >= m_rows.size() || index.column() >= ColumnCount)
    return {};
  const Row &r = m_rows[index.row()];
  if (role == RunIdRole)
    return r.id;
  if (role == Qt::ForegroundRole && index.column() == State) {
    switch (r.phase) {
    case RunPhase::Failed:
      return QColor(0xc6, 0x28, 0x28);
    case RunPhase::Finished:
      return QColor(0x2e, 0x7d, 0x32);
    case RunPhase::Paused:
      return QColor(0xef, 0x6c, 0x00);
    default:
      return {};
    }
  }
  if (role == Qt::ToolTipRole && (index.column() == Detail || index.column() == Folder))
    return index.column() == Detail ? r.detail : r.folder;
  if (role != Qt::DisplayRole)
    return {};
  switch (index.column()) {
  case Name:
    return r.name;
  case Objective:
    return r.objective;
  case State:
    return runPhaseName(r.phase);
  case Progress:
    return r.maxSteps > 0 ? QStringLiteral("%1 / %2").arg(r.step).arg(r.maxSteps) : QString::number(r.step);
  case Loss:
    return std::isfinite(r.loss) ? QString::number(r.loss, 'f', 4) : QString();
  case Detail:
    return r.detail;
  case Folder:
    return r.folder;
  default:
    return {};
  }
}

QVariant ActiveRunsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
    return {};
  static const char *names[] = {"Name", "Objective", "State", "Step", "Loss", "Stage / message", "Folder"};
  return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

} // namespace preflab::ui
