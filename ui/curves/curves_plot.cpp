// CurvesPlot: graphs per (run, metric), coalesced incremental updates, axes, autoscale, tooltips.
#include "ui/curves/curves_plot.h"

#include "ui/curves/range_fit.h"
#include "ui/runs/run_series_store.h"

#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace preflab::ui {

namespace {
// Colour-blind-friendly categorical palette (Okabe–Ito, then a few more distinct hues).
const QList<QColor> kPalette = {QColor(0, 114, 178),   QColor(213, 94, 0),  QColor(0, 158, 115),
                                QColor(204, 121, 167), QColor(230, 159, 0), QColor(86, 180, 233),
                                QColor(90, 90, 90),    QColor(170, 40, 40), QColor(120, 80, 160),
                                QColor(140, 110, 30)};
const QList<Qt::PenStyle> kMetricStyles = {Qt::SolidLine, Qt::DashLine, Qt::DotLine, Qt::DashDotLine};
constexpr double kTooltipReachPx = 30.0;
// Past this many points a graph is drawn without antialiasing: each pixel column then holds
// dozens of points, so smoothing edges shows nothing, and it costs most of a redraw
// (1M points: ~30 ms antialiased, ~18 ms not, in bench/gui).
constexpr int kAntialiasMaxPoints = 50000;

void updateAntialiasing(const CurvesPlot::Curve &curve) {
  const bool antialiased = curve.pushed <= kAntialiasMaxPoints;
  curve.raw->setAntialiased(antialiased);
  curve.smoothed->setAntialiased(antialiased);
}
} // namespace

CurvesPlot::CurvesPlot(RunSeriesStore *store, QWidget *parent) : QCustomPlot(parent), m_store(store) {
  m_flushTimer.setSingleShot(true);
  m_flushTimer.setInterval(kFlushIntervalMs);
  connect(&m_flushTimer, &QTimer::timeout, this, [this] {
    flushPending();
    replot(rpQueuedReplot);
  });
  connect(m_store, &RunSeriesStore::seriesAppended, this, &CurvesPlot::onSeriesAppended);
  connect(m_store, &RunSeriesStore::runsChanged, this, &CurvesPlot::scheduleRebuild);
  setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  connect(this, &QCustomPlot::mousePress, this, [this](QMouseEvent *) { m_autoscale = false; });
  connect(this, &QCustomPlot::legendClick, this,
          [this](QCPLegend *, QCPAbstractLegendItem *item, QMouseEvent *) {
            auto *plItem = qobject_cast<QCPPlottableLegendItem *>(item);
            if (!plItem)
              return;
            for (const Curve &c : std::as_const(m_curves))
              if (c.smoothed == plItem->plottable())
                emit legendRunClicked(c.runId);
          });
  legend->setVisible(true);
  legend->setBrush(QColor(255, 255, 255, 220));
  axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  setNoAntialiasingOnDrag(true);
  // Segment-wise line drawing: stroking a long, antialiased zig-zag (what adaptive sampling
  // leaves of a noisy 1M-point series) as one polyline is what makes a redraw slow, not the
  // number of points.
  setPlottingHint(QCP::phFastPolylines, true);
  setMouseTracking(true);
  applyAxes();
}

void CurvesPlot::setMetrics(const QStringList &metrics) {
  if (metrics == m_metrics)
    return;
  m_metrics = metrics;
  m_autoscale = true;
  scheduleRebuild();
}

void CurvesPlot::setHiddenRuns(const QSet<QString> &runIds) {
  if (runIds == m_hidden)
    return;
  m_hidden = runIds;
  scheduleRebuild();
}

void CurvesPlot::setSmoothing(double weight) {
  weight = std::clamp(weight, 0.0, 0.999);
  if (weight == m_smoothing)
    return;
  m_smoothing = weight;
  scheduleRebuild();
}

void CurvesPlot::setLogY(bool on) {
  if (on == m_logY)
    return;
  m_logY = on;
  m_autoscale = true;
  scheduleRebuild();
}

