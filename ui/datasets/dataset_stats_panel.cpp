// DatasetStatsPanel: summary text and QCustomPlot histograms of lengths and label balance.
#include "ui/datasets/dataset_stats_panel.h"

#include <qcustomplot.h>

#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace preflab::ui {

namespace {

constexpr int kLengthBins = 20;
constexpr int kRaterBins = 10;
constexpr int kSkippedShown = 5;

QCustomPlot *makePlot(const QString &title, const QString &xLabel, const QString &yLabel, QWidget *parent) {
  auto *plot = new QCustomPlot(parent);
  plot->setMinimumHeight(180);
  plot->plotLayout()->insertRow(0);
  plot->plotLayout()->addElement(
      0, 0, new QCPTextElement(plot, title, QFont(plot->font().family(), 9, QFont::Bold)));
  plot->xAxis->setLabel(xLabel);
  plot->yAxis->setLabel(yLabel);
  // Counts are whole numbers: ticks at multiples of 1 (or of a round step for large counts).
  QSharedPointer<QCPAxisTickerFixed> counts(new QCPAxisTickerFixed);
  counts->setTickStep(1.0);
  counts->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  plot->yAxis->setTicker(counts);
  plot->legend->setFont(QFont(plot->font().family(), 8));
  return plot;
}

QCPBars *addBars(QCustomPlot *plot, const QString &name, const QColor &color) {
  auto *bars = new QCPBars(plot->xAxis, plot->yAxis);
  bars->setName(name);
  bars->setPen(QPen(color.darker(130)));
  QColor fill = color;
  fill.setAlpha(170);
  bars->setBrush(fill);
  return bars;
}

// A round upper bound for the length axis so that bins have readable edges.
double niceUpper(double maxValue) {
  if (maxValue <= kLengthBins)
    return kLengthBins;
  const double step = std::pow(10.0, std::floor(std::log10(maxValue / kLengthBins)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * step * kLengthBins >= maxValue)
      return m * step * kLengthBins;
  return maxValue;
}

} // namespace

DatasetStatsPanel::DatasetStatsPanel(QWidget *parent) : QWidget(parent) {
  auto *layout = new QVBoxLayout(this);
  m_counts = new QLabel(this);
  m_lengths = new QLabel(this);
  m_skipped = new QLabel(this);
  for (QLabel *label : {m_counts, m_lengths, m_skipped}) {
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(label);
  }
  m_skipped->setStyleSheet(QStringLiteral("color: #a04000"));
  m_lengthPlot = makePlot(tr("Response length"), tr("bytes"), tr("count"), this);
  m_balancePlot = makePlot(tr("Label balance"), QString(), tr("count"), this);
  layout->addWidget(m_lengthPlot, 1);
  layout->addWidget(m_balancePlot, 1);
  clear();
}

void DatasetStatsPanel::clear() {
  m_counts->setText(tr("No dataset loaded."));
  m_lengths->clear();
  m_skipped->clear();
  m_skipped->hide();
  m_lengthPlot->clearPlottables();
  m_balancePlot->clearPlottables();
  m_lengthPlot->replot();
  m_balancePlot->replot();
}

QString DatasetStatsPanel::countsText() const {
  return m_counts->text();
}
QString DatasetStatsPanel::skippedText() const {
  return m_skipped->text();
}

QVector<double> DatasetStatsPanel::histogram(const QVector<double> &values, int bins, double upper) {
  QVector<double> counts(bins, 0.0);
  if (bins <= 0 || upper <= 0)
    return counts;
  for (double v : values) {
    const int bin = std::clamp(int(std::floor(v / upper * bins + 1e-9)), 0, bins - 1);
    counts[bin] += 1.0;
  }
  return counts;
}

void DatasetStatsPanel::setDataset(const core::TextPreferenceData &data, const nlohmann::json &summary) {
  const bool unpaired = data.isUnpaired();
  const QString format = QString::fromStdString(summary.value("format", std::string()));
  m_counts->setText(tr("%1 %2 · %3 skipped · %4 blank lines · format %5")
                        .arg(unpaired ? summary.value("unpaired", 0) : summary.value("pairs", 0))
                        .arg(unpaired ? tr("examples") : tr("pairs"))
                        .arg(summary.value("skipped", 0))
                        .arg(summary.value("blank_lines", 0))
                        .arg(format));
  QStringList lengthLines;
  if (summary.contains("length"))
    for (const auto &[name, stats] : summary["length"].items())
      lengthLines << tr("%1: median %2, max %3 bytes")
                         .arg(QString::fromStdString(name))
                         .arg(stats.value("median", 0.0))
                         .arg(stats.value("max", 0.0));
  if (summary.contains("chosen_longer_fraction"))
    lengthLines << tr("chosen longer than rejected in %1% of pairs")
                       .arg(100.0 * summary["chosen_longer_fraction"].get<double>(), 0, 'f', 1);
  m_lengths->setText(lengthLines.join(QStringLiteral("; ")));

  QStringList skipped;
  for (std::size_t i = 0; i < data.skipped.size() && i < std::size_t(kSkippedShown); ++i)
    skipped
        << tr("line %1: %2").arg(data.skipped[i].line).arg(QString::fromStdString(data.skipped[i].reason));
  if (data.skipped.size() > std::size_t(kSkippedShown))
    skipped << tr("… and %1 more").arg(data.skipped.size() - std::size_t(kSkippedShown));
  m_skipped->setText(
      data.skipped.empty()
          ? QString()
          : tr("Skipped %1 invalid lines:\n%2").arg(data.skipped.size()).arg(skipped.join('\n')));
  m_skipped->setVisible(!data.skipped.empty());
  plotLengths(data);
  plotBalance(data);
}

void DatasetStatsPanel::plotLengths(const core::TextPreferenceData &data) {
  m_lengthPlot->clearPlottables();
  QVector<double> first, second;
  if (data.isUnpaired()) {
    for (const auto &u : data.unpaired)
      first << double(u.completion.size());
  } else {
    for (const auto &p : data.pairs) {
      first << double(p.chosen.size());
      second << double(p.rejected.size());
    }
  }
  double maxLength = 1;
  for (double v : first + second)
    maxLength = std::max(maxLength, v);
  const double upper = niceUpper(maxLength);
  const double width = upper / kLengthBins;
  QVector<double> centres;
  for (int i = 0; i < kLengthBins; ++i)
    centres << (i + 0.5) * width;
  auto *group = m_lengthPlot->findChild<QCPBarsGroup *>();
  if (!group)
    group = new QCPBarsGroup(m_lengthPlot);
  auto *a = addBars(m_lengthPlot, data.isUnpaired() ? tr("completion") : tr("chosen"), QColor(46, 139, 87));
  a->setData(centres, histogram(first, kLengthBins, upper), true);
  a->setWidth(width * (data.isUnpaired() ? 0.9 : 0.45));
  a->setBarsGroup(group);
  if (!data.isUnpaired()) {
    auto *b = addBars(m_lengthPlot, tr("rejected"), QColor(200, 60, 60));
    b->setData(centres, histogram(second, kLengthBins, upper), true);
    b->setWidth(width * 0.45);
    b->setBarsGroup(group);
  }
  m_lengthPlot->legend->setVisible(true);
  m_lengthPlot->xAxis->setRange(0, upper);
  m_lengthPlot->rescaleAxes(true);
  m_lengthPlot->xAxis->setRange(0, upper);
  m_lengthPlot->yAxis->setRangeLower(0);
  m_lengthPlot->yAxis->setRangeUpper(m_lengthPlot->yAxis->range().upper * 1.1 + 0.5);
  m_lengthPlot->replot();
}

void DatasetStatsPanel::plotBalance(const core::TextPreferenceData &data) {
  m_balancePlot->clearPlottables();
  auto *title = qobject_cast<QCPTextElement *>(m_balancePlot->plotLayout()->element(0, 0));
  auto *bars = addBars(m_balancePlot, QString(), QColor(70, 110, 180));
  if (data.isUnpaired()) {
    const auto desirable = std::count_if(data.unpaired.begin(), data.unpaired.end(),
                                         [](const core::UnpairedExample &u) { return u.desirable; });
    bars->setData({1, 2}, {double(desirable), double(data.unpaired.size()) - double(desirable)}, true);
    bars->setWidth(0.6);
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    ticker->addTick(1, tr("desirable"));
    ticker->addTick(2, tr("undesirable"));
    m_balancePlot->xAxis->setTicker(ticker);
    m_balancePlot->xAxis->setLabel(QString());
    m_balancePlot->xAxis->setRange(0.3, 2.7);
    if (title)
      title->setText(tr("Label balance"));
  } else {
    QVector<double> fractions, centres;
    for (const auto &p : data.pairs)
      if (p.raterFraction)
        fractions << *p.raterFraction;
    for (int i = 0; i < kRaterBins; ++i)
      centres << (i + 0.5) / kRaterBins;
    bars->setData(centres, histogram(fractions, kRaterBins, 1.0), true);
    bars->setWidth(0.9 / kRaterBins);
    m_balancePlot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    m_balancePlot->xAxis->setLabel(tr("share of raters preferring chosen"));
    m_balancePlot->xAxis->setRange(0, 1);
    if (title)
      title->setText(fractions.isEmpty()
                         ? tr("Label balance: no rater fractions in this file")
                         : tr("Label balance: rater fraction of %1 pairs").arg(fractions.size()));
  }
  m_balancePlot->yAxis->rescale();
  m_balancePlot->yAxis->setRangeLower(0);
  m_balancePlot->yAxis->setRangeUpper(std::max(1.0, m_balancePlot->yAxis->range().upper * 1.1));
  m_balancePlot->replot();
}

} // namespace preflab::ui
