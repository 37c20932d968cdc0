// CurvesView: live metric curves of several runs with smoothing, axis modes, outlier-proof autoscale, export.
#pragma once

#include "ui/runs/x_axis_mode.h"

#include <QStringList>
#include <QWidget>

class QAbstractItemModel;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QSlider;
class QSortFilterProxyModel;
class QStandardItemModel;
class QStringListModel;
class QToolButton;

namespace preflab::ui {

class CurvesPlot;
class RunSeriesStore;

// Controls (metric list with filter, run list with show/hide check boxes, smoothing slider,
// x-axis mode, log-y, ignore outliers, fit, export menu) around one CurvesPlot. Reads the
// store, which must outlive the view; owns nothing else. The default metric is "loss" (else the
// first metric) until the user or setMetric() chooses. GUI thread only.
class CurvesView : public QWidget {
  Q_OBJECT
public:
  explicit CurvesView(RunSeriesStore *store, QWidget *parent = nullptr);

  void setMetric(const QString &metric);       // selects exactly this metric
  void setMetrics(const QStringList &metrics); // several metrics overlaid on one axis
  QString metric() const;                      // the first selected metric
  QStringList metrics() const;
  void setSmoothing(double weight); // 0 .. 0.999 (TensorBoard's EMA weight)
  double smoothing() const;
  void setLogY(bool on);
  bool logY() const;
  void setXAxisMode(XAxisMode mode);
  XAxisMode xAxisMode() const;
  void setIgnoreOutliers(bool on);
  bool ignoreOutliers() const;
  void setRunVisible(const QString &runId, bool visible);
  bool isRunVisible(const QString &runId) const;

  // Applies pending appends/settings and redraws at once (tests, screenshots, benchmarks).
  void updateNow();
  // By suffix .png/.pdf/.svg; false with *error naming the path on failure.
  bool exportChart(const QString &path, QString *error = nullptr);
  // run,metric,x,value,smoothed rows of the shown curves, header first.
  bool exportCsv(const QString &path, QString *error = nullptr);

  CurvesPlot *plot() const { return m_plot; }
  QAbstractItemModel *metricModel() const; // the filtered metric list
  QAbstractItemModel *runModel() const;

signals:
  void metricsChanged(const QStringList &metrics);
  void exportFailed(const QString &message);
  void exported(const QString &path);

private:
  QWidget *buildSidePanel();
  QWidget *buildToolBar();
  QToolButton *buildExportButton(QWidget *parent);
  void refreshMetricList();
  void refreshRunList();
  void syncMetricSelection();
  void onMetricSelectionChanged();
  void onRunItemChanged();
  void exportInteractively(const QString &suffix);

  RunSeriesStore *m_store;
  CurvesPlot *m_plot;
  QStringListModel *m_metricNames;
  QSortFilterProxyModel *m_metricFilter;
  QStandardItemModel *m_runs;
  QListView *m_metricList = nullptr;
  QListView *m_runList = nullptr;
  QLineEdit *m_filterEdit = nullptr;
  QSlider *m_smoothingSlider = nullptr;
  QLabel *m_smoothingLabel = nullptr;
  QComboBox *m_xAxisCombo = nullptr;
  QCheckBox *m_logYCheck = nullptr;
  QCheckBox *m_outlierCheck = nullptr;
  bool m_userChoseMetric = false;
  bool m_syncing = false;
};

} // namespace preflab::ui
