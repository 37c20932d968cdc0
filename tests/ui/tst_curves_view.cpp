// Tests CurvesView/CurvesPlot: EMA debiasing numbers, default metric, throttled redraws, axes, outliers,
// exports.
#include "core/api/run_reader.h"
#include "tests/test_main.h"
#include "ui/curves/curves_plot.h"
#include "ui/curves/curves_view.h"
#include "ui/curves/ema_smoother.h"
#include "ui/runs/run_series_store.h"

#include <QAbstractItemModelTester>
#include <QFileInfo>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>

#include <cmath>

using namespace preflab::ui;

class TestCurvesView : public QObject {
  Q_OBJECT
private slots:
  void emaDebiased_data();
  void emaDebiased();
  void defaultMetricIsLoss();
  void modelsPassTester();
  void appendsAreCoalesced();
  void smoothingAndRawCurves();
  void hiddenRunHasNoCurve();
  void axisModesAndLogY();
  void ignoreOutliersClipsSpike();
  void tooltipNamesNearestPoint();
  void exportChartFormats_data();
  void exportChartFormats();
  void exportCsvRows();
  void exportErrorsNamePath();
  void goldLabelsAxis();
  void screenshot();

private:
  static void fill(RunSeriesStore &store, const QString &run, int n, double spikeAt = -1);
};

void TestCurvesView::fill(RunSeriesStore &store, const QString &run, int n, double spikeAt) {
  store.setRunLabel(run, run.section('/', -1));
  for (int i = 0; i < n; ++i) {
    const double loss = i == spikeAt ? 1000.0 : 0.7 * std::exp(-i / 50.0) + 0.05;
    store.appendRecord(run, (i + 1) * 5, 1.7e9 + i * 2.0,
                       {{"loss", loss}, {"grad_norm", 1.0 + (i % 7) * 0.1}});
  }
}

void TestCurvesView::emaDebiased_data() {
  QTest::addColumn<QVector<double>>("values");
  QTest::addColumn<double>("weight");
  QTest::addColumn<QVector<double>>("expected");
  // By hand: b_t = w·b_{t-1} + (1-w)·y_t, b_0 = 0, smoothed = b_t / (1 - w^t).
  QTest::newRow("w=0.5") << QVector<double>{1, 2, 3, 4} << 0.5
                         << QVector<double>{1.0, 1.25 / 0.75, 2.125 / 0.875, 3.0625 / 0.9375};
  QTest::newRow("w=0.9, first value unbiased")
      << QVector<double>{10, 0} << 0.9 << QVector<double>{10.0, 0.9 / 0.19};
  QTest::newRow("w=0 is raw") << QVector<double>{3, -1, 2} << 0.0 << QVector<double>{3, -1, 2};
  QTest::newRow("NaN passes through, state untouched")
      << QVector<double>{1, qQNaN(), 3} << 0.5 << QVector<double>{1.0, qQNaN(), 1.75 / 0.75};
}

void TestCurvesView::emaDebiased() {
  QFETCH(QVector<double>, values);
  QFETCH(double, weight);
  QFETCH(QVector<double>, expected);
  const QVector<double> got = EmaSmoother::smooth(values, weight);
  QCOMPARE(got.size(), expected.size());
  for (int i = 0; i < got.size(); ++i) {
    if (std::isnan(expected[i])) {
      QVERIFY(std::isnan(got[i]));
      continue;
    }
    QVERIFY2(std::abs(got[i] - expected[i]) < 1e-12,
             qPrintable(QString("index %1: %2 vs %3").arg(i).arg(got[i], 0, 'g', 17).arg(expected[i])));
  }
}

void TestCurvesView::defaultMetricIsLoss() {
  RunSeriesStore store;
  CurvesView view(&store);
  QVERIFY(view.metric().isEmpty());
  store.appendRecord("r", 1, 1, {{"grad_norm", 1}});
  QCOMPARE(view.metric(), QString("grad_norm")); // no loss yet: the first metric
  store.appendRecord("r", 2, 2, {{"loss", 0.6}, {"eval/loss", 0.5}});
  QCOMPARE(view.metric(), QString("loss"));
  view.setMetric("eval/loss");
  store.appendRecord("r", 3, 3, {{"zzz", 1}});
  QCOMPARE(view.metric(), QString("eval/loss")); // the user's choice sticks
}

