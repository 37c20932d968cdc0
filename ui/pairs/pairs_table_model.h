// PairsTableModel: per-pair ranking analysis (margins, c, difficulty, correctness) as a sortable table.
#pragma once

#include "ui/pairs/pairs_file.h"

#include <QAbstractTableModel>

#include <optional>

namespace preflab::core {
struct TextPreferenceData;
}

namespace preflab::ui {

// Columns: id, implicit reward margin, logp margin, c, difficulty, ranked correctly before (the
// reference) and after, idealised-correct at the run's β (when the file has that β), rater
// fraction. SortRole gives numbers (booleans as 0/1; missing values as an invalid QVariant, which
// PairsFilterProxy sorts last). GUI thread only.
class PairsTableModel : public QAbstractTableModel {
  Q_OBJECT

public:
  enum Role { SortRole = Qt::UserRole + 1 };
  enum Column {
    Id,
    ImplicitRewardMargin,
    LogpMargin,
    C,
    Difficulty,
    CorrectBefore,
    CorrectAfter,
    Idealized,
    RaterFraction,
    ColumnCount
  };

  explicit PairsTableModel(QObject *parent = nullptr);

  void setPairs(PairsFile file); // a model reset
  const PairsFile &pairsFile() const { return m_file; }
  const PairRecord &record(int row) const { return m_file.records.at(std::size_t(row)); }

  // The β whose idealised correctness the Idealized column shows (matched to the file's β keys
  // within a relative 1e-6); nullopt or no match: the column is empty.
  void setBeta(std::optional<double> beta);
  std::optional<double> beta() const { return m_beta; }
  // The idealised flag of a record at the current β, when known.
  std::optional<bool> idealizedAtBeta(const PairRecord &record) const;

  // Fills the texts of records that have none from `data`, matched by the dataset's id or, failing
  // that, by its 1-based line number as a string. Returns how many records received texts.
  int joinTexts(const core::TextPreferenceData &data);
  int recordsWithTexts() const;

  // A column's full name (the header shows a short one), e.g. for a detail pane.
  QString columnTitle(int column) const;

  int rowCount(const QModelIndex &parent = {}) const override;
  int columnCount(const QModelIndex &parent = {}) const override;
  QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
  PairsFile m_file;
  std::optional<double> m_beta;
};

} // namespace preflab::ui
