// DatasetStatsPanel: counts, format, length histograms and label balance of a loaded dataset.
#pragma once

#include "core/api/datasets.h"

#include <nlohmann/json.hpp>

#include <QWidget>

class QCustomPlot;
class QLabel;

namespace preflab::ui {

// Shows the summary of core::summarizeTextPreferences plus two QCustomPlot charts: the length
// distribution (bytes) of chosen vs rejected responses (or of KTO completions), and the label
// balance (rater-fraction histogram for pairs, desirable/undesirable counts for KTO).
// GUI thread only.
class DatasetStatsPanel : public QWidget {
  Q_OBJECT

public:
  explicit DatasetStatsPanel(QWidget *parent = nullptr);

  // `summary` is summarizeTextPreferences(data).
  void setDataset(const core::TextPreferenceData &data, const nlohmann::json &summary);
  void clear();

  // The counts line ("120 pairs · 0 skipped · 2 blank lines · format trl"), for tests and tooltips.
  QString countsText() const;
  // The skipped-lines text (empty when nothing was skipped).
  QString skippedText() const;
  QCustomPlot *lengthPlot() const { return m_lengthPlot; }
  QCustomPlot *balancePlot() const { return m_balancePlot; }

  // Histogram of `values` over `bins` equal bins from 0 to `upper` (the last bin is closed).
  static QVector<double> histogram(const QVector<double> &values, int bins, double upper);

private:
  void plotLengths(const core::TextPreferenceData &data);
  void plotBalance(const core::TextPreferenceData &data);

  QLabel *m_counts = nullptr;
  QLabel *m_lengths = nullptr;
  QLabel *m_skipped = nullptr;
  QCustomPlot *m_lengthPlot = nullptr;
  QCustomPlot *m_balancePlot = nullptr;
};

} // namespace preflab::ui
