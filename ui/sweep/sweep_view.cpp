// SweepView: table and frontier scatter of a sweep folder, refreshed while its points run.
#include "ui/sweep/sweep_view.h"

#include "ui/curves/chart_exporter.h"
#include "ui/curves/curves_plot.h" // categoricalColor
#include "ui/sweep/pareto.h"
#include "ui/sweep/sweep_table_model.h"

#include "core/api/sweeps.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QMouseEvent>
#include <QSaveFile>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTextStream>
#include <QTimer>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>

namespace preflab::ui {

namespace {

constexpr int kPollMs = 2000;
constexpr double kHitRadius = 10.0;

// Lower is better for losses, divergences and costs; higher for the rest (rewards, win rates).
bool guessHigherIsBetter(const QString &column) {
  for (const char *word : {"loss", "kl", "seconds", "grad_norm", "time", "perplexity"})
    if (column.contains(QLatin1String(word)))
      return false;
  return true;
}

QString axisLabel(const QString &column, bool higherIsBetter) {
  return column +
         (higherIsBetter ? QStringLiteral("  (higher is better)") : QStringLiteral("  (lower is better)"));
}

} // namespace

SweepView::SweepView(QWidget *parent) : QWidget(parent) {
  m_model = new SweepTableModel(this);
  m_sorted = new QSortFilterProxyModel(this);
  m_sorted->setSourceModel(m_model);
  m_sorted->setSortRole(SweepTableModel::SortRole);

  m_table = new QTableView;
  m_table->setModel(m_sorted);
  m_table->setSortingEnabled(true);
  m_table->sortByColumn(0, Qt::AscendingOrder);
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setSelectionMode(QAbstractItemView::SingleSelection);
  m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_table->verticalHeader()->hide();
  m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  m_table->setToolTip(tr("Click a column to sort; double-click a run to open it"));

  m_plot = new QCustomPlot;
  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  m_plot->setMouseTracking(true);
  m_plot->legend->setVisible(false); // until there is something to tell apart
  m_plot->legend->setBrush(QColor(255, 255, 255, 220));
  m_plot->plotLayout()->insertRow(0);
  m_plot->plotLayout()->addElement(0, 0, new QCPTextElement(m_plot, QString(), QFont(font().family(), 10)));
  // The legend beside the axes, where it hides no point.
  auto *side = new QCPLayoutGrid;
  m_plot->plotLayout()->addElement(1, 1, side);
  m_plot->plotLayout()->setColumnStretchFactor(1, 0.001);
  m_plot->axisRect()->insetLayout()->take(m_plot->legend);
  side->addElement(0, 0, m_plot->legend);
  side->addElement(1, 0, new QCPLayoutElement(m_plot)); // room below it
  side->setRowStretchFactor(0, 0.001);
  side->setMargins(QMargins(6, 10, 10, 0)); // the legend's frame inside the widget

  m_title =
      new QLabel(tr("No sweep open. Open a sweep folder (or any folder of runs), or run a sweep file."));
  m_message = new QLabel;
  m_message->setStyleSheet(QStringLiteral("color: #c62828"));
  m_message->setWordWrap(true);
  m_message->hide();

  auto *split = new QSplitter(Qt::Vertical);
  split->addWidget(m_plot);
  split->addWidget(m_table);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);

  auto *layout = new QVBoxLayout(this);
  layout->addWidget(buildToolBar());
  layout->addWidget(m_message);
  layout->addWidget(split, 1);

