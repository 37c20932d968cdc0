// DatasetFilterProxy: search and filters (rater fraction, length order, KTO label) over a DatasetTableModel.
#pragma once

#include <QSortFilterProxyModel>

namespace preflab::ui {

class DatasetTableModel;

// Sorts by DatasetTableModel::SortRole (numbers numerically) and keeps the rows that match every
// active filter. The source must be a DatasetTableModel. GUI thread only.
class DatasetFilterProxy : public QSortFilterProxyModel {
  Q_OBJECT

public:
  enum class LengthOrder { Any, ChosenLonger, ChosenShorter };
  enum class Label { Any, Desirable, Undesirable };

  explicit DatasetFilterProxy(QObject *parent = nullptr);

  // Case-insensitive substring of prompt, chosen, rejected or completion; empty: no search.
  void setSearchText(const QString &text);
  QString searchText() const { return m_search; }
  // Pairs whose rater fraction lies in [low, high]. Pairs without a rater fraction pass only
  // while the range is the full [0, 1].
  void setRaterFractionRange(double low, double high);
  // Paired data: chosen strictly longer / shorter than rejected (bytes).
  void setLengthOrder(LengthOrder order);
  // KTO data: only desirable / undesirable examples.
  void setLabel(Label label);
  // Back to no search and no filter.
  void clearFilters();

protected:
  bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
  const DatasetTableModel *source() const;

  QString m_search;
  double m_raterLow = 0.0, m_raterHigh = 1.0;
  LengthOrder m_lengthOrder = LengthOrder::Any;
  Label m_label = Label::Any;
};

} // namespace preflab::ui
