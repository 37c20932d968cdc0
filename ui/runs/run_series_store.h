// RunSeriesStore: the GUI's in-memory metric series of every opened or running run, bounded per series.
#pragma once

#include "ui/runs/metric_series.h"
#include "ui/runs/x_axis_mode.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QStringList>

#include <cstdint>

namespace preflab::ui {

// Runs are keyed by an id (the run folder's absolute path for folders on disk) and keep the
// order in which they were first seen, so views can give each a stable colour. Every metric of
// a run is a MetricSeries capped at maxPointsPerSeries() points (default
// kDefaultMaxPointsPerSeries); past the cap it thins evenly, never grows without bound.
// GUI thread only: producers in other threads deliver records through queued signals.
class RunSeriesStore : public QObject {
  Q_OBJECT
public:
  static constexpr int kDefaultMaxPointsPerSeries = 1000000;

  explicit RunSeriesStore(QObject *parent = nullptr);

  // Adds the run when it is new (emits runsChanged()).
  void setRunLabel(const QString &runId, const QString &label);
  // One logged record. `wallTime` is unix seconds (NaN when unknown); relative time is measured
  // from the run's first finite wallTime. Non-finite metric values are stored as NaN (a gap).
  void appendRecord(const QString &runId, double step, double wallTime,
                    const QHash<QString, double> &metrics);
  // Drops the run's points but keeps the run (a reloaded file); removeRun forgets it.
  void clearRun(const QString &runId);
  void removeRun(const QString &runId);

  QStringList runIds() const { return m_order; } // in the order first seen
  bool hasRun(const QString &runId) const { return m_runs.contains(runId); }
  QString runLabel(const QString &runId) const; // the label, else the id
  QStringList metricNames() const;              // union over runs, sorted
  QStringList metricNames(const QString &runId) const;

  int maxPointsPerSeries() const { return m_maxPoints; }
  void setMaxPointsPerSeries(int maxPoints); // applies to existing series too (thins them)

  // A series' data; empty when the run or metric is unknown. Index i of x and y belong together.
  int pointCount(const QString &runId, const QString &metric) const;
  const QVector<double> &steps(const QString &runId, const QString &metric) const;
  const QVector<double> &wallTimes(const QString &runId, const QString &metric) const;
  const QVector<double> &values(const QString &runId, const QString &metric) const;
  QVector<double> xValues(const QString &runId, const QString &metric, XAxisMode mode) const;
  double firstWallTime(const QString &runId) const; // NaN until a record with a time arrived
  // Changes when stored points were thinned or cleared (then an incremental view must rebuild).
  std::uint64_t revision(const QString &runId, const QString &metric) const;

signals:
  void runsChanged();                        // a run added, removed, relabelled or cleared
  void metricNamesChanged();                 // metricNames() gained or lost a name
  void seriesAppended(const QString &runId); // one record appended to the run's series

private:
  struct Run {
    QString label;
    double firstWallTime;
    QHash<QString, MetricSeries> series;
  };
  Run &ensureRun(const QString &runId, const QString &label);
  const MetricSeries *series(const QString &runId, const QString &metric) const;
  void recomputeMetricNames();

  QHash<QString, Run> m_runs;
  QStringList m_order;
  QSet<QString> m_metricNames;
  int m_maxPoints = kDefaultMaxPointsPerSeries;
};

} // namespace preflab::ui