  connect(m_table, &QTableView::doubleClicked, this, [this](const QModelIndex &index) {
    emit runActivated(m_sorted->data(index, SweepTableModel::DirRole).toString());
  });
  connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex &current) {
            m_selectedRow = current.isValid() ? m_sorted->mapToSource(current).row() : -1;
            replot();
          });
  connect(m_plot, &QCustomPlot::mouseMove, this, &SweepView::showHover);
  connect(m_plot, &QCustomPlot::mousePress, this, [this](QMouseEvent *e) { m_pressAt = e->pos(); });
  connect(m_plot, &QCustomPlot::mouseRelease, this, [this](QMouseEvent *e) {
    if (e->button() != Qt::LeftButton || (e->pos() - m_pressAt).manhattanLength() > 4)
      return; // a drag of the view, not a click
    const int row = rowAt(e->pos());
    if (row < 0)
      return;
    selectRow(row);
    emit runActivated(QString::fromStdString(m_model->sweepRow(row).dir));
  });
  m_poll = new QTimer(this);
  m_poll->setInterval(kPollMs);
  connect(m_poll, &QTimer::timeout, this, [this] {
    const auto &rows = m_model->rows();
    if (std::any_of(rows.begin(), rows.end(),
                    [](const core::SweepRow &r) { return r.state == "queued" || r.state == "running"; }))
      reload();
  });
}

QWidget *SweepView::buildToolBar() {
  auto *bar = new QWidget;
  auto *rows = new QVBoxLayout(bar);
  rows->setContentsMargins(0, 0, 0, 0);
  auto *top = new QHBoxLayout;
  auto *open = new QToolButton;
  open->setText(tr("Open sweep…"));
  open->setToolTip(tr("A sweep folder (sweep.json) or any folder of run folders"));
  auto *start = new QToolButton;
  start->setText(tr("Run sweep file…"));
  start->setToolTip(tr("Queue every point of a sweep YAML file (base config and grid)"));
  top->addWidget(open);
  top->addWidget(start);
  top->addWidget(m_title, 1);
  rows->addLayout(top);

  auto *axes = new QHBoxLayout;
  m_xCombo = new QComboBox;
  m_yCombo = new QComboBox;
  m_colourCombo = new QComboBox;
  for (auto *combo : {m_xCombo, m_yCombo, m_colourCombo})
    combo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  m_xBetter = new QCheckBox(tr("higher is better"));
  m_yBetter = new QCheckBox(tr("higher is better"));
  m_logX = new QCheckBox(tr("log x"));
  m_xBetter->setToolTip(tr("Which way the Pareto frontier faces along x"));
  m_yBetter->setToolTip(tr("Which way the Pareto frontier faces along y"));
  axes->addWidget(new QLabel(tr("x:")));
  axes->addWidget(m_xCombo);
  axes->addWidget(m_xBetter);
  axes->addWidget(m_logX);
  axes->addSpacing(16);
  axes->addWidget(new QLabel(tr("y:")));
  axes->addWidget(m_yCombo);
  axes->addWidget(m_yBetter);
  axes->addSpacing(16);
  axes->addWidget(new QLabel(tr("colour by:")));
  axes->addWidget(m_colourCombo);
  axes->addStretch(1);
  auto *exportButton = new QToolButton;
  exportButton->setText(tr("Export"));
  exportButton->setToolTip(tr("Save the chart (PNG, PDF, SVG) or the table (CSV)"));
  exportButton->setPopupMode(QToolButton::InstantPopup);
  auto *menu = new QMenu(exportButton);
  for (const QString suffix :
       {QStringLiteral("png"), QStringLiteral("pdf"), QStringLiteral("svg"), QStringLiteral("csv")})
    menu->addAction(tr("Export %1…").arg(suffix.toUpper()), this,
                    [this, suffix] { exportInteractively(suffix); });
  exportButton->setMenu(menu);
  axes->addWidget(exportButton);
  rows->addLayout(axes);

  connect(open, &QToolButton::clicked, this, &SweepView::openRequested);
  connect(start, &QToolButton::clicked, this, &SweepView::startRequested);
  const auto axisChanged = [this](QComboBox *combo, QCheckBox *better) {
    if (m_filling)
      return;
    m_userChoseAxes = true;
    better->setChecked(guessHigherIsBetter(combo->currentText()));
    replot();
  };
  connect(m_xCombo, &QComboBox::currentIndexChanged, this,
          [this, axisChanged] { axisChanged(m_xCombo, m_xBetter); });
  connect(m_yCombo, &QComboBox::currentIndexChanged, this,
          [this, axisChanged] { axisChanged(m_yCombo, m_yBetter); });
  for (auto *check : {m_xBetter, m_yBetter, m_logX})
    connect(check, &QCheckBox::toggled, this, [this] {
      if (!m_filling)
        replot();
    });
  connect(m_colourCombo, &QComboBox::currentIndexChanged, this, [this] {
    if (!m_filling)
      replot();
  });
  return bar;
}

