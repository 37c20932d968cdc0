// SweepTableModel: a sweep's rows (core::readSweepFolder) as a table: run, state, the point's
// values, then every final metric any row has.
#pragma once

#include "core/api/sweeps.h"

#include <QAbstractTableModel>
#include <QStringList>

#include <vector>

namespace preflab::ui {

class SweepTableModel : public QAbstractTableModel {
  Q_OBJECT

public:
  enum Roles {
    SortRole = Qt::UserRole + 1, // a double for numbers (NaN-free), else the text
    DirRole,                     // the row's run folder
  };
  enum class ColumnKind { Name, State, Value, Metric };

  explicit SweepTableModel(QObject *parent = nullptr);

  // Replaces the rows. When the columns and the row names stay the same (a live sweep that
  // progressed) only dataChanged is emitted, so sorting and selection survive.
  void setRows(std::vector<core::SweepRow> rows);
  const std::vector<core::SweepRow> &rows() const { return m_rows; }
  const core::SweepRow &sweepRow(int row) const { return m_rows.at(std::size_t(row)); }

  QString columnName(int column) const;
  ColumnKind columnKind(int column) const;
  int columnOf(const QString &name) const; // -1 when no such column
  // Columns every finished row could be plotted on: the metrics and the values that parse as
  // numbers in every row that has them.
  QStringList numericColumns() const;
  // Values whose text is not a number in some row (loss_type).
  QStringList categoricalColumns() const;
  // What points can be coloured by: the categorical values, then numeric values with at most
  // kMaxGroups distinct ones (a learning-rate grid).
  static constexpr int kMaxGroups = 10;
  QStringList groupingColumns() const;
  // The row's number in a column; NaN when absent or not a number.
  double number(int row, const QString &column) const;
  QString text(int row, const QString &column) const;

  int rowCount(const QModelIndex &parent = {}) const override;
  int columnCount(const QModelIndex &parent = {}) const override;
  QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
  std::vector<core::SweepRow> m_rows;
  QStringList m_valueColumns;  // the points' keys, first row's order first
  QStringList m_metricColumns; // the usual headline metrics first, then the rest by name
};

} // namespace preflab::ui
