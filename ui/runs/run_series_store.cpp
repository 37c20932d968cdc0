// RunSeriesStore: per-run metric series, labels and the union of metric names.
#include "ui/runs/run_series_store.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace preflab::ui {

namespace {
const QVector<double> kEmpty;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
} // namespace

RunSeriesStore::RunSeriesStore(QObject *parent) : QObject(parent) {}

RunSeriesStore::Run &RunSeriesStore::ensureRun(const QString &runId, const QString &label) {
  auto it = m_runs.find(runId);
  if (it != m_runs.end())
    return *it;
  m_order.append(runId);
  it = m_runs.insert(runId, Run{label, kNaN, {}});
  emit runsChanged(); // after the label is in place: views read it now
  return *it;
}

void RunSeriesStore::setRunLabel(const QString &runId, const QString &label) {
  const bool known = m_runs.contains(runId);
  Run &run = ensureRun(runId, label);
  if (!known || run.label == label)
    return;
  run.label = label;
  emit runsChanged();
}

void RunSeriesStore::appendRecord(const QString &runId, double step, double wallTime,
                                  const QHash<QString, double> &metrics) {
  Run &run = ensureRun(runId, QString());
  if (std::isnan(run.firstWallTime) && std::isfinite(wallTime))
    run.firstWallTime = wallTime;
  bool newName = false;
  for (auto it = metrics.cbegin(); it != metrics.cend(); ++it) {
    auto seriesIt = run.series.find(it.key());
    if (seriesIt == run.series.end()) {
      seriesIt = run.series.insert(it.key(), MetricSeries(m_maxPoints));
      if (!m_metricNames.contains(it.key())) {
        m_metricNames.insert(it.key());
        newName = true;
      }
    }
    const double value = std::isfinite(it.value()) ? it.value() : kNaN;
    seriesIt->append(step, wallTime, value);
  }
  if (newName)
    emit metricNamesChanged();
  emit seriesAppended(runId);
}

void RunSeriesStore::clearRun(const QString &runId) {
  auto it = m_runs.find(runId);
  if (it == m_runs.end())
    return;
  // Series are cleared rather than erased so their revision moves on and views rebuild.
  for (MetricSeries &s : it->series)
    s.clear();
  it->firstWallTime = kNaN;
  emit runsChanged();
}

void RunSeriesStore::removeRun(const QString &runId) {
  if (m_runs.remove(runId) == 0)
    return;
  m_order.removeAll(runId);
  const int before = m_metricNames.size();
  recomputeMetricNames();
  emit runsChanged();
  if (m_metricNames.size() != before)
    emit metricNamesChanged();
}

void RunSeriesStore::recomputeMetricNames() {
  m_metricNames.clear();
  for (const Run &run : std::as_const(m_runs))
    for (auto it = run.series.cbegin(); it != run.series.cend(); ++it)
      m_metricNames.insert(it.key());
}

QString RunSeriesStore::runLabel(const QString &runId) const {
  const auto it = m_runs.constFind(runId);
  if (it == m_runs.cend() || it->label.isEmpty())
    return runId;
  return it->label;
}

QStringList RunSeriesStore::metricNames() const {
  QStringList names(m_metricNames.cbegin(), m_metricNames.cend());
  names.sort();
  return names;
}

QStringList RunSeriesStore::metricNames(const QString &runId) const {
  const auto it = m_runs.constFind(runId);
  if (it == m_runs.cend())
    return {};
  QStringList names = it->series.keys();
  names.sort();
  return names;
}

void RunSeriesStore::setMaxPointsPerSeries(int maxPoints) {
  m_maxPoints = std::max(4, maxPoints);
  for (Run &run : m_runs)
    for (MetricSeries &s : run.series)
      s.setMaxPoints(m_maxPoints);
}

const MetricSeries *RunSeriesStore::series(const QString &runId, const QString &metric) const {
  const auto it = m_runs.constFind(runId);
  if (it == m_runs.cend())
    return nullptr;
  const auto s = it->series.constFind(metric);
  return s == it->series.cend() ? nullptr : &*s;
}

int RunSeriesStore::pointCount(const QString &runId, const QString &metric) const {
  const MetricSeries *s = series(runId, metric);
  return s ? s->size() : 0;
}

const QVector<double> &RunSeriesStore::steps(const QString &runId, const QString &metric) const {
  const MetricSeries *s = series(runId, metric);
  return s ? s->steps() : kEmpty;
}

const QVector<double> &RunSeriesStore::wallTimes(const QString &runId, const QString &metric) const {
  const MetricSeries *s = series(runId, metric);
  return s ? s->wallTimes() : kEmpty;
}

const QVector<double> &RunSeriesStore::values(const QString &runId, const QString &metric) const {
  const MetricSeries *s = series(runId, metric);
  return s ? s->values() : kEmpty;
}

QVector<double> RunSeriesStore::xValues(const QString &runId, const QString &metric, XAxisMode mode) const {
  switch (mode) {
  case XAxisMode::Step:
    return steps(runId, metric);
  case XAxisMode::WallTime:
    return wallTimes(runId, metric);
  case XAxisMode::RelativeTime: {
    QVector<double> x = wallTimes(runId, metric);
    const double origin = firstWallTime(runId);
    for (double &v : x)
      v -= origin;
    return x;
  }
  case XAxisMode::GoldLabels: {
    // The gold labels logged at each point's step: the last value at or before it (eval lines
    // share their step with a training line).
    const MetricSeries *gold = series(runId, kGoldLabelsMetric);
    if (!gold || gold->steps().isEmpty())
      return {};
    const QVector<double> &goldSteps = gold->steps();
    QVector<double> x;
    for (double step : steps(runId, metric)) {
      auto it = std::upper_bound(goldSteps.cbegin(), goldSteps.cend(), step);
      const auto i = it == goldSteps.cbegin() ? 0 : int(it - goldSteps.cbegin()) - 1;
      x.append(gold->values()[i]);
    }
    return x;
  }
  }
  return {};
}

double RunSeriesStore::firstWallTime(const QString &runId) const {
  const auto it = m_runs.constFind(runId);
  return it == m_runs.cend() ? kNaN : it->firstWallTime;
}

std::uint64_t RunSeriesStore::revision(const QString &runId, const QString &metric) const {
  const MetricSeries *s = series(runId, metric);
  return s ? s->revision() : 0;
}

} // namespace preflab::ui
