// Tests RunSeriesStore and MetricSeries: bounded series that keep their shape, labels, metric names, x modes.
#include "tests/test_main.h"
#include "ui/runs/metric_series.h"
#include "ui/runs/run_series_store.h"

#include <QSignalSpy>
#include <QTest>

#include <cmath>

using namespace preflab::ui;

class TestRunSeriesStore : public QObject {
  Q_OBJECT
private slots:
  void capHolds_data();
  void capHolds();
  void thinningKeepsShape();
  void labelsAndRunOrder();
  void metricNamesAreSortedUnion();
  void xModes();
  void clearAndRemove();
  void nonFiniteValuesBecomeGaps();
  void lowerCapThinsExisting();
};

void TestRunSeriesStore::capHolds_data() {
  QTest::addColumn<int>("cap");
  QTest::addColumn<int>("appended");
  QTest::newRow("under the cap") << 100 << 60;
  QTest::newRow("exactly the cap") << 100 << 100;
  QTest::newRow("one over") << 100 << 101;
  QTest::newRow("ten times over") << 100 << 1000;
  QTest::newRow("odd cap, far over") << 37 << 12345;
}

void TestRunSeriesStore::capHolds() {
  QFETCH(int, cap);
  QFETCH(int, appended);
  RunSeriesStore store;
  store.setMaxPointsPerSeries(cap);
  for (int i = 0; i < appended; ++i)
    store.appendRecord("r", i, 1000.0 + i, {{"loss", double(i)}});
  const int n = store.pointCount("r", "loss");
  QVERIFY2(n <= cap, qPrintable(QString("%1 points kept, cap %2").arg(n).arg(cap)));
  QVERIFY2(n >= std::min(appended, cap / 2 - 1), qPrintable(QString("only %1 points kept").arg(n)));
  const QVector<double> &steps = store.steps("r", "loss");
  QCOMPARE(steps.first(), 0.0);
  QVERIFY(std::is_sorted(steps.cbegin(), steps.cend()));
  // x and y stay paired: value == step here.
  for (int i = 0; i < n; ++i)
    QCOMPARE(store.values("r", "loss")[i], steps[i]);
}

void TestRunSeriesStore::thinningKeepsShape() {
  MetricSeries series(64);
  for (int i = 0; i < 1000; ++i)
    series.append(i, i, std::sin(i / 100.0));
  QVERIFY(series.size() <= 64);
  QVERIFY(series.stride() > 1);
  // Evenly spaced: consecutive kept steps differ by the stride.
  for (int i = 1; i < series.size(); ++i)
    QCOMPARE(series.steps()[i] - series.steps()[i - 1], double(series.stride()));
  // Covers the whole run, not just its end (no ring buffer): starts at 0, ends near 999.
  QCOMPARE(series.steps().first(), 0.0);
  QVERIFY(series.steps().last() > 999 - series.stride());
  const std::uint64_t before = series.revision();
  for (int i = 1000; i < 3000; ++i)
    series.append(i, i, 0);
  QVERIFY(series.revision() > before);
}

void TestRunSeriesStore::labelsAndRunOrder() {
  RunSeriesStore store;
  QSignalSpy runsChanged(&store, &RunSeriesStore::runsChanged);
  QString labelSeenBySlot;
  connect(&store, &RunSeriesStore::runsChanged, this, [&] { labelSeenBySlot = store.runLabel("/runs/c"); });
  store.setRunLabel("/runs/c", "gamma");
  QCOMPARE(labelSeenBySlot, QString("gamma")); // a new run's label is set before the signal
  QCOMPARE(runsChanged.count(), 1);
  store.removeRun("/runs/c");
  runsChanged.clear();
  store.appendRecord("/runs/b", 1, 10, {{"loss", 1}});
  store.setRunLabel("/runs/a", "alpha");
  QCOMPARE(store.runIds(), (QStringList{"/runs/b", "/runs/a"}));
  QCOMPARE(store.runLabel("/runs/a"), QString("alpha"));
  QCOMPARE(store.runLabel("/runs/b"), QString("/runs/b")); // falls back to the id
  const int before = runsChanged.count();
  store.setRunLabel("/runs/b", "beta");
  QCOMPARE(runsChanged.count(), before + 1);
  QCOMPARE(store.runLabel("/runs/b"), QString("beta"));
  store.setRunLabel("/runs/b", "beta"); // unchanged: no signal
  QCOMPARE(runsChanged.count(), before + 1);
}

