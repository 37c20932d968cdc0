// CurvesView: wiring of the metric/run lists and chart controls to a CurvesPlot.
#include "ui/curves/curves_view.h"

#include "ui/curves/chart_exporter.h"
#include "ui/curves/curves_plot.h"
#include "ui/runs/run_series_store.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QMessageBox>
#include <QSlider>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStandardItemModel>
#include <QStringListModel>
#include <QToolButton>
#include <QVBoxLayout>

namespace preflab::ui {

namespace {
constexpr int kRunIdRole = Qt::UserRole + 1;
constexpr int kSliderSteps = 1000; // slider value / 1000 = EMA weight, 0 .. 0.999
} // namespace

CurvesView::CurvesView(RunSeriesStore *store, QWidget *parent)
    : QWidget(parent), m_store(store), m_plot(new CurvesPlot(store, this)),
      m_metricNames(new QStringListModel(this)), m_metricFilter(new QSortFilterProxyModel(this)),
      m_runs(new QStandardItemModel(this)) {
  m_metricFilter->setSourceModel(m_metricNames);
  m_metricFilter->setFilterCaseSensitivity(Qt::CaseInsensitive);
  m_plot->setMinimumSize(320, 240);

  auto *right = new QWidget(this);
  auto *rightLayout = new QVBoxLayout(right);
  rightLayout->setContentsMargins(0, 0, 0, 0);
  rightLayout->addWidget(buildToolBar());
  rightLayout->addWidget(m_plot, 1);

  auto *splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(buildSidePanel());
  splitter->addWidget(right);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({200, 800});
  auto *layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(splitter);

  connect(m_store, &RunSeriesStore::metricNamesChanged, this, &CurvesView::refreshMetricList);
  connect(m_store, &RunSeriesStore::runsChanged, this, &CurvesView::refreshRunList);
  connect(m_plot, &CurvesPlot::legendRunClicked, this,
          [this](const QString &runId) { setRunVisible(runId, false); });
  refreshMetricList();
  refreshRunList();
}

QWidget *CurvesView::buildSidePanel() {
  auto *panel = new QWidget(this);
  auto *layout = new QVBoxLayout(panel);
  layout->setContentsMargins(4, 4, 4, 4);
  m_filterEdit = new QLineEdit(panel);
  m_filterEdit->setPlaceholderText(tr("Filter metrics"));
  m_filterEdit->setClearButtonEnabled(true);
  m_metricList = new QListView(panel);
  m_metricList->setModel(m_metricFilter);
  m_metricList->setSelectionMode(QAbstractItemView::ExtendedSelection);
  m_metricList->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_metricList->setToolTip(tr("Metrics to plot (Ctrl-click to overlay several)"));
  m_runList = new QListView(panel);
  m_runList->setModel(m_runs);
  m_runList->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_runList->setToolTip(tr("Runs shown on the chart (click a legend entry to hide its run)"));
  m_runList->setIconSize(QSize(12, 12));
  layout->addWidget(new QLabel(tr("Metrics"), panel));
  layout->addWidget(m_filterEdit);
  layout->addWidget(m_metricList, 3);
  layout->addWidget(new QLabel(tr("Runs"), panel));
  layout->addWidget(m_runList, 2);

  connect(m_filterEdit, &QLineEdit::textChanged, this, [this](const QString &text) {
    m_syncing = true;
    m_metricFilter->setFilterFixedString(text);
    m_syncing = false;
    syncMetricSelection();
  });
  connect(m_metricList->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &CurvesView::onMetricSelectionChanged);
  connect(m_runs, &QStandardItemModel::itemChanged, this, &CurvesView::onRunItemChanged);
  return panel;
}

QWidget *CurvesView::buildToolBar() {
  auto *bar = new QWidget(this);
  auto *layout = new QHBoxLayout(bar);
  layout->setContentsMargins(4, 4, 4, 0);
  m_smoothingSlider = new QSlider(Qt::Horizontal, bar);
  m_smoothingSlider->setRange(0, kSliderSteps - 1);
  m_smoothingSlider->setToolTip(tr("Smoothing: weight of TensorBoard's debiased exponential moving average"));
  m_smoothingSlider->setMinimumWidth(120);
  m_smoothingLabel = new QLabel(bar);
  m_smoothingLabel->setMinimumWidth(40);
  m_xAxisCombo = new QComboBox(bar);
  m_xAxisCombo->addItem(tr("Step"), int(XAxisMode::Step));
  m_xAxisCombo->addItem(tr("Relative time"), int(XAxisMode::RelativeTime));
  m_xAxisCombo->addItem(tr("Wall time"), int(XAxisMode::WallTime));
  m_xAxisCombo->addItem(tr("Gold labels used"), int(XAxisMode::GoldLabels));
  m_xAxisCombo->setItemData(3, tr("Online D2PO runs: the gold labels spent by each point's step"),
                            Qt::ToolTipRole);
  m_logYCheck = new QCheckBox(tr("Log y"), bar);
  m_outlierCheck = new QCheckBox(tr("Ignore outliers"), bar);
  m_outlierCheck->setToolTip(tr("Autoscale the y axis to the 1st..99th percentile of the shown values"));
  auto *fit = new QToolButton(bar);
  fit->setText(tr("Fit"));
  fit->setToolTip(tr("Fit both axes to the data again (also: double-click the chart)"));

  layout->addWidget(new QLabel(tr("Smoothing"), bar));
  layout->addWidget(m_smoothingSlider);
  layout->addWidget(m_smoothingLabel);
  layout->addSpacing(8);
  layout->addWidget(new QLabel(tr("X axis"), bar));
  layout->addWidget(m_xAxisCombo);
  layout->addWidget(m_logYCheck);
  layout->addWidget(m_outlierCheck);
  layout->addStretch(1);
  layout->addWidget(fit);
  layout->addWidget(buildExportButton(bar));

  connect(m_smoothingSlider, &QSlider::valueChanged, this, [this](int value) {
    m_smoothingLabel->setText(QString::number(value / double(kSliderSteps), 'f', 3));
    m_plot->setSmoothing(value / double(kSliderSteps));
  });
  connect(m_xAxisCombo, &QComboBox::currentIndexChanged, this,
          [this] { m_plot->setXAxisMode(XAxisMode(m_xAxisCombo->currentData().toInt())); });
  connect(m_logYCheck, &QCheckBox::toggled, m_plot, &CurvesPlot::setLogY);
  connect(m_outlierCheck, &QCheckBox::toggled, m_plot, &CurvesPlot::setIgnoreOutliers);
  connect(fit, &QToolButton::clicked, m_plot, &CurvesPlot::fitToData);
  m_smoothingSlider->setValue(int(std::lround(m_plot->smoothing() * kSliderSteps)));
  m_smoothingLabel->setText(QString::number(m_plot->smoothing(), 'f', 3));
  return bar;
}

QToolButton *CurvesView::buildExportButton(QWidget *parent) {
  auto *button = new QToolButton(parent);
  button->setText(tr("Export"));
  button->setToolTip(tr("Save the chart (PNG, PDF, SVG) or the shown data (CSV)"));
  button->setPopupMode(QToolButton::InstantPopup);
  auto *menu = new QMenu(button);
  for (const QString suffix :
       {QStringLiteral("png"), QStringLiteral("pdf"), QStringLiteral("svg"), QStringLiteral("csv")})
    menu->addAction(tr("Export %1…").arg(suffix.toUpper()), this,
                    [this, suffix] { exportInteractively(suffix); });
  button->setMenu(menu);
  return button;
}

void CurvesView::refreshMetricList() {
  const QStringList names = m_store->metricNames();
  if (!m_userChoseMetric) {
    const QString fallback = names.contains(QStringLiteral("loss")) ? QStringLiteral("loss")
                             : names.isEmpty()                      ? QString()
                                                                    : names.first();
    m_plot->setMetrics(fallback.isEmpty() ? QStringList() : QStringList{fallback});
  }
  m_syncing = true;
  m_metricNames->setStringList(names);
  m_syncing = false;
  syncMetricSelection();
}

void CurvesView::syncMetricSelection() {
  m_syncing = true;
  QItemSelection selection;
  for (int row = 0; row < m_metricFilter->rowCount(); ++row) {
    const QModelIndex index = m_metricFilter->index(row, 0);
    if (m_plot->metrics().contains(index.data().toString()))
      selection.select(index, index);
  }
  m_metricList->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
  m_syncing = false;
}

void CurvesView::onMetricSelectionChanged() {
  if (m_syncing)
    return;
  QStringList chosen;
  for (const QModelIndex &index : m_metricList->selectionModel()->selectedRows())
    chosen.append(index.data().toString());
  if (chosen.isEmpty())
    return; // keep showing something; an empty chart helps nobody
  chosen.sort();
  m_userChoseMetric = true;
  m_plot->setMetrics(chosen);
  emit metricsChanged(chosen);
}

void CurvesView::refreshRunList() {
  m_syncing = true;
  m_runs->clear();
  const QSet<QString> hidden = m_plot->hiddenRuns();
  for (const QString &runId : m_store->runIds()) {
    auto *item = new QStandardItem(m_store->runLabel(runId));
    item->setData(runId, kRunIdRole);
    item->setToolTip(runId);
    item->setCheckable(true);
    item->setCheckState(hidden.contains(runId) ? Qt::Unchecked : Qt::Checked);
    item->setData(m_plot->runColor(runId), Qt::DecorationRole);
    m_runs->appendRow(item);
  }
  m_syncing = false;
}

void CurvesView::onRunItemChanged() {
  if (m_syncing)
    return;
  QSet<QString> hidden;
  for (int row = 0; row < m_runs->rowCount(); ++row) {
    const QStandardItem *item = m_runs->item(row);
    if (item->checkState() != Qt::Checked)
      hidden.insert(item->data(kRunIdRole).toString());
  }
  m_plot->setHiddenRuns(hidden);
}

void CurvesView::setMetric(const QString &metric) {
  setMetrics(QStringList{metric});
}

void CurvesView::setMetrics(const QStringList &metrics) {
  m_userChoseMetric = true;
  m_plot->setMetrics(metrics);
  syncMetricSelection();
  emit metricsChanged(metrics);
}

QString CurvesView::metric() const {
  return m_plot->metrics().isEmpty() ? QString() : m_plot->metrics().first();
}

QStringList CurvesView::metrics() const {
  return m_plot->metrics();
}

void CurvesView::setSmoothing(double weight) {
  m_smoothingSlider->setValue(int(std::lround(std::clamp(weight, 0.0, 0.999) * kSliderSteps)));
  m_plot->setSmoothing(weight); // exact value, not the slider's rounding
}

double CurvesView::smoothing() const {
  return m_plot->smoothing();
}
void CurvesView::setLogY(bool on) {
  m_logYCheck->setChecked(on);
}
bool CurvesView::logY() const {
  return m_plot->logY();
}
void CurvesView::setIgnoreOutliers(bool on) {
  m_outlierCheck->setChecked(on);
}
bool CurvesView::ignoreOutliers() const {
  return m_plot->ignoreOutliers();
}
XAxisMode CurvesView::xAxisMode() const {
  return m_plot->xAxisMode();
}

void CurvesView::setXAxisMode(XAxisMode mode) {
  m_xAxisCombo->setCurrentIndex(m_xAxisCombo->findData(int(mode)));
}

void CurvesView::setRunVisible(const QString &runId, bool visible) {
  for (int row = 0; row < m_runs->rowCount(); ++row) {
    QStandardItem *item = m_runs->item(row);
    if (item->data(kRunIdRole).toString() == runId)
      item->setCheckState(visible ? Qt::Checked : Qt::Unchecked); // itemChanged updates the plot
  }
}

bool CurvesView::isRunVisible(const QString &runId) const {
  return m_store->hasRun(runId) && !m_plot->hiddenRuns().contains(runId);
}

void CurvesView::updateNow() {
  m_plot->flushPending();
  m_plot->replot(QCustomPlot::rpImmediateRefresh);
}

bool CurvesView::exportChart(const QString &path, QString *error) {
  return ChartExporter::exportChart(m_plot, path, error);
}

bool CurvesView::exportCsv(const QString &path, QString *error) {
  return ChartExporter::exportCsv(m_plot, m_store, path, error);
}

QAbstractItemModel *CurvesView::metricModel() const {
  return m_metricFilter;
}
QAbstractItemModel *CurvesView::runModel() const {
  return m_runs;
}

void CurvesView::exportInteractively(const QString &suffix) {
  QString base = metric().isEmpty() ? QStringLiteral("curves") : metric();
  base.replace(QLatin1Char('/'), QLatin1Char('_'));
  const QString path = QFileDialog::getSaveFileName(this, tr("Export %1").arg(suffix.toUpper()),
                                                    base + QLatin1Char('.') + suffix,
                                                    tr("%1 files (*.%2)").arg(suffix.toUpper(), suffix));
  if (path.isEmpty())
    return;
  QString error;
  const bool ok = suffix == QLatin1String("csv") ? exportCsv(path, &error) : exportChart(path, &error);
  if (ok) {
    emit exported(path);
    return;
  }
  emit exportFailed(error);
  QMessageBox::warning(this, tr("Export failed"), error);
}

} // namespace preflab::ui