void CurvesPlot::setXAxisMode(XAxisMode mode) {
  if (mode == m_xMode)
    return;
  m_xMode = mode;
  m_autoscale = true;
  scheduleRebuild();
}

void CurvesPlot::setIgnoreOutliers(bool on) {
  if (on == m_ignoreOutliers)
    return;
  m_ignoreOutliers = on;
  m_autoscale = true;
  scheduleRebuild();
}

void CurvesPlot::fitToData() {
  m_autoscale = true;
  flushPending();
  rescale();
  replot(rpQueuedReplot);
}

void CurvesPlot::onSeriesAppended(const QString &runId) {
  m_dirtyRuns.insert(runId);
  if (!m_flushTimer.isActive())
    m_flushTimer.start();
}

void CurvesPlot::scheduleRebuild() {
  m_needsRebuild = true;
  if (!m_flushTimer.isActive())
    m_flushTimer.start();
}

void CurvesPlot::flushPending() {
  for (const QString &runId : std::as_const(m_dirtyRuns))
    if (!m_hidden.contains(runId) && missingCurves(runId))
      m_needsRebuild = true;
  if (m_needsRebuild) {
    rebuild();
  } else {
    for (Curve &c : m_curves)
      if (m_dirtyRuns.contains(c.runId))
        appendPoints(c);
  }
  m_dirtyRuns.clear();
  if (m_autoscale)
    rescale();
}

bool CurvesPlot::missingCurves(const QString &runId) const {
  // A selected metric that the run has only now started logging (eval/... at the first eval).
  const QStringList names = m_store->metricNames(runId);
  for (const QString &metric : m_metrics) {
    if (!names.contains(metric))
      continue;
    const bool present = std::any_of(m_curves.cbegin(), m_curves.cend(),
                                     [&](const Curve &c) { return c.runId == runId && c.metric == metric; });
    if (!present)
      return true;
  }
  return false;
}

void CurvesPlot::rebuild() {
  clearGraphs();
  m_curves.clear();
  const QStringList runs = m_store->runIds();
  for (int r = 0; r < runs.size(); ++r) {
    if (m_hidden.contains(runs[r]))
      continue;
    const QStringList names = m_store->metricNames(runs[r]);
    for (int m = 0; m < m_metrics.size(); ++m)
      if (names.contains(m_metrics[m]))
        addCurve(runs[r], m_metrics[m], r, m);
  }
  applyAxes();
  m_needsRebuild = false;
}

QColor categoricalColor(int index) {
  return kPalette[std::max(0, index) % kPalette.size()];
}

QColor CurvesPlot::runColor(const QString &runId) const {
  const int index = std::max<qsizetype>(0, m_store->runIds().indexOf(runId));
  return kPalette[index % kPalette.size()];
}

QString CurvesPlot::curveName(const Curve &curve) const {
  const QString label = m_store->runLabel(curve.runId);
  return m_metrics.size() > 1 ? label + QStringLiteral(" · ") + curve.metric : label;
}

void CurvesPlot::addCurve(const QString &runId, const QString &metric, int runIndex, int metricIndex) {
  const QColor colour = kPalette[runIndex % kPalette.size()];
  const Qt::PenStyle style = kMetricStyles[metricIndex % kMetricStyles.size()];
  Curve c;
  c.runId = runId;
  c.metric = metric;
  QColor faint = colour;
  faint.setAlpha(60);
  c.raw = addGraph();
  c.raw->setPen(QPen(faint, 1.0, style));
  c.raw->setAdaptiveSampling(true);
  c.raw->removeFromLegend();
  c.raw->setVisible(m_smoothing > 0.0);
  c.smoothed = addGraph();
  c.smoothed->setPen(QPen(colour, 2.0, style));
  c.smoothed->setAdaptiveSampling(true);
  m_curves.append(c);
  Curve &added = m_curves.last();
  added.smoothed->setName(curveName(added));
  refill(added);
}

