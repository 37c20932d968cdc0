// ConfigDiffModel: key-by-key differences of two flattened configs.
#include "ui/runs/config_diff_model.h"

#include "ui/runs/config_yaml.h"

#include <QBrush>
#include <QFont>
#include <QSet>

#include <charconv>

namespace preflab::ui {

namespace {
// "3.0000000000000001e-05" (a double printed with 17 digits) reads as "3e-05".
QString shortestNumber(const QString &text) {
  // Short values are kept as written ("0.0001" stays); only 17-digit round-trip noise is redone.
  constexpr int kLongNumber = 12;
  bool ok = false;
  const double value = text.toDouble(&ok);
  if (!ok || text.size() <= kLongNumber)
    return text;
  // std::to_chars without a format: the shortest text that reads back as the same double,
  // fixed or scientific, whichever is shorter ("0.0003", "1e-08").
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return result.ec == std::errc() ? QString::fromLatin1(buffer, int(result.ptr - buffer)) : text;
}
} // namespace

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
  const QString &text = index.column() == 1 ? row.a : row.b;
  switch (role) {
  case Qt::DisplayRole:
    if (index.column() == 0)
      return row.key;
    return missing ? QString::fromLatin1(kMissing) : shortestNumber(text);
  case Qt::ToolTipRole: // the value exactly as the file has it
    if (index.column() == 0)
      return row.key;
    return missing ? QString::fromLatin1(kMissing) : text;
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
