// DatasetTableModel: columns, elided display text, tooltips and numeric sort keys.
#include "ui/datasets/dataset_table_model.h"

namespace preflab::ui {

namespace {

QString qs(const std::string &s) {
  return QString::fromStdString(s);
}

QVariant textCell(const std::string &text, int role) {
  switch (role) {
  case Qt::DisplayRole:
    return DatasetTableModel::elide(qs(text));
  case Qt::ToolTipRole:
  case DatasetTableModel::FullTextRole:
  case DatasetTableModel::SortRole:
    return qs(text);
  default:
    return {};
  }
}

QVariant numberCell(double value, int role, const QString &shown) {
  switch (role) {
  case Qt::DisplayRole:
    return shown;
  case DatasetTableModel::SortRole:
    return value;
  case Qt::TextAlignmentRole:
    return int(Qt::AlignRight | Qt::AlignVCenter);
  default:
    return {};
  }
}

} // namespace

DatasetTableModel::DatasetTableModel(QObject *parent) : QAbstractTableModel(parent) {}

void DatasetTableModel::setDataset(std::shared_ptr<const core::TextPreferenceData> data) {
  beginResetModel();
  m_data = std::move(data);
  m_search.clear();
  if (m_data) {
    if (m_data->isUnpaired()) {
      m_search.reserve(int(m_data->unpaired.size()));
      for (const auto &u : m_data->unpaired)
        m_search << (qs(u.prompt) + '\n' + qs(u.completion)).toLower();
    } else {
      m_search.reserve(int(m_data->pairs.size()));
      for (const auto &p : m_data->pairs)
        m_search << (qs(p.prompt) + '\n' + qs(p.chosen) + '\n' + qs(p.rejected)).toLower();
    }
  }
  endResetModel();
}

int DatasetTableModel::rowCount(const QModelIndex &parent) const {
  if (parent.isValid() || !m_data)
    return 0;
  return int(m_data->isUnpaired() ? m_data->unpaired.size() : m_data->pairs.size());
}

int DatasetTableModel::columnCount(const QModelIndex &parent) const {
  if (parent.isValid())
    return 0;
  return isUnpaired() ? int(UnpairedColumnCount) : int(PairedColumnCount);
}

QVariant DatasetTableModel::data(const QModelIndex &index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid) || !m_data)
    return {};
  return isUnpaired() ? unpairedData(index.row(), index.column(), role)
                      : pairedData(index.row(), index.column(), role);
}

QVariant DatasetTableModel::pairedData(int row, int column, int role) const {
  const core::TextPair &p = m_data->pairs[std::size_t(row)];
  if (role == LineRole)
    return qlonglong(p.line);
  switch (column) {
  case Id:
    if (role == SortRole)
      return qlonglong(p.line);
    return role == Qt::DisplayRole || role == Qt::ToolTipRole ? QVariant(qs(p.id)) : QVariant();
  case Prompt:
    return textCell(p.prompt, role);
  case Chosen:
    return textCell(p.chosen, role);
  case Rejected:
    return textCell(p.rejected, role);
  case LenChosen:
    return numberCell(double(p.chosen.size()), role, QString::number(p.chosen.size()));
  case LenRejected:
    return numberCell(double(p.rejected.size()), role, QString::number(p.rejected.size()));
  case RaterFraction:
    if (!p.raterFraction)
      return role == SortRole ? QVariant(-1.0) : QVariant();
    return numberCell(*p.raterFraction, role, QString::number(*p.raterFraction, 'f', 2));
  default:
    return {};
  }
}

QVariant DatasetTableModel::unpairedData(int row, int column, int role) const {
  const core::UnpairedExample &u = m_data->unpaired[std::size_t(row)];
  if (role == LineRole)
    return qlonglong(u.line);
  switch (column) {
  case UId:
    if (role == SortRole)
      return qlonglong(u.line);
    return role == Qt::DisplayRole || role == Qt::ToolTipRole ? QVariant(qs(u.id)) : QVariant();
  case UPrompt:
    return textCell(u.prompt, role);
  case UCompletion:
    return textCell(u.completion, role);
  case ULabel:
    if (role == SortRole)
      return u.desirable ? 1 : 0;
    return role == Qt::DisplayRole ? QVariant(u.desirable ? tr("desirable") : tr("undesirable")) : QVariant();
  case ULen:
    return numberCell(double(u.completion.size()), role, QString::number(u.completion.size()));
  default:
    return {};
  }
}

QVariant DatasetTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
    return QAbstractTableModel::headerData(section, orientation, role);
  static const char *const paired[] = {"id",         "prompt",       "chosen",        "rejected",
                                       "len chosen", "len rejected", "rater fraction"};
  static const char *const unpaired[] = {"id", "prompt", "completion", "label", "len"};
  if (isUnpaired())
    return section >= 0 && section < UnpairedColumnCount ? tr(unpaired[section]) : QVariant();
  return section >= 0 && section < PairedColumnCount ? tr(paired[section]) : QVariant();
}

QString DatasetTableModel::elide(const QString &text, int maxChars) {
  QString line = text;
  line.replace(QLatin1String("\r\n"), QStringLiteral("⏎")).replace('\n', QStringLiteral("⏎"));
  line.replace('\t', ' ');
  if (line.size() > maxChars)
    line = line.left(maxChars - 1) + QStringLiteral("…");
  return line;
}

} // namespace preflab::ui