void TestCurvesView::modelsPassTester() {
  RunSeriesStore store;
  CurvesView view(&store);
  QAbstractItemModelTester metricTester(view.metricModel(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
  QAbstractItemModelTester runTester(view.runModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
  fill(store, "/runs/a", 20);
  fill(store, "/runs/b", 20);
  QCOMPARE(view.runModel()->rowCount(), 2);
  QCOMPARE(view.metricModel()->rowCount(), 2);
  view.setRunVisible("/runs/a", false);
  QVERIFY(!view.isRunVisible("/runs/a"));
  store.removeRun("/runs/b");
  QCOMPARE(view.runModel()->rowCount(), 1);
}

void TestCurvesView::appendsAreCoalesced() {
  RunSeriesStore store;
  CurvesView view(&store);
  view.resize(900, 600);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  QSignalSpy replots(view.plot(), &QCustomPlot::afterReplot);
  const int before = replots.count();
  fill(store, "/runs/a", 2000);
  QCOMPARE(replots.count(), before); // nothing drawn synchronously per record
  QTRY_VERIFY(!view.plot()->curves().isEmpty() && view.plot()->curves().first().raw->dataCount() == 2000);
  QTRY_VERIFY(replots.count() > before);
  QVERIFY2(replots.count() - before <= 3, qPrintable(QString("%1 replots").arg(replots.count() - before)));
  // A later append extends the graph incrementally.
  store.appendRecord("/runs/a", 99999, 1.8e9, {{"loss", 0.01}});
  QTRY_COMPARE(view.plot()->curves().first().raw->dataCount(), 2001);
}

void TestCurvesView::smoothingAndRawCurves() {
  RunSeriesStore store;
  fill(store, "/runs/a", 10);
  CurvesView view(&store);
  view.setSmoothing(0.5);
  view.updateNow();
  const CurvesPlot::Curve &c = view.plot()->curves().first();
  QVERIFY(c.raw->visible());
  const QVector<double> expected = EmaSmoother::smooth(store.values("/runs/a", "loss"), 0.5);
  for (int i = 0; i < 10; ++i)
    QCOMPARE(c.smoothed->data()->at(i)->value, expected[i]);
  QCOMPARE(c.raw->pen().color().alpha() < c.smoothed->pen().color().alpha(), true);
  QCOMPARE(c.smoothed->name(), QString("a"));
  view.setSmoothing(0.0);
  view.updateNow();
  QVERIFY(!view.plot()->curves().first().raw->visible()); // nothing faint to show behind
  QCOMPARE(view.smoothing(), 0.0);
}

void TestCurvesView::hiddenRunHasNoCurve() {
  RunSeriesStore store;
  fill(store, "/runs/a", 5);
  fill(store, "/runs/b", 5);
  CurvesView view(&store);
  view.setMetrics({"grad_norm", "loss"});
  view.updateNow();
  QCOMPARE(view.plot()->curves().size(), 4);
  QCOMPARE(view.plot()->legend->itemCount(), 4); // smoothed graphs only
  QCOMPARE(view.plot()->curves().first().smoothed->name(), QString("a · grad_norm"));
  view.setRunVisible("/runs/b", false);
  view.updateNow();
  QCOMPARE(view.plot()->curves().size(), 2);
  for (const auto &c : view.plot()->curves())
    QCOMPARE(c.runId, QString("/runs/a"));
}

void TestCurvesView::axisModesAndLogY() {
  RunSeriesStore store;
  fill(store, "/runs/a", 5);
  CurvesView view(&store);
  view.updateNow();
  QCustomPlot *plot = view.plot();
  QCOMPARE(plot->xAxis->label(), QString("step"));
  QCOMPARE(plot->yAxis->label(), QString("loss"));
  QCOMPARE(view.plot()->curves().first().raw->data()->at(0)->key, 5.0);
  view.setXAxisMode(XAxisMode::RelativeTime);
  view.updateNow();
  QCOMPARE(view.xAxisMode(), XAxisMode::RelativeTime);
  QVERIFY(plot->xAxis->ticker().dynamicCast<QCPAxisTickerTime>());
  QCOMPARE(view.plot()->curves().first().raw->data()->at(1)->key, 2.0);
  view.setXAxisMode(XAxisMode::WallTime);
  view.updateNow();
  QVERIFY(plot->xAxis->ticker().dynamicCast<QCPAxisTickerDateTime>());
  QCOMPARE(view.plot()->curves().first().raw->data()->at(0)->key, 1.7e9);
  view.setLogY(true);
  view.updateNow();
  QVERIFY(view.logY());
  QCOMPARE(plot->yAxis->scaleType(), QCPAxis::stLogarithmic);
  QVERIFY(plot->yAxis->range().lower > 0);
}

void TestCurvesView::ignoreOutliersClipsSpike() {
  RunSeriesStore store;
  fill(store, "/runs/a", 300, /*spikeAt=*/150);
  CurvesView view(&store);
  view.updateNow();
  QVERIFY(view.plot()->yAxis->range().upper > 999);
  view.setIgnoreOutliers(true);
  view.updateNow();
  QVERIFY(view.ignoreOutliers());
  QVERIFY2(view.plot()->yAxis->range().upper < 2,
           qPrintable(QString::number(view.plot()->yAxis->range().upper)));
  QVERIFY(view.plot()->yAxis->range().lower > 0.0 && view.plot()->yAxis->range().lower < 0.1);
}

void TestCurvesView::tooltipNamesNearestPoint() {
  RunSeriesStore store;
  fill(store, "/runs/a", 40);
  CurvesView view(&store);
  view.resize(900, 600);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  view.setSmoothing(0.0);
  view.updateNow();
  QCustomPlot *plot = view.plot();
  QVERIFY(plot->width() > 400);
  const int i = 20;
  const double x = store.steps("/runs/a", "loss")[i];
  const double y = store.values("/runs/a", "loss")[i];
  const QPointF pixel(plot->xAxis->coordToPixel(x) + 1, plot->yAxis->coordToPixel(y) - 1);
  const QString text = view.plot()->tooltipTextAt(pixel);
  QVERIFY2(text.contains(QString("step %1").arg(x)), qPrintable(text));
  QVERIFY2(text.contains(QString::number(y, 'g', 8)), qPrintable(text));
  QVERIFY(text.contains("loss") && text.contains("smoothed"));
  QVERIFY(view.plot()->tooltipTextAt(QPointF(-500, -500)).isEmpty());
}

void TestCurvesView::exportChartFormats_data() {
  QTest::addColumn<QString>("suffix");
  QTest::newRow("png") << "png";
  QTest::newRow("pdf") << "pdf";
  QTest::newRow("svg") << "svg";
}

void TestCurvesView::exportChartFormats() {
  QFETCH(QString, suffix);
  QTemporaryDir dir;
  RunSeriesStore store;
  fill(store, "/runs/a", 200);
  fill(store, "/runs/b", 150);
  CurvesView view(&store);
  const QString path = dir.filePath("chart." + suffix);
  QString error;
  QVERIFY2(view.exportChart(path, &error), qPrintable(error));
  QFile file(path);
  QVERIFY(file.open(QIODevice::ReadOnly));
  const QByteArray bytes = file.readAll();
  if (suffix == "png") {
    QImage image;
    QVERIFY(image.loadFromData(bytes, "PNG"));
    QVERIFY2(image.width() >= 600 && image.height() >= 400,
             qPrintable(QString("%1x%2").arg(image.width()).arg(image.height())));
    // Not blank: the curves put more than a handful of distinct colours on it.
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 7)
      for (int x = 0; x < image.width(); x += 7)
        colours.insert(image.pixel(x, y));
    QVERIFY(colours.size() > 10);
  } else if (suffix == "pdf") {
    QVERIFY(bytes.startsWith("%PDF"));
    QVERIFY(bytes.size() > 1024);
  } else {
    QXmlStreamReader xml(bytes);
    bool sawSvg = false;
    int textElements = 0;
    while (!xml.atEnd()) {
      xml.readNext();
      if (xml.isStartElement() && xml.name() == QLatin1String("svg"))
        sawSvg = true;
      if (xml.isStartElement() && xml.name() == QLatin1String("text"))
        ++textElements;
    }
    QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
    QVERIFY(sawSvg);
    QVERIFY(textElements > 5); // tick labels, axis labels, legend
    QVERIFY(bytes.contains(">loss<") || bytes.contains("loss"));
  }
}

void TestCurvesView::exportCsvRows() {
  QTemporaryDir dir;
  RunSeriesStore store;
  fill(store, "/runs/a", 30);
  fill(store, "/runs/b", 12);
  fill(store, "/runs/c", 7);
  CurvesView view(&store);
  view.setRunVisible("/runs/c", false);
  view.setSmoothing(0.5);
  const QString path = dir.filePath("shown.csv");
  QString error;
  QVERIFY2(view.exportCsv(path, &error), qPrintable(error));
  QFile file(path);
  QVERIFY(file.open(QIODevice::ReadOnly | QIODevice::Text));
  const QStringList lines = QString::fromUtf8(file.readAll()).split('\n', Qt::SkipEmptyParts);
  QCOMPARE(lines.first(), QString("run,metric,step,value,smoothed"));
  QCOMPARE(lines.size(), 1 + 30 + 12);
  const QStringList second = lines[2].split(',');
  QCOMPARE(second[0], QString("a"));
  QCOMPARE(second[1], QString("loss"));
  QCOMPARE(second[2].toDouble(), 10.0);
  const QVector<double> smooth = EmaSmoother::smooth(store.values("/runs/a", "loss"), 0.5);
  QCOMPARE(second[4].toDouble(), smooth[1]);
}

void TestCurvesView::exportErrorsNamePath() {
  RunSeriesStore store;
  fill(store, "/runs/a", 5);
  CurvesView view(&store);
  QTemporaryDir dir;
  QString error;
  QVERIFY(!view.exportChart(dir.filePath("chart.bmp"), &error));
  QVERIFY2(error.contains("chart.bmp"), qPrintable(error));
  const QString missing = dir.filePath("no/such/folder/chart.png");
  QVERIFY(!view.exportChart(missing, &error));
  QVERIFY2(error.contains(missing), qPrintable(error));
  QVERIFY(!view.exportCsv(dir.filePath("no/such/x.csv"), &error));
  QVERIFY2(error.contains("x.csv"), qPrintable(error));
}

// An online run's curves against the gold labels it spent: points sit at the count logged at their step.
void TestCurvesView::goldLabelsAxis() {
  RunSeriesStore store;
  for (int step = 1; step <= 4; ++step)
    store.appendRecord("/runs/d2po", step, 1.7e9 + step,
                       {{"loss", 0.7 - 0.01 * step}, {"d2po/gold_labels", 8.0 * step}});
  store.appendRecord("/runs/d2po", 4, 1.7e9 + 4, {{"eval/reward", 0.6}});
  fill(store, "/runs/offline", 4); // no gold labels: nothing on this axis
  CurvesView view(&store);
  view.setXAxisMode(XAxisMode::GoldLabels);
  view.updateNow();
  QCOMPARE(view.plot()->xAxis->label(), QString("gold labels used"));
  int drawn = 0;
  for (const auto &c : view.plot()->curves()) {
    if (c.runId == QLatin1String("/runs/offline")) {
      QCOMPARE(c.raw->data()->size(), 0);
      continue;
    }
    ++drawn;
    QCOMPARE(c.raw->data()->size(), 4);
    QCOMPARE(c.raw->data()->at(2)->key, 24.0);
  }
  QCOMPARE(drawn, 1);
  view.setMetric("eval/reward");
  view.updateNow();
  QCOMPARE(view.plot()->curves().first().raw->data()->at(0)->key, 32.0);
  // Appending keeps the lookup right (the curve is refilled).
  store.appendRecord("/runs/d2po", 5, 1.7e9 + 5, {{"loss", 0.6}, {"d2po/gold_labels", 40.0}});
  view.setMetric("loss");
  view.updateNow();
  QCOMPARE(view.plot()->curves().first().raw->data()->at(4)->key, 40.0);
}

// Screenshot driver, off by default: PREFLAB_CURVES_SCREENSHOT=out.png PREFLAB_CURVES_RUN=<run
// folder>[,<run folder>...] [PREFLAB_CURVES_METRICS=a,b] [PREFLAB_CURVES_X=gold|step].
void TestCurvesView::screenshot() {
  const QString out = qEnvironmentVariable("PREFLAB_CURVES_SCREENSHOT");
  if (out.isEmpty())
    QSKIP("set PREFLAB_CURVES_SCREENSHOT=<png> and PREFLAB_CURVES_RUN=<run folders>");
  RunSeriesStore store;
  for (const QString &run : qEnvironmentVariable("PREFLAB_CURVES_RUN").split(',', Qt::SkipEmptyParts)) {
    const preflab::core::RunReader reader(run.toStdString());
    for (const auto &line : reader.metrics()) {
      QHash<QString, double> values;
      for (const auto &[key, value] : line.items())
        if (value.is_number() && key != "step" && key != "time")
          values.insert(QString::fromStdString(key), value.get<double>());
      store.appendRecord(run, line.value("step", 0.0), line.value("time", 0.0), values);
    }
    store.setRunLabel(run, QFileInfo(run).fileName());
  }
  CurvesView view(&store);
  view.resize(1100, 620);
  const QStringList metrics = qEnvironmentVariable("PREFLAB_CURVES_METRICS", "loss").split(',');
  view.setMetrics(metrics);
  if (qEnvironmentVariable("PREFLAB_CURVES_X") == QLatin1String("gold"))
    view.setXAxisMode(XAxisMode::GoldLabels);
  view.show();
  view.updateNow();
  QTest::qWait(300);
  QVERIFY(view.grab().save(out));
}

PREFLAB_TEST_MAIN(TestCurvesView)
#include "tst_curves_view.moc"
