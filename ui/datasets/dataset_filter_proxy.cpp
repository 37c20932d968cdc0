// DatasetFilterProxy: row acceptance by search text, rater fraction, length order and label.
#include "ui/datasets/dataset_filter_proxy.h"

#include "ui/datasets/dataset_table_model.h"

namespace preflab::ui {

DatasetFilterProxy::DatasetFilterProxy(QObject *parent) : QSortFilterProxyModel(parent) {
  setSortRole(DatasetTableModel::SortRole);
  setSortCaseSensitivity(Qt::CaseInsensitive);
}

void DatasetFilterProxy::setSearchText(const QString &text) {
  const QString lowered = text.trimmed().toLower();
  if (lowered == m_search)
    return;
  m_search = lowered;
  invalidateRowsFilter();
}

void DatasetFilterProxy::setRaterFractionRange(double low, double high) {
  m_raterLow = low;
  m_raterHigh = high;
  invalidateRowsFilter();
}

void DatasetFilterProxy::setLengthOrder(LengthOrder order) {
  m_lengthOrder = order;
  invalidateRowsFilter();
}

void DatasetFilterProxy::setLabel(Label label) {
  m_label = label;
  invalidateRowsFilter();
}

void DatasetFilterProxy::clearFilters() {
  m_search.clear();
  m_raterLow = 0.0;
  m_raterHigh = 1.0;
  m_lengthOrder = LengthOrder::Any;
  m_label = Label::Any;
  invalidateRowsFilter();
}

const DatasetTableModel *DatasetFilterProxy::source() const {
  return qobject_cast<const DatasetTableModel *>(sourceModel());
}

bool DatasetFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const {
  const DatasetTableModel *model = source();
  if (sourceParent.isValid() || !model || !model->dataset())
    return false;
  if (!m_search.isEmpty() && !model->searchText(sourceRow).contains(m_search))
    return false;
  const core::TextPreferenceData &data = *model->dataset();
  if (data.isUnpaired()) {
    const bool desirable = data.unpaired[std::size_t(sourceRow)].desirable;
    return m_label == Label::Any || (m_label == Label::Desirable) == desirable;
  }
  const core::TextPair &p = data.pairs[std::size_t(sourceRow)];
  const bool fullRange = m_raterLow <= 0.0 && m_raterHigh >= 1.0;
  if (!fullRange && (!p.raterFraction || *p.raterFraction < m_raterLow || *p.raterFraction > m_raterHigh))
    return false;
  if (m_lengthOrder == LengthOrder::ChosenLonger && !(p.chosen.size() > p.rejected.size()))
    return false;
  if (m_lengthOrder == LengthOrder::ChosenShorter && !(p.chosen.size() < p.rejected.size()))
    return false;
  return true;
}

} // namespace preflab::ui
