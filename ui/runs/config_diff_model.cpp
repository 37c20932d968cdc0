// ConfigDiffModel: key-by-key differences of two flattened configs.
#include "ui/runs/config_diff_model.h"

#include "ui/runs/config_yaml.h"

#include <QBrush>
#include <QFont>
#include <QSet>

namespace preflab::ui {

ConfigDiffModel::ConfigDiffModel(QObject *parent) : QAbstractTableModel(parent) {}

void ConfigDiffModel::setConfigs(const QString &nameA, const QMap<QString, QString> &a, const QString &nameB,
                                 const QMap<QString, QString> &b) {
  beginResetModel();
  m_rows.clear();
  m_nameA = nameA;
  m_nameB = nameB;
  QStringList keys = a.keys() + b.keys();
  keys.sort();
  keys.removeDuplicates();
  for (const QString &key : keys) {
    Row row{key, a.value(key), b.value(key), a.contains(key), b.contains(key)};
    if (row.inA && row.inB && configValuesEqual(row.a, row.b))
      continue;
    m_rows.append(row);
  }
  endResetModel();
  emit headerDataChanged(Qt::Horizontal, 0, 2);
}

void ConfigDiffModel::clear() {
  beginResetModel();
  m_rows.clear();
  m_nameA.clear();
  m_nameB.clear();
  endResetModel();
}

QStringList ConfigDiffModel::differingKeys() const {
  QStringList keys;
  for (const Row &row : m_rows)
    keys.append(row.key);
  return keys;
}

int ConfigDiffModel::rowCount(const QModelIndex &parent) const {
  return parent.isValid() ? 0 : int(m_rows.size());
}

int ConfigDiffModel::columnCount(const QModelIndex &parent) const {
  return parent.isValid() ? 0 : 3;
}

QVariant ConfigDiffModel::data(const QModelIndex &index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
    return {};
  const Row &row = m_rows[index.row()];
  const bool missing = (index.column() == 1 && !row.inA) || (index.column() == 2 && !row.inB);
  switch (role) {
  case Qt::DisplayRole:
  case Qt::ToolTipRole:
    if (index.column() == 0)
      return row.key;
    if (missing)
      return QString::fromLatin1(kMissing);
    return index.column() == 1 ? row.a : row.b;
  case Qt::ForegroundRole:
    return missing ? QVariant(QBrush(Qt::gray)) : QVariant();
  case Qt::FontRole:
    if (missing) {
      QFont font;
      font.setItalic(true);
      return font;
    }
    return {};
  default:
    return {};
  }
}

QVariant ConfigDiffModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section > 2)
    return QAbstractTableModel::headerData(section, orientation, role);
  if (section == 0)
    return tr("Key");
  return section == 1 ? (m_nameA.isEmpty() ? tr("Run A") : m_nameA)
                      : (m_nameB.isEmpty() ? tr("Run B") : m_nameB);
}

} // namespace preflab::ui
