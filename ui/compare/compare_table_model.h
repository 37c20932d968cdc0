// CompareTableModel: prompts and seeds (editable) with model A's and model B's texts and scores.
#pragma once

#include "ui/compare/compare_row.h"

#include <QAbstractTableModel>

#include <optional>

namespace preflab::ui {

// Mean scores and B's win rate over the rows that have both scores.
struct CompareSummary {
  int compared = 0; // rows with both scores
  double meanA = 0, meanB = 0;
  double winRateB = 0; // B > A counts 1, a tie 0.5
};

// Columns: prompt, seed (both editable; an edit clears that row's result), A's text, A's score,
// B's text, B's score. Fixed rows (the run's eval set) show in italics. SortRole gives numbers for
// the score and seed columns. GUI thread only.
class CompareTableModel : public QAbstractTableModel {
  Q_OBJECT

public:
  enum Role { SortRole = Qt::UserRole + 1 };
  enum Column { Prompt, Seed, TextA, ScoreA, TextB, ScoreB, ColumnCount };

  explicit CompareTableModel(QObject *parent = nullptr);

  void setRows(std::vector<CompareRow> rows); // a model reset
  const std::vector<CompareRow> &rows() const { return m_rows; }
  const CompareRow &row(int row) const { return m_rows.at(std::size_t(row)); }
  // Appends a user prompt; returns its row.
  int addPrompt(const QString &prompt, quint64 seed);
  void removeRowsAt(QList<int> rows);
  // Stores results for the given rows (results[i] belongs to rows[i]).
  void setResults(const std::vector<int> &rows, const std::vector<core::ComparedPrompt> &results);
  void clearResults();
  // A seed for a new prompt: one past the largest seed in the table (1 for an empty one).
  quint64 nextSeed() const;
  CompareSummary summary() const;

  int rowCount(const QModelIndex &parent = {}) const override;
  int columnCount(const QModelIndex &parent = {}) const override;
  QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
  bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;
  Qt::ItemFlags flags(const QModelIndex &index) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
  std::vector<CompareRow> m_rows;
};

} // namespace preflab::ui
