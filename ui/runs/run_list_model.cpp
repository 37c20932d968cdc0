// RunListModel: rows of opened run folders.
#include "ui/runs/run_list_model.h"

#include <QBrush>

namespace preflab::ui {

RunListModel::RunListModel(QObject *parent) : QAbstractTableModel(parent) {}

int RunListModel::addRun(const Entry &entry) {
  const int existing = rowOf(entry.dir);
  if (existing >= 0)
    return existing;
  const int row = int(m_entries.size());
  beginInsertRows({}, row, row);
  m_entries.append(entry);
  endInsertRows();
  return row;
}

void RunListModel::removeRun(const QString &dir) {
  const int row = rowOf(dir);
  if (row < 0)
    return;
  beginRemoveRows({}, row, row);
  m_entries.removeAt(row);
  endRemoveRows();
}

int RunListModel::rowOf(const QString &dir) const {
  for (int row = 0; row < m_entries.size(); ++row)
    if (m_entries[row].dir == dir)
      return row;
  return -1;
}

void RunListModel::setStatus(const QString &dir, const QString &state, const QString &message, qint64 step,
                             qint64 maxSteps) {
  const int row = rowOf(dir);
  if (row < 0)
    return;
  Entry &e = m_entries[row];
  e.state = state;
  e.message = message;
  e.step = step;
  e.maxSteps = maxSteps;
  emitRowChanged(row);
}

void RunListModel::setObjective(const QString &dir, const QString &objective) {
  const int row = rowOf(dir);
  if (row < 0)
    return;
  m_entries[row].objective = objective;
  emitRowChanged(row);
}

void RunListModel::setMalformedLines(const QString &dir, qint64 count) {
  const int row = rowOf(dir);
  if (row < 0)
    return;
  m_entries[row].malformedLines = count;
  emitRowChanged(row);
}

void RunListModel::emitRowChanged(int row) {
  emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

int RunListModel::rowCount(const QModelIndex &parent) const {
  return parent.isValid() ? 0 : int(m_entries.size());
}

int RunListModel::columnCount(const QModelIndex &parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant RunListModel::data(const QModelIndex &index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
    return {};
  const Entry &e = m_entries[index.row()];
  if (role == kDirRole)
    return e.dir;
  if (role == Qt::ToolTipRole) {
    QString tip = e.dir;
    if (!e.message.isEmpty())
      tip += QLatin1Char('\n') + e.message;
    if (e.malformedLines > 0)
      tip += tr("\n%n malformed metrics line(s) skipped", nullptr, int(e.malformedLines));
    return tip;
  }
  if (role == Qt::ForegroundRole && index.column() == State && e.state == QLatin1String("failed"))
    return QBrush(Qt::red);
  if (role != Qt::DisplayRole)
    return {};
  switch (index.column()) {
  case Name:
    return e.name;
  case State:
    return e.state.isEmpty() ? tr("unknown") : e.state;
  case Step:
    return e.maxSteps > 0 ? QStringLiteral("%1/%2").arg(e.step).arg(e.maxSteps) : QString::number(e.step);
  case Objective:
    return e.objective;
  case Folder:
    return e.dir;
  default:
    return {};
  }
}

QVariant RunListModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
    return QAbstractTableModel::headerData(section, orientation, role);
  switch (section) {
  case Name:
    return tr("Name");
  case State:
    return tr("State");
  case Step:
    return tr("Step");
  case Objective:
    return tr("Objective");
  case Folder:
    return tr("Folder");
  default:
    return {};
  }
}

} // namespace preflab::ui
