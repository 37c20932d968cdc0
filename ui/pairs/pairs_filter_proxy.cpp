// PairsFilterProxy: row acceptance (search, flipped/wrong outcome, difficulty) and numeric ordering.
#include "ui/pairs/pairs_filter_proxy.h"

#include "ui/pairs/pairs_table_model.h"

namespace preflab::ui {

namespace {

// Case-insensitive comparison with digit runs compared as numbers ("p9" < "p10"). QCollator's
// numeric mode would do this, but not under the C locale that servers and tests often run in.
int naturalCompare(const QString &a, const QString &b) {
  int i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].isDigit() && b[j].isDigit()) {
      int ei = i, ej = j;
      while (ei < a.size() && a[ei].isDigit())
        ++ei;
      while (ej < b.size() && b[ej].isDigit())
        ++ej;
      auto skipZeros = [](const QString &s, int from, int end) {
        while (from + 1 < end && s[from] == '0')
          ++from;
        return from;
      };
      const QStringView x = QStringView(a).mid(skipZeros(a, i, ei)).left(ei - skipZeros(a, i, ei));
      const QStringView y = QStringView(b).mid(skipZeros(b, j, ej)).left(ej - skipZeros(b, j, ej));
      if (x.size() != y.size())
        return x.size() < y.size() ? -1 : 1;
      if (const int c = x.compare(y); c != 0)
        return c;
      i = ei;
      j = ej;
      continue;
    }
    const QChar x = a[i].toLower(), y = b[j].toLower();
    if (x != y)
      return x < y ? -1 : 1;
    ++i;
    ++j;
  }
  return (a.size() - i) - (b.size() - j);
}

} // namespace

PairsFilterProxy::PairsFilterProxy(QObject *parent) : QSortFilterProxyModel(parent) {
  setSortRole(PairsTableModel::SortRole);
}

void PairsFilterProxy::setSearchText(const QString &text) {
  const QString trimmed = text.trimmed();
  if (trimmed == m_search)
    return;
  m_search = trimmed;
  invalidateRowsFilter();
}

void PairsFilterProxy::setOutcome(Outcome outcome) {
  m_outcome = outcome;
  invalidateRowsFilter();
}

void PairsFilterProxy::setDifficultyRange(double low, double high) {
  m_difficultySet = true;
  m_difficultyLow = low;
  m_difficultyHigh = high;
  invalidateRowsFilter();
}

void PairsFilterProxy::clearDifficultyRange() {
  m_difficultySet = false;
  invalidateRowsFilter();
}

const PairsTableModel *PairsFilterProxy::source() const {
  return qobject_cast<const PairsTableModel *>(sourceModel());
}

bool PairsFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const {
  const PairsTableModel *model = source();
  if (sourceParent.isValid() || !model)
    return false;
  const PairRecord &r = model->record(sourceRow);
  if (!m_search.isEmpty()) {
    const auto cs = Qt::CaseInsensitive;
    if (!r.id.contains(m_search, cs) && !r.prompt.contains(m_search, cs) &&
        !r.chosen.contains(m_search, cs) && !r.rejected.contains(m_search, cs))
      return false;
  }
  if (m_outcome != Outcome::All) {
    if (!r.rankedCorrectly)
      return false;
    const bool after = *r.rankedCorrectly;
    if (m_outcome == Outcome::WrongAfter) {
      if (after)
        return false;
    } else {
      if (!r.refRankedCorrectly)
        return false;
      const bool before = *r.refRankedCorrectly;
      if (before == after)
        return false;
      if (m_outcome == Outcome::FlippedToCorrect && !after)
        return false;
      if (m_outcome == Outcome::FlippedToWrong && after)
        return false;
    }
  }
  if (m_difficultySet &&
      (!r.difficulty || *r.difficulty < m_difficultyLow || *r.difficulty > m_difficultyHigh))
    return false;
  return true;
}

bool PairsFilterProxy::lessThan(const QModelIndex &left, const QModelIndex &right) const {
  const QVariant a = left.data(sortRole()), b = right.data(sortRole());
  // Missing values go last whatever the order: "less" in descending order means "after".
  const bool descending = sortOrder() == Qt::DescendingOrder;
  if (!a.isValid() || !b.isValid()) {
    if (a.isValid() == b.isValid())
      return left.row() < right.row();
    return descending ? !a.isValid() : a.isValid();
  }
  if (a.typeId() == QMetaType::QString || b.typeId() == QMetaType::QString) {
    const int byText = naturalCompare(a.toString(), b.toString());
    return byText != 0 ? byText < 0 : left.row() < right.row();
  }
  const double x = a.toDouble(), y = b.toDouble();
  return x != y ? x < y : left.row() < right.row();
}

} // namespace preflab::ui