void TestRunSeriesStore::metricNamesAreSortedUnion() {
  RunSeriesStore store;
  QSignalSpy namesChanged(&store, &RunSeriesStore::metricNamesChanged);
  QSignalSpy appended(&store, &RunSeriesStore::seriesAppended);
  store.appendRecord("a", 1, 1, {{"loss", 0.7}, {"rewards/margins", 0.1}});
  store.appendRecord("b", 1, 1, {{"loss", 0.6}, {"eval/loss", 0.5}, {"grad_norm", 2}});
  QCOMPARE(store.metricNames(), (QStringList{"eval/loss", "grad_norm", "loss", "rewards/margins"}));
  QCOMPARE(store.metricNames("a"), (QStringList{"loss", "rewards/margins"}));
  QCOMPARE(namesChanged.count(), 2);
  QCOMPARE(appended.count(), 2);
  QCOMPARE(appended.at(1).at(0).toString(), QString("b"));
  store.appendRecord("a", 2, 2, {{"loss", 0.6}});
  QCOMPARE(namesChanged.count(), 2); // nothing new
  store.removeRun("b");
  QCOMPARE(store.metricNames(), (QStringList{"loss", "rewards/margins"}));
  QCOMPARE(namesChanged.count(), 3);
}

void TestRunSeriesStore::xModes() {
  RunSeriesStore store;
  store.appendRecord("r", 5, 1000.5, {{"loss", 1}});
  store.appendRecord("r", 10, 1002.0, {{"loss", 2}, {"eval/loss", 3}});
  QCOMPARE(store.xValues("r", "loss", XAxisMode::Step), (QVector<double>{5, 10}));
  QCOMPARE(store.xValues("r", "loss", XAxisMode::WallTime), (QVector<double>{1000.5, 1002.0}));
  QCOMPARE(store.xValues("r", "loss", XAxisMode::RelativeTime), (QVector<double>{0.0, 1.5}));
  // Relative to the run's first record, not to the metric's first point.
  QCOMPARE(store.xValues("r", "eval/loss", XAxisMode::RelativeTime), (QVector<double>{1.5}));
  QVERIFY(store.xValues("r", "missing", XAxisMode::Step).isEmpty());
  QVERIFY(store.values("nope", "loss").isEmpty());
  // No gold labels logged: no points on that axis.
  QVERIFY(store.xValues("r", "loss", XAxisMode::GoldLabels).isEmpty());
  // An online run: each point at the gold labels logged by its step (eval lines share the step of
  // a training line; a point before the first gold count takes the first).
  store.appendRecord("g", 1, 1, {{"loss", 0.7}, {"d2po/gold_labels", 8}});
  store.appendRecord("g", 2, 2, {{"loss", 0.6}, {"d2po/gold_labels", 16}});
  store.appendRecord("g", 2, 2, {{"eval/reward", 0.55}});
  store.appendRecord("g", 3, 3, {{"loss", 0.5}, {"d2po/gold_labels", 16}});
  store.appendRecord("g", 3.5, 3, {{"eval/reward", 0.6}});
  QCOMPARE(store.xValues("g", "loss", XAxisMode::GoldLabels), (QVector<double>{8, 16, 16}));
  QCOMPARE(store.xValues("g", "eval/reward", XAxisMode::GoldLabels), (QVector<double>{16, 16}));
  store.appendRecord("h", 0, 1, {{"eval/reward", 0.5}});
  store.appendRecord("h", 1, 1, {{"d2po/gold_labels", 4}});
  QCOMPARE(store.xValues("h", "eval/reward", XAxisMode::GoldLabels), (QVector<double>{4}));
}

void TestRunSeriesStore::clearAndRemove() {
  RunSeriesStore store;
  store.appendRecord("r", 1, 100, {{"loss", 1}});
  const auto revision = store.revision("r", "loss");
  store.clearRun("r");
  QVERIFY(store.hasRun("r"));
  QCOMPARE(store.pointCount("r", "loss"), 0);
  QVERIFY(store.revision("r", "loss") != revision);
  store.appendRecord("r", 1, 200, {{"loss", 1}});
  QCOMPARE(store.firstWallTime("r"), 200.0); // the origin restarts with the reloaded file
  store.removeRun("r");
  QVERIFY(!store.hasRun("r"));
  QVERIFY(store.runIds().isEmpty());
}

void TestRunSeriesStore::nonFiniteValuesBecomeGaps() {
  RunSeriesStore store;
  store.appendRecord("r", 1, 1, {{"loss", std::numeric_limits<double>::infinity()}});
  QCOMPARE(store.pointCount("r", "loss"), 1);
  QVERIFY(std::isnan(store.values("r", "loss").first()));
}

void TestRunSeriesStore::lowerCapThinsExisting() {
  RunSeriesStore store;
  for (int i = 0; i < 500; ++i)
    store.appendRecord("r", i, i, {{"loss", double(i)}});
  QCOMPARE(store.pointCount("r", "loss"), 500);
  store.setMaxPointsPerSeries(100);
  QVERIFY(store.pointCount("r", "loss") <= 100);
  QCOMPARE(store.maxPointsPerSeries(), 100);
  QCOMPARE(RunSeriesStore::kDefaultMaxPointsPerSeries, 1000000);
}

PREFLAB_TEST_MAIN(TestRunSeriesStore)
#include "tst_run_series_store.moc"
