// CompareTableModel: editable prompts and seeds, then A/B texts and scores once compared.
#include "ui/compare/compare_table_model.h"

#include <QFont>

#include <algorithm>

namespace preflab::ui {

namespace {
QString oneLine(const std::string &text) {
  return QString::fromUtf8(text.data(), qsizetype(text.size())).replace('\n', QChar(0x23CE)).trimmed();
}

QVariant score(const std::optional<core::ComparedPrompt> &result, bool sideA) {
  if (!result)
    return {};
  const auto &s = sideA ? result->a.score : result->b.score;
  return s ? QVariant(*s) : QVariant();
}
} // namespace

CompareTableModel::CompareTableModel(QObject *parent) : QAbstractTableModel(parent) {}

void CompareTableModel::setRows(std::vector<CompareRow> rows) {
  beginResetModel();
  m_rows = std::move(rows);
  endResetModel();
}

int CompareTableModel::addPrompt(const QString &prompt, quint64 seed) {
  const int row = rowCount();
  beginInsertRows({}, row, row);
  CompareRow r;
  r.prompt = prompt;
  r.seed = seed;
  m_rows.push_back(std::move(r));
  endInsertRows();
  return row;
}

void CompareTableModel::removeRowsAt(QList<int> rows) {
  std::sort(rows.begin(), rows.end(), std::greater<int>());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  for (int row : rows) {
    if (row < 0 || row >= rowCount())
      continue;
    beginRemoveRows({}, row, row);
    m_rows.erase(m_rows.begin() + row);
    endRemoveRows();
  }
}

void CompareTableModel::setResults(const std::vector<int> &rows,
                                   const std::vector<core::ComparedPrompt> &results) {
  for (std::size_t i = 0; i < rows.size() && i < results.size(); ++i) {
    const int row = rows[i];
    if (row < 0 || row >= rowCount())
      continue;
    m_rows[std::size_t(row)].result = results[i];
    Q_EMIT dataChanged(index(row, TextA), index(row, ScoreB));
  }
}

void CompareTableModel::clearResults() {
  for (auto &r : m_rows)
    r.result.reset();
  if (!m_rows.empty())
    Q_EMIT dataChanged(index(0, TextA), index(rowCount() - 1, ScoreB));
}

quint64 CompareTableModel::nextSeed() const {
  quint64 seed = 0;
  for (const auto &r : m_rows)
    seed = std::max(seed, r.seed);
  return seed + 1;
}

CompareSummary CompareTableModel::summary() const {
  CompareSummary s;
  double wins = 0;
  for (const auto &r : m_rows) {
    if (!r.result || !r.result->a.score || !r.result->b.score)
      continue;
    const double a = *r.result->a.score, b = *r.result->b.score;
    ++s.compared;
    s.meanA += a;
    s.meanB += b;
    wins += b > a ? 1.0 : b == a ? 0.5 : 0.0;
  }
  if (s.compared > 0) {
    s.meanA /= s.compared;
    s.meanB /= s.compared;
    s.winRateB = wins / s.compared;
  }
  return s;
}

int CompareTableModel::rowCount(const QModelIndex &parent) const {
  return parent.isValid() ? 0 : int(m_rows.size());
}

int CompareTableModel::columnCount(const QModelIndex &parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant CompareTableModel::data(const QModelIndex &index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
    return {};
  const auto &r = m_rows[std::size_t(index.row())];
  const int column = index.column();
  if (role == Qt::DisplayRole || role == Qt::EditRole || role == SortRole) {
    switch (column) {
    case Prompt:
      return r.prompt;
    case Seed:
      return role == Qt::DisplayRole ? QVariant(QString::number(r.seed)) : QVariant(r.seed);
    case TextA:
      return r.result ? QVariant(oneLine(r.result->a.text)) : QVariant();
    case TextB:
      return r.result ? QVariant(oneLine(r.result->b.text)) : QVariant();
    case ScoreA:
    case ScoreB: {
      const auto v = score(r.result, column == ScoreA);
      return role == Qt::DisplayRole && v.isValid() ? QVariant(QString::number(v.toDouble(), 'f', 3)) : v;
    }
    default:
      return {};
    }
  }
  if (role == Qt::FontRole && column == Prompt && r.fixed) {
    QFont font;
    font.setItalic(true);
    return font;
  }
  if (role == Qt::TextAlignmentRole && (column == Seed || column == ScoreA || column == ScoreB))
    return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ToolTipRole) {
    if (column == Prompt)
      return r.fixed ? tr("Fixed eval prompt of the run") : tr("Added prompt (double-click to edit)");
    if ((column == TextA || column == TextB) && r.result)
      return QString::fromStdString(column == TextA ? r.result->a.text : r.result->b.text);
  }
  return {};
}

bool CompareTableModel::setData(const QModelIndex &index, const QVariant &value, int role) {
  if (role != Qt::EditRole || !checkIndex(index, CheckIndexOption::IndexIsValid) ||
      !(flags(index) & Qt::ItemIsEditable))
    return false;
  auto &r = m_rows[std::size_t(index.row())];
  if (index.column() == Prompt) {
    const QString prompt = value.toString();
    if (prompt.isEmpty() || prompt == r.prompt)
      return false;
    r.prompt = prompt;
  } else {
    bool ok = false;
    const quint64 seed = value.toString().toULongLong(&ok);
    if (!ok || seed == r.seed)
      return false;
    r.seed = seed;
  }
  // The saved samples belong to the old prompt and seed.
  r.fixed = false;
  r.savedReference.reset();
  r.savedPolicy.reset();
  r.result.reset();
  Q_EMIT dataChanged(this->index(index.row(), 0), this->index(index.row(), ColumnCount - 1));
  return true;
}

Qt::ItemFlags CompareTableModel::flags(const QModelIndex &index) const {
  auto f = QAbstractTableModel::flags(index);
  if (index.isValid() && (index.column() == Prompt || index.column() == Seed))
    f |= Qt::ItemIsEditable;
  return f;
}

QVariant CompareTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
    return QAbstractTableModel::headerData(section, orientation, role);
  switch (section) {
  case Prompt:
    return tr("Prompt");
  case Seed:
    return tr("Seed");
  case TextA:
    return tr("A text");
  case ScoreA:
    return tr("A score");
  case TextB:
    return tr("B text");
  case ScoreB:
    return tr("B score");
  default:
    return {};
  }
}

} // namespace preflab::ui
