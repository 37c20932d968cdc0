// SweepTableModel: columns from the rows' values and metrics; numbers sort as numbers.
#include "ui/sweep/sweep_table_model.h"

#include <QBrush>
#include <QColor>
#include <QSet>

#include <cmath>
#include <limits>

namespace preflab::ui {

namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// The numbers a researcher reads first, in this order, when a run has them.
const QStringList &headlineMetrics() {
  static const QStringList kNames = {QStringLiteral("eval/win_rate"),
                                     QStringLiteral("eval/reward"),
                                     QStringLiteral("eval/kl"),
                                     QStringLiteral("eval/oracle_reward"),
                                     QStringLiteral("eval/rewards/accuracies"),
                                     QStringLiteral("eval/ranking/accuracy"),
                                     QStringLiteral("eval/loss"),
                                     QStringLiteral("loss")};
  return kNames;
}

bool parseNumber(const QString &text, double *out) {
  bool ok = false;
  const double v = text.trimmed().toDouble(&ok);
  if (ok && out)
    *out = v;
  return ok;
}

QString formatNumber(double v) {
  if (!std::isfinite(v))
    return QStringLiteral("–");
  return QString::number(v, 'g', 4);
}

} // namespace

SweepTableModel::SweepTableModel(QObject *parent) : QAbstractTableModel(parent) {}

void SweepTableModel::setRows(std::vector<core::SweepRow> rows) {
  QStringList values, metrics;
  QSet<QString> seenValues, seenMetrics;
  for (const auto &row : rows) {
    for (const auto &[key, value] : row.values)
      if (const auto k = QString::fromStdString(key); !seenValues.contains(k)) {
        seenValues.insert(k);
        values << k;
      }
    for (const auto &[key, value] : row.metrics)
      seenMetrics.insert(QString::fromStdString(key));
  }
  for (const auto &key : values) // a run that also logs a swept value (beta): one column
    seenMetrics.remove(key);
  for (const auto &name : headlineMetrics())
    if (seenMetrics.remove(name))
      metrics << name;
  QStringList rest(seenMetrics.begin(), seenMetrics.end());
  rest.sort();
  metrics << rest;
  bool sameShape = values == m_valueColumns && metrics == m_metricColumns && rows.size() == m_rows.size();
  for (std::size_t i = 0; sameShape && i < rows.size(); ++i)
    sameShape = rows[i].name == m_rows[i].name;
  if (sameShape) {
    m_rows = std::move(rows);
    if (!m_rows.empty())
      emit dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1));
    return;
  }
  beginResetModel();
  m_rows = std::move(rows);
  m_valueColumns = values;
  m_metricColumns = metrics;
  endResetModel();
}

QString SweepTableModel::columnName(int column) const {
  if (column == 0)
    return QStringLiteral("run");
  if (column == 1)
    return QStringLiteral("state");
  column -= 2;
  if (column < m_valueColumns.size())
    return m_valueColumns[column];
  return m_metricColumns.value(column - m_valueColumns.size());
}

SweepTableModel::ColumnKind SweepTableModel::columnKind(int column) const {
  if (column == 0)
    return ColumnKind::Name;
  if (column == 1)
    return ColumnKind::State;
  return column - 2 < m_valueColumns.size() ? ColumnKind::Value : ColumnKind::Metric;
}

int SweepTableModel::columnOf(const QString &name) const {
  for (int c = 0; c < columnCount(); ++c)
    if (columnName(c) == name)
      return c;
  return -1;
}

QStringList SweepTableModel::numericColumns() const {
  QStringList out;
  for (const auto &key : m_valueColumns) {
    bool numeric = false, allNumbers = true;
    for (int r = 0; r < rowCount() && allNumbers; ++r) {
      const QString t = text(r, key);
      if (t.isEmpty())
        continue;
      allNumbers = parseNumber(t, nullptr);
      numeric = numeric || allNumbers;
    }
    if (numeric && allNumbers)
      out << key;
  }
  return out + m_metricColumns;
}

