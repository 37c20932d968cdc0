// PairsFilterProxy: search, outcome and difficulty filters plus numeric sorting over a PairsTableModel.
#pragma once

#include <QSortFilterProxyModel>

namespace preflab::ui {

class PairsTableModel;

// Keeps the rows that match every active filter; sorts by PairsTableModel::SortRole with numbers
// compared numerically and missing values last in either order. The source must be a
// PairsTableModel. GUI thread only.
class PairsFilterProxy : public QSortFilterProxyModel {
  Q_OBJECT

public:
  enum class Outcome {
    All,
    Flipped,          // correctness changed by training, in either direction
    FlippedToCorrect, // wrong under the reference, right after training
    FlippedToWrong,   // right under the reference, wrong after training
    WrongAfter        // ranked wrong after training
  };

  explicit PairsFilterProxy(QObject *parent = nullptr);

  // Case-insensitive substring of the id, prompt, chosen or rejected text; empty: no search.
  void setSearchText(const QString &text);
  void setOutcome(Outcome outcome);
  Outcome outcome() const { return m_outcome; }
  // Pairs with difficulty in [low, high]; pairs without a difficulty pass only while no range is
  // set. clearDifficultyRange() removes it.
  void setDifficultyRange(double low, double high);
  void clearDifficultyRange();

protected:
  bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
  bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
  const PairsTableModel *source() const;

  QString m_search;
  Outcome m_outcome = Outcome::All;
  bool m_difficultySet = false;
  double m_difficultyLow = 0.0, m_difficultyHigh = 0.0;
};

} // namespace preflab::ui
