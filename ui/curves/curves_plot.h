// CurvesPlot: the QCustomPlot that draws selected metrics of several runs from a RunSeriesStore.
#pragma once

#include "ui/curves/ema_smoother.h"
#include "ui/runs/x_axis_mode.h"

#include <qcustomplot.h>

#include <QHash>
#include <QSet>
#include <QStringList>
#include <QTimer>

#include <cstdint>

namespace preflab::ui {

class RunSeriesStore;

// The i-th colour of the charts' colour-blind-friendly categorical palette (it repeats).
QColor categoricalColor(int index);

// One chart: for every visible run and every selected metric a faint raw graph and a smoothed
// graph on top (the legend lists the smoothed ones). Appends are coalesced: seriesAppended only
// marks the run dirty and (re)starts nothing but a 40 ms single-shot timer, whose flush appends
// the new points to the graphs and asks for a queued replot, so a fast run never causes a replot
// per record. The store must outlive the plot. GUI thread only.
class CurvesPlot : public QCustomPlot {
  Q_OBJECT
public:
  static constexpr int kFlushIntervalMs = 40;

  explicit CurvesPlot(RunSeriesStore *store, QWidget *parent = nullptr);

  struct Curve {
    QString runId;
    QString metric;
    QCPGraph *raw = nullptr;
    QCPGraph *smoothed = nullptr;
    int pushed = 0;             // store points already in the graphs
    std::uint64_t revision = 0; // store revision they came from
    EmaSmoother ema;
  };

  void setMetrics(const QStringList &metrics);
  QStringList metrics() const { return m_metrics; }
  void setHiddenRuns(const QSet<QString> &runIds);
  QSet<QString> hiddenRuns() const { return m_hidden; }
  void setSmoothing(double weight); // 0 .. 0.999
  double smoothing() const { return m_smoothing; }
  void setLogY(bool on);
  bool logY() const { return m_logY; }
  void setXAxisMode(XAxisMode mode);
  XAxisMode xAxisMode() const { return m_xMode; }
  void setIgnoreOutliers(bool on);
  bool ignoreOutliers() const { return m_ignoreOutliers; }

  // Turns autoscale back on and fits the ranges (the user's drag or zoom turns it off).
  void fitToData();
  bool autoscale() const { return m_autoscale; }
  // Applies pending appends and rebuilds now (tests, export, benchmark); no replot.
  void flushPending();
  const QList<Curve> &curves() const { return m_curves; }
  QColor runColor(const QString &runId) const;
  // Text of the hover tooltip for the point nearest to `pixel` (empty when none within reach).
  QString tooltipTextAt(const QPointF &pixel) const;

signals:
  void legendRunClicked(const QString &runId);

protected:
  void mouseMoveEvent(QMouseEvent *event) override;
  void wheelEvent(QWheelEvent *event) override;
  void mouseDoubleClickEvent(QMouseEvent *event) override;

private:
  void onSeriesAppended(const QString &runId);
  void scheduleRebuild();
  void rebuild();
  void addCurve(const QString &runId, const QString &metric, int runIndex, int metricIndex);
  void appendPoints(Curve &curve);
  void refill(Curve &curve);
  bool missingCurves(const QString &runId) const;
  void applyAxes();
  void rescale();
  QString curveName(const Curve &curve) const;
  bool nearestPoint(const QPointF &pixel, int *curveIndex, int *pointIndex) const;

  RunSeriesStore *m_store;
  QTimer m_flushTimer;
  QList<Curve> m_curves;
  QStringList m_metrics;
  QSet<QString> m_hidden;
  QSet<QString> m_dirtyRuns;
  bool m_needsRebuild = true;
  double m_smoothing = 0.6;
  bool m_logY = false;
  XAxisMode m_xMode = XAxisMode::Step;
  bool m_ignoreOutliers = false;
  bool m_autoscale = true;
};

} // namespace preflab::ui