QStringList SweepTableModel::categoricalColumns() const {
  const QStringList numeric = numericColumns();
  QStringList out;
  for (const auto &key : m_valueColumns)
    if (!numeric.contains(key))
      out << key;
  return out;
}

QStringList SweepTableModel::groupingColumns() const {
  QStringList out = categoricalColumns();
  for (const auto &key : numericColumns()) {
    if (!m_valueColumns.contains(key))
      continue;
    QSet<QString> distinct;
    for (int r = 0; r < rowCount(); ++r)
      distinct.insert(text(r, key));
    if (distinct.size() <= kMaxGroups)
      out << key;
  }
  return out;
}

QString SweepTableModel::text(int row, const QString &column) const {
  if (row < 0 || row >= rowCount())
    return {};
  const auto &r = m_rows[std::size_t(row)];
  if (column == QLatin1String("run"))
    return QString::fromStdString(r.name);
  if (column == QLatin1String("state"))
    return QString::fromStdString(r.state);
  const auto key = column.toStdString();
  for (const auto &[k, v] : r.values)
    if (k == key)
      return QString::fromStdString(v);
  if (const auto it = r.metrics.find(key); it != r.metrics.end())
    return formatNumber(it->second);
  return {};
}

double SweepTableModel::number(int row, const QString &column) const {
  if (row < 0 || row >= rowCount())
    return kMissing;
  const auto &r = m_rows[std::size_t(row)];
  const auto key = column.toStdString();
  if (const auto it = r.metrics.find(key); it != r.metrics.end())
    return it->second;
  for (const auto &[k, v] : r.values)
    if (k == key) {
      double out = kMissing;
      return parseNumber(QString::fromStdString(v), &out) ? out : kMissing;
    }
  return kMissing;
}

int SweepTableModel::rowCount(const QModelIndex &parent) const {
  return parent.isValid() ? 0 : int(m_rows.size());
}

int SweepTableModel::columnCount(const QModelIndex &parent) const {
  return parent.isValid() ? 0 : 2 + int(m_valueColumns.size() + m_metricColumns.size());
}

QVariant SweepTableModel::data(const QModelIndex &index, int role) const {
  if (!index.isValid() || index.row() >= rowCount() || index.column() >= columnCount())
    return {};
  const auto &r = m_rows[std::size_t(index.row())];
  const QString column = columnName(index.column());
  const auto kind = columnKind(index.column());
  switch (role) {
  case Qt::DisplayRole:
    if (kind == ColumnKind::State && r.state == "running" && r.maxSteps > 0)
      return QStringLiteral("running %1/%2").arg(r.step).arg(r.maxSteps);
    if (const QString t = text(index.row(), column); !t.isEmpty() || kind != ColumnKind::Metric)
      return t;
    return QStringLiteral("–"); // not logged (yet)
  case SortRole: {
    if (kind == ColumnKind::Name || kind == ColumnKind::State)
      return text(index.row(), column);
    const double v = number(index.row(), column);
    if (std::isfinite(v))
      return v;
    // Text values sort as text; a missing number sorts below every number.
    const QString t = text(index.row(), column);
    return kind == ColumnKind::Value && !t.isEmpty() ? QVariant(t) : QVariant(-INFINITY);
  }
  case DirRole:
    return QString::fromStdString(r.dir);
  case Qt::ToolTipRole:
    return index.column() == 0 ? QString::fromStdString(r.dir) : QVariant();
  case Qt::TextAlignmentRole:
    return kind == ColumnKind::Metric ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
  case Qt::ForegroundRole:
    if (kind == ColumnKind::State && (r.state == "failed" || r.state == "unknown"))
      return QBrush(QColor(0xc6, 0x28, 0x28));
    if (r.state == "queued")
      return QBrush(QColor(0x80, 0x80, 0x80));
    return {};
  default:
    return {};
  }
}

QVariant SweepTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
    return QAbstractTableModel::headerData(section, orientation, role);
  return columnName(section);
}

} // namespace preflab::ui