void CurvesPlot::refill(Curve &curve) {
  const QVector<double> x = m_store->xValues(curve.runId, curve.metric, m_xMode);
  // A run without the axis' quantity (gold labels) has no points on it.
  const QVector<double> y = m_store->values(curve.runId, curve.metric).mid(0, x.size());
  curve.ema = EmaSmoother(m_smoothing);
  QVector<double> s(y.size());
  for (int i = 0; i < y.size(); ++i)
    s[i] = curve.ema.next(y[i]);
  const bool sorted = std::is_sorted(x.cbegin(), x.cend());
  curve.raw->setData(x, y, sorted);
  curve.smoothed->setData(x, s, sorted);
  curve.pushed = y.size();
  curve.revision = m_store->revision(curve.runId, curve.metric);
  updateAntialiasing(curve);
}

void CurvesPlot::appendPoints(Curve &curve) {
  const int n = m_store->pointCount(curve.runId, curve.metric);
  if (n < curve.pushed || m_store->revision(curve.runId, curve.metric) != curve.revision) {
    refill(curve);
    return;
  }
  if (n == curve.pushed)
    return;
  if (m_xMode == XAxisMode::GoldLabels) { // x is looked up in another series: redo the curve
    refill(curve);
    return;
  }
  const QVector<double> &steps = m_store->steps(curve.runId, curve.metric);
  const QVector<double> &walls = m_store->wallTimes(curve.runId, curve.metric);
  const QVector<double> &y = m_store->values(curve.runId, curve.metric);
  const double origin = m_store->firstWallTime(curve.runId);
  QVector<double> xs, raw, smooth;
  for (int i = curve.pushed; i < n; ++i) {
    xs.append(m_xMode == XAxisMode::Step       ? steps[i]
              : m_xMode == XAxisMode::WallTime ? walls[i]
                                               : walls[i] - origin);
    raw.append(y[i]);
    smooth.append(curve.ema.next(y[i]));
  }
  curve.raw->addData(xs, raw, true);
  curve.smoothed->addData(xs, smooth, true);
  curve.pushed = n;
  updateAntialiasing(curve);
}

void CurvesPlot::applyAxes() {
  xAxis->setLabel(xAxisTitle(m_xMode));
  yAxis->setLabel(m_metrics.join(QStringLiteral(", ")));
  if (m_xMode == XAxisMode::Step || m_xMode == XAxisMode::GoldLabels) {
    xAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
  } else if (m_xMode == XAxisMode::RelativeTime) {
    auto ticker = QSharedPointer<QCPAxisTickerTime>::create();
    ticker->setTimeFormat(QStringLiteral("%h:%m:%s"));
    xAxis->setTicker(ticker);
  } else {
    auto ticker = QSharedPointer<QCPAxisTickerDateTime>::create();
    ticker->setDateTimeFormat(QStringLiteral("HH:mm:ss\ndd MMM"));
    ticker->setDateTimeSpec(Qt::LocalTime);
    xAxis->setTicker(ticker);
  }
  if (m_logY) {
    yAxis->setScaleType(QCPAxis::stLogarithmic);
    yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    yAxis->setNumberFormat(QStringLiteral("eb"));
    yAxis->setNumberPrecision(0);
  } else {
    yAxis->setScaleType(QCPAxis::stLinear);
    yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    yAxis->setNumberFormat(QStringLiteral("gb"));
    yAxis->setNumberPrecision(6);
  }
}

void CurvesPlot::rescale() {
  double xLo = 0, xHi = 0;
  bool haveX = false;
  QVector<double> ys;
  for (const Curve &c : std::as_const(m_curves)) {
    if (c.raw->data()->isEmpty())
      continue;
    bool found = false;
    const QCPRange keys = c.raw->data()->keyRange(found);
    if (found) {
      xLo = haveX ? std::min(xLo, keys.lower) : keys.lower;
      xHi = haveX ? std::max(xHi, keys.upper) : keys.upper;
      haveX = true;
    }
    // The raw values bound what is drawn; the smoothed curve lies within them.
    ys += m_store->values(c.runId, c.metric);
  }
  if (!haveX)
    return;
  const double xPad = xHi > xLo ? 0.01 * (xHi - xLo) : 1.0;
  xAxis->setRange(xLo - xPad, xHi + xPad);
  const QCPRange y = fitRange(ys, m_ignoreOutliers, m_logY);
  if (y.lower <= y.upper)
    yAxis->setRange(y);
}

