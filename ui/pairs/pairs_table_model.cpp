// PairsTableModel: cell text, colours, numeric sort keys and joining texts by id.
#include "ui/pairs/pairs_table_model.h"

#include "core/api/datasets.h"

#include <QBrush>
#include <QColor>

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace preflab::ui {

namespace {

QVariant numberCell(const std::optional<double> &v, int role, int decimals) {
  if (!v)
    return role == Qt::DisplayRole ? QVariant(QStringLiteral("–")) : QVariant();
  switch (role) {
  case Qt::DisplayRole:
    return QString::number(*v, 'f', decimals);
  case Qt::ToolTipRole:
    return QString::number(*v, 'g', 10);
  case PairsTableModel::SortRole:
    return *v;
  default:
    return {};
  }
}

QVariant flagCell(const std::optional<bool> &v, int role) {
  if (!v)
    return role == Qt::DisplayRole ? QVariant(QStringLiteral("–")) : QVariant();
  switch (role) {
  case Qt::DisplayRole:
    return *v ? QStringLiteral("✓ yes") : QStringLiteral("✗ no");
  case Qt::ForegroundRole:
    return QBrush(*v ? QColor(30, 120, 50) : QColor(180, 40, 40));
  case PairsTableModel::SortRole:
    return *v ? 1 : 0;
  default:
    return {};
  }
}

} // namespace

PairsTableModel::PairsTableModel(QObject *parent) : QAbstractTableModel(parent) {}

void PairsTableModel::setPairs(PairsFile file) {
  beginResetModel();
  m_file = std::move(file);
  endResetModel();
}

void PairsTableModel::setBeta(std::optional<double> beta) {
  m_beta = beta;
  emit headerDataChanged(Qt::Horizontal, Idealized, Idealized);
  if (rowCount() > 0)
    emit dataChanged(index(0, Idealized), index(rowCount() - 1, Idealized));
}

std::optional<bool> PairsTableModel::idealizedAtBeta(const PairRecord &record) const {
  if (!m_beta)
    return std::nullopt;
  for (const auto &[beta, correct] : record.idealizedCorrect)
    if (std::abs(beta - *m_beta) <= 1e-6 * std::max(std::abs(beta), std::abs(*m_beta)))
      return correct;
  return std::nullopt;
}

int PairsTableModel::joinTexts(const core::TextPreferenceData &data) {
  std::unordered_map<std::string, const core::TextPair *> byId, byLine;
  for (const core::TextPair &p : data.pairs) {
    byId.emplace(p.id, &p);
    byLine.emplace(std::to_string(p.line), &p);
  }
  int joined = 0;
  for (PairRecord &r : m_file.records) {
    if (r.hasTexts)
      continue;
    const std::string id = r.id.toStdString();
    const core::TextPair *pair = nullptr;
    if (auto it = byId.find(id); it != byId.end())
      pair = it->second;
    else if (auto line = byLine.find(id); line != byLine.end())
      pair = line->second;
    if (!pair)
      continue;
    r.prompt = QString::fromStdString(pair->prompt);
    r.chosen = QString::fromStdString(pair->chosen);
    r.rejected = QString::fromStdString(pair->rejected);
    r.hasTexts = true;
    ++joined;
  }
  if (joined > 0 && rowCount() > 0)
    emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
  return joined;
}

int PairsTableModel::recordsWithTexts() const {
  return int(std::count_if(m_file.records.begin(), m_file.records.end(),
                           [](const PairRecord &r) { return r.hasTexts; }));
}

int PairsTableModel::rowCount(const QModelIndex &parent) const {
  return parent.isValid() ? 0 : int(m_file.records.size());
}

int PairsTableModel::columnCount(const QModelIndex &parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant PairsTableModel::data(const QModelIndex &index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
    return {};
  const PairRecord &r = record(index.row());
  if (role == Qt::TextAlignmentRole && index.column() != Id)
    return int(Qt::AlignRight | Qt::AlignVCenter);
  switch (index.column()) {
  case Id:
    if (role == Qt::DisplayRole || role == SortRole)
      return r.id;
    if (role == Qt::ToolTipRole && r.hasTexts)
      return r.prompt;
    return {};
  case ImplicitRewardMargin:
    return numberCell(r.implicitRewardMargin, role, 3);
  case LogpMargin:
    return numberCell(r.logpMargin, role, 2);
  case C:
    return numberCell(r.c, role, 2);
  case Difficulty:
    return numberCell(r.difficulty, role, 3);
  case CorrectBefore:
    return flagCell(r.refRankedCorrectly, role);
  case CorrectAfter:
    return flagCell(r.rankedCorrectly, role);
  case Idealized:
    return flagCell(idealizedAtBeta(r), role);
  case RaterFraction:
    return numberCell(r.raterFraction, role, 2);
  default:
    return {};
  }
}

QString PairsTableModel::columnTitle(int column) const {
  switch (column) {
  case ImplicitRewardMargin:
    return tr("implicit reward margin");
  case C:
    return tr("reference log-ratio c");
  case CorrectBefore:
    return tr("ranked correctly before (reference)");
  case CorrectAfter:
    return tr("ranked correctly after training");
  case Idealized:
    return m_beta ? tr("idealised-correct at β = %1").arg(*m_beta) : tr("idealised-correct");
  case RaterFraction:
    return tr("rater fraction");
  default:
    return headerData(column, Qt::Horizontal).toString();
  }
}

QVariant PairsTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal)
    return QAbstractTableModel::headerData(section, orientation, role);
  if (role == Qt::ToolTipRole) {
    switch (section) {
    case ImplicitRewardMargin:
      return tr("β·[(logπ−logπ_ref)(chosen) − (logπ−logπ_ref)(rejected)]");
    case LogpMargin:
      return tr("logπ(chosen) − logπ(rejected) under the trained policy");
    case C:
      return tr("Reference log-ratio c = logπ_ref(rejected) − logπ_ref(chosen); c > 0: the reference ranks "
                "the pair wrong");
    case Difficulty:
      return tr(
          "DPO loss threshold softplus(−β·c) below which the pair is ranked correctly (lower = harder)");
    case CorrectBefore:
      return tr("Ranked correctly by the reference model (before training)");
    case CorrectAfter:
      return tr("Ranked correctly by the trained policy");
    case Idealized:
      return tr("Ranked correctly by the ideal DPO/RLHF optimum at this β (rater fraction as ground truth)");
    default:
      return {};
    }
  }
  if (role != Qt::DisplayRole)
    return {};
  switch (section) {
  case Id:
    return tr("id");
  case ImplicitRewardMargin:
    return tr("reward margin");
  case LogpMargin:
    return tr("logp margin");
  case C:
    return tr("c (ref)");
  case Difficulty:
    return tr("difficulty");
  case CorrectBefore:
    return tr("before");
  case CorrectAfter:
    return tr("after");
  case Idealized:
    return m_beta ? tr("ideal @β=%1").arg(*m_beta) : tr("ideal");
  case RaterFraction:
    return tr("raters");
  default:
    return {};
  }
}

} // namespace preflab::ui