bool SweepView::openSweep(const QString &dir, QString *error) {
  std::vector<core::SweepRow> rows;
  QString why;
  try {
    rows = core::readSweepFolder(QDir(dir).absolutePath().toStdString());
    if (rows.empty())
      why = tr("%1 has neither sweep.json nor run folders.").arg(QDir::toNativeSeparators(dir));
  } catch (const std::exception &e) {
    why = QString::fromStdString(e.what());
  }
  if (!why.isEmpty()) {
    m_message->setText(why);
    m_message->show();
    if (error)
      *error = why;
    return false;
  }
  m_message->hide();
  m_dir = QDir(dir).absolutePath();
  m_userChoseAxes = false;
  m_selectedRow = -1;
  m_model->setRows(std::move(rows));
  refillAxisChoices();
  replot();
  m_poll->start();
  return true;
}

void SweepView::reload() {
  if (m_dir.isEmpty())
    return;
  try {
    m_model->setRows(core::readSweepFolder(m_dir.toStdString()));
    m_message->hide();
  } catch (const std::exception &e) { // sweep.json rewritten badly: keep the last rows
    m_message->setText(QString::fromStdString(e.what()));
    m_message->show();
  }
  refillAxisChoices();
  replot();
}

void SweepView::refillAxisChoices() {
  const QStringList numeric = m_model->numericColumns();
  const QStringList categorical = m_model->groupingColumns();
  QString x = m_xCombo->currentText(), y = m_yCombo->currentText(), colour = m_colourCombo->currentText();
  if (!m_userChoseAxes) {
    // Reward against KL when the task reports both; else the score against the first swept value.
    const QString score = numeric.contains(QStringLiteral("eval/win_rate")) ? QStringLiteral("eval/win_rate")
                          : numeric.contains(QStringLiteral("eval/reward")) ? QStringLiteral("eval/reward")
                          : numeric.size() > 1                              ? numeric[1]
                                                                            : QString();
    if (numeric.contains(QStringLiteral("eval/kl")) && numeric.contains(QStringLiteral("eval/reward"))) {
      x = QStringLiteral("eval/kl");
      y = QStringLiteral("eval/reward");
    } else {
      x = numeric.value(0);
      y = score;
    }
    colour.clear(); // the first grouping that is not the x axis itself
    for (const auto &c : categorical)
      if (c != x) {
        colour = c;
        break;
      }
  }
  m_filling = true;
  const auto fill = [](QComboBox *combo, const QStringList &items, const QString &current) {
    QStringList have;
    for (int i = 0; i < combo->count(); ++i)
      have << combo->itemText(i);
    if (have != items) {
      combo->clear();
      combo->addItems(items);
    }
    combo->setCurrentIndex(std::max<int>(0, int(items.indexOf(current))));
  };
  fill(m_xCombo, numeric, x);
  fill(m_yCombo, numeric, y);
  fill(m_colourCombo, QStringList{tr("(none)")} + categorical, colour.isEmpty() ? tr("(none)") : colour);
  if (!m_userChoseAxes) {
    m_xBetter->setChecked(guessHigherIsBetter(m_xCombo->currentText()));
    m_yBetter->setChecked(guessHigherIsBetter(m_yCombo->currentText()));
    double lo = INFINITY, hi = -INFINITY;
    for (int r = 0; r < m_model->rowCount(); ++r) {
      const double v = m_model->number(r, m_xCombo->currentText());
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
    m_logX->setChecked(lo > 0 && hi / lo >= 20);
  }
  m_filling = false;
}

void SweepView::setAxes(const QString &x, const QString &y) {
  m_filling = true;
  if (const int i = m_xCombo->findText(x); i >= 0)
    m_xCombo->setCurrentIndex(i);
  if (const int i = m_yCombo->findText(y); i >= 0)
    m_yCombo->setCurrentIndex(i);
  m_xBetter->setChecked(guessHigherIsBetter(m_xCombo->currentText()));
  m_yBetter->setChecked(guessHigherIsBetter(m_yCombo->currentText()));
  m_filling = false;
  m_userChoseAxes = true;
  replot();
}

QString SweepView::xColumn() const {
  return m_xCombo->currentText();
}

QString SweepView::yColumn() const {
  return m_yCombo->currentText();
}

void SweepView::setHigherIsBetter(bool x, bool y) {
  m_filling = true;
  m_xBetter->setChecked(x);
  m_yBetter->setChecked(y);
  m_filling = false;
  replot();
}

void SweepView::setColourBy(const QString &column) {
  const int i = m_colourCombo->findText(column);
  m_colourCombo->setCurrentIndex(i >= 0 ? i : 0);
}

void SweepView::setLogX(bool on) {
  m_logX->setChecked(on);
}

void SweepView::replot() {
  m_plot->clearGraphs();
  m_plot->clearItems();
  m_plotted.clear();
  m_frontier.clear();
  const QString xName = xColumn(), yName = yColumn();
  const bool logX = m_logX->isChecked();
  const QString colourBy = m_colourCombo->currentIndex() > 0 ? m_colourCombo->currentText() : QString();
  QVector<QPointF> points;
  std::map<QString, QVector<int>> groups; // colour value -> model rows, by value
  for (int r = 0; r < m_model->rowCount(); ++r) {
    const double x = m_model->number(r, xName), y = m_model->number(r, yName);
    if (!std::isfinite(x) || !std::isfinite(y) || (logX && x <= 0))
      continue;
    m_plotted << r;
    points << QPointF(x, y);
    groups[colourBy.isEmpty() ? QString() : m_model->text(r, colourBy)] << r;
  }
  for (const int i : paretoFrontier(points, m_xBetter->isChecked(), m_yBetter->isChecked()))
    m_frontier << m_plotted[i];

  if (m_frontier.size() > 1) { // under the points
    auto *line = m_plot->addGraph();
    line->setName(tr("Pareto frontier"));
    line->setPen(QPen(QColor(90, 90, 90), 1.5, Qt::DashLine));
    line->setLineStyle(QCPGraph::lsLine);
    for (const int r : m_frontier)
      line->addData(m_model->number(r, xName), m_model->number(r, yName));
  }
  int g = 0;
  for (const auto &[value, rows] : groups) {
    auto *graph = m_plot->addGraph();
    graph->setName(colourBy.isEmpty() ? tr("runs") : colourBy + QLatin1Char('=') + value);
    graph->setLineStyle(QCPGraph::lsNone);
    const QColor colour = categoricalColor(g++);
    graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, colour, colour, 9));
    for (const int r : rows)
      graph->addData(m_model->number(r, xName), m_model->number(r, yName));
  }
  if (!m_frontier.isEmpty()) { // rings around the frontier's points, their names beside them
    auto *rings = m_plot->addGraph();
    rings->setName(tr("on the frontier"));
    rings->setLineStyle(QCPGraph::lsNone);
    rings->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(Qt::black, 1.5), Qt::NoBrush, 15));
    for (const int r : m_frontier)
      rings->addData(m_model->number(r, xName), m_model->number(r, yName));
  }
  if (m_selectedRow >= 0 && m_plotted.contains(m_selectedRow)) {
    auto *selected = m_plot->addGraph();
    selected->setName(tr("selected"));
    selected->setLineStyle(QCPGraph::lsNone);
    selected->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(213, 94, 0), 2.5), Qt::NoBrush, 20));
    selected->addData(m_model->number(m_selectedRow, xName), m_model->number(m_selectedRow, yName));
  }

  m_plot->xAxis->setScaleType(logX ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  // A swept value (β, learning rate) has a few grid values: ticks at exactly those.
  QVector<double> gridValues;
  if (m_model->columnKind(m_model->columnOf(xName)) == SweepTableModel::ColumnKind::Value)
    for (const auto &p : points)
      if (!gridValues.contains(p.x()))
        gridValues << p.x();
  if (!gridValues.isEmpty() && gridValues.size() <= 12) {
    std::sort(gridValues.begin(), gridValues.end());
    QSharedPointer<QCPAxisTickerText> ticks(new QCPAxisTickerText);
    for (const double v : gridValues)
      ticks->addTick(v, QString::number(v, 'g', 4));
    m_plot->xAxis->setTicker(ticks);
  } else if (logX) {
    m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  } else {
    m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  }
  m_plot->xAxis->setLabel(axisLabel(xName, m_xBetter->isChecked()));
  m_plot->yAxis->setLabel(axisLabel(yName, m_yBetter->isChecked()));
  m_plot->rescaleAxes();
  // Room around the points (and for the labels): 8% a side, a factor on a log axis.
  const auto pad = [](QCPAxis *axis, bool log) {
    const QCPRange r = axis->range();
    if (log) {
      axis->setRange(r.lower / 1.4, r.upper * 1.4);
    } else {
      const double span = r.size() > 0 ? r.size() : std::max(1e-3, std::abs(r.center()) * 0.1);
      axis->setRange(r.lower - 0.08 * span, r.upper + 0.12 * span);
    }
  };
  pad(m_plot->xAxis, logX);
  pad(m_plot->yAxis, false);
  // The frontier's run names beside their points, on the side with room (known once the axes are).
  const double middle = m_plot->xAxis->range().center();
  for (const int r : m_frontier) {
    const double x = m_model->number(r, xName), y = m_model->number(r, yName);
    const bool right =
        logX ? x > std::sqrt(m_plot->xAxis->range().lower * m_plot->xAxis->range().upper) : x > middle;
    auto *label = new QCPItemText(m_plot);
    label->position->setCoords(x, y);
    label->setPositionAlignment((right ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignBottom);
    label->setPadding(right ? QMargins(0, 0, 8, 6) : QMargins(8, 0, 0, 6));
    label->setFont(QFont(font().family(), 8));
    label->setText(QString::fromStdString(m_model->sweepRow(r).name));
  }
  auto *title = qobject_cast<QCPTextElement *>(m_plot->plotLayout()->element(0, 0));
  const int finished = int(std::count_if(m_model->rows().begin(), m_model->rows().end(),
                                         [](const core::SweepRow &r) { return r.state == "finished"; }));
  const QString name = QDir(m_dir).dirName();
  if (title)
    title->setText(m_plotted.isEmpty() ? tr("%1: no run has both %2 and %3 yet").arg(name, xName, yName)
                                       : tr("%1: %2 of %3 runs plotted, %4 on the Pareto frontier")
                                             .arg(name)
                                             .arg(m_plotted.size())
                                             .arg(m_model->rowCount())
                                             .arg(m_frontier.size()));
  m_title->setText(m_dir.isEmpty() ? m_title->text()
                                   : tr("%1 — %2 of %3 runs finished")
                                         .arg(QDir::toNativeSeparators(m_dir))
                                         .arg(finished)
                                         .arg(m_model->rowCount()));
  m_plot->legend->setVisible(m_plot->graphCount() > 1);
  m_plot->replot();
}

QPoint SweepView::pixelOf(int row) const {
  const double x = m_model->number(row, xColumn()), y = m_model->number(row, yColumn());
  return QPoint(int(std::lround(m_plot->xAxis->coordToPixel(x))),
                int(std::lround(m_plot->yAxis->coordToPixel(y))));
}

int SweepView::rowAt(const QPoint &pos) const {
  int best = -1;
  double bestDistance = kHitRadius;
  for (const int r : m_plotted) {
    const double x = m_plot->xAxis->coordToPixel(m_model->number(r, xColumn()));
    const double y = m_plot->yAxis->coordToPixel(m_model->number(r, yColumn()));
    const double d = std::hypot(x - pos.x(), y - pos.y());
    if (d <= bestDistance) {
      bestDistance = d;
      best = r;
    }
  }
  return best;
}

void SweepView::showHover(QMouseEvent *event) {
  const int row = rowAt(event->pos());
  if (row < 0) {
    QToolTip::hideText();
    return;
  }
  const auto &r = m_model->sweepRow(row);
  QString text =
      QStringLiteral("<b>%1</b><br>%2: %3<br>%4: %5<br>state: %6")
          .arg(QString::fromStdString(r.name).toHtmlEscaped(), xColumn(), m_model->text(row, xColumn()),
               yColumn(), m_model->text(row, yColumn()), QString::fromStdString(r.state));
  if (m_frontier.contains(row))
    text += tr("<br>on the Pareto frontier");
  text += tr("<br><i>click to open the run</i>");
  QToolTip::showText(m_plot->mapToGlobal(event->pos()), text, m_plot);
}

void SweepView::selectRow(int row) {
  const QModelIndex index = m_sorted->mapFromSource(m_model->index(row, 0));
  m_table->selectionModel()->setCurrentIndex(index,
                                             QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  m_table->scrollTo(index);
}

bool SweepView::exportChart(const QString &path, QString *error) {
  return ChartExporter::exportPlot(m_plot, path, yColumn() + QStringLiteral(" vs ") + xColumn(), error);
}

bool SweepView::exportCsv(const QString &path, QString *error) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
    if (error)
      *error = tr("Cannot write %1: %2").arg(path, file.errorString());
    return false;
  }
  QTextStream out(&file);
  QStringList header;
  for (int c = 0; c < m_model->columnCount(); ++c)
    header << ChartExporter::csvField(m_model->columnName(c));
  out << header.join(QLatin1Char(',')) << ",dir\n";
  for (int sortedRow = 0; sortedRow < m_sorted->rowCount(); ++sortedRow) { // in the table's order
    const int r = m_sorted->mapToSource(m_sorted->index(sortedRow, 0)).row();
    QStringList fields;
    for (int c = 0; c < m_model->columnCount(); ++c) {
      const QString column = m_model->columnName(c);
      if (m_model->columnKind(c) == SweepTableModel::ColumnKind::Metric)
        fields << ChartExporter::csvNumber(m_model->number(r, column));
      else
        fields << ChartExporter::csvField(m_model->text(r, column));
    }
    out << fields.join(QLatin1Char(',')) << ','
        << ChartExporter::csvField(QString::fromStdString(m_model->sweepRow(r).dir)) << '\n';
  }
  out.flush();
  if (!file.commit()) {
    if (error)
      *error = tr("Cannot write %1: %2").arg(path, file.errorString());
    return false;
  }
  return true;
}

void SweepView::exportInteractively(const QString &suffix) {
  QString base = QDir(m_dir).dirName() + QLatin1Char('-') + yColumn() + QStringLiteral("-vs-") + xColumn();
  base.replace(QLatin1Char('/'), QLatin1Char('_'));
  const QString path = QFileDialog::getSaveFileName(this, tr("Export"), base + QLatin1Char('.') + suffix,
                                                    suffix.toUpper() + QStringLiteral(" (*.") + suffix + ')');
  if (path.isEmpty())
    return;
  QString error;
  const bool ok = suffix == QLatin1String("csv") ? exportCsv(path, &error) : exportChart(path, &error);
  if (ok)
    emit exported(path);
  else
    QMessageBox::warning(this, tr("Export failed"), error);
}

} // namespace preflab::ui