bool CurvesPlot::nearestPoint(const QPointF &pixel, int *curveIndex, int *pointIndex) const {
  double bestDist = kTooltipReachPx;
  const double key = xAxis->pixelToCoord(pixel.x());
  for (int ci = 0; ci < m_curves.size(); ++ci) {
    const Curve &c = m_curves[ci];
    const auto data = c.smoothed->data();
    if (data->isEmpty())
      continue;
    // Look at the few points around the mouse's key; nearest in pixels (raw or smoothed) wins.
    const auto it = data->findBegin(key, true);
    const auto first = it - std::min<qsizetype>(3, it - data->constBegin());
    for (auto p = first; p != data->constEnd() && p - first < 8; ++p) {
      const int i = int(p - data->constBegin());
      const double dx = xAxis->coordToPixel(p->key) - pixel.x();
      const double dSmooth = std::hypot(dx, yAxis->coordToPixel(p->value) - pixel.y());
      const double dRaw = std::hypot(dx, yAxis->coordToPixel(c.raw->data()->at(i)->value) - pixel.y());
      if (std::min(dSmooth, dRaw) < bestDist) {
        bestDist = std::min(dSmooth, dRaw);
        *curveIndex = ci;
        *pointIndex = i;
      }
    }
  }
  return bestDist < kTooltipReachPx;
}

QString CurvesPlot::tooltipTextAt(const QPointF &pixel) const {
  int curveIndex = -1, bestIndex = -1;
  if (!nearestPoint(pixel, &curveIndex, &bestIndex))
    return {};
  const Curve *best = &m_curves[curveIndex];
  const double key = best->smoothed->data()->at(bestIndex)->key;
  const double raw = best->raw->data()->at(bestIndex)->value;
  const double smooth = best->smoothed->data()->at(bestIndex)->value;
  // The graph's data are ordered like the store's series (x is monotone for a logged run).
  const QVector<double> &steps = m_store->steps(best->runId, best->metric);
  const double step = bestIndex < steps.size() ? steps[bestIndex] : key;
  QString text = QStringLiteral("<b>%1</b><br>%2<br>step %3<br>value %4<br>smoothed %5")
                     .arg(m_store->runLabel(best->runId).toHtmlEscaped(), best->metric.toHtmlEscaped())
                     .arg(step, 0, 'f', 0)
                     .arg(raw, 0, 'g', 8)
                     .arg(smooth, 0, 'g', 8);
  if (m_xMode == XAxisMode::WallTime)
    text += QStringLiteral("<br>%1").arg(
        QDateTime::fromMSecsSinceEpoch(qint64(key * 1000)).toString(Qt::ISODate));
  else if (m_xMode == XAxisMode::RelativeTime)
    text += QStringLiteral("<br>%1 s after start").arg(key, 0, 'f', 1);
  return text;
}

void CurvesPlot::mouseMoveEvent(QMouseEvent *event) {
  QCustomPlot::mouseMoveEvent(event);
  if (event->buttons() != Qt::NoButton)
    return;
  const QString text = tooltipTextAt(event->position());
  if (text.isEmpty())
    QToolTip::hideText();
  else
    QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

void CurvesPlot::wheelEvent(QWheelEvent *event) {
  m_autoscale = false;
  QCustomPlot::wheelEvent(event);
}

void CurvesPlot::mouseDoubleClickEvent(QMouseEvent *event) {
  QCustomPlot::mouseDoubleClickEvent(event);
  fitToData();
}

} // namespace preflab::ui
