// Tests the Sweep view: the Pareto frontier against a brute-force definition, the table's columns
// and numeric sorting, default axes, hover and click on points, live refresh and exports.
#include "core/api/sweeps.h"
#include "core/train/sweep_spec.h"
#include "ui/sweep/pareto.h"
#include "ui/sweep/sweep_table_model.h"
#include "ui/sweep/sweep_view.h"

#include "tests/test_main.h"

#include <qcustomplot.h>

#include <QSortFilterProxyModel>
#include <QTableView>

#include <QtTest/QtTest>

#include <cmath>
#include <random>

using namespace preflab::ui;

namespace {

// The definition: no other point is at least as good on both axes and better on one.
QVector<int> bruteForceFrontier(const QVector<QPointF> &p, bool maxX, bool maxY) {
  const auto better = [](double a, double b, bool max) { return max ? a > b : a < b; };
  QVector<int> out;
  for (int i = 0; i < p.size(); ++i) {
    if (!std::isfinite(p[i].x()) || !std::isfinite(p[i].y()))
      continue;
    bool dominated = false;
    for (int j = 0; j < p.size() && !dominated; ++j) {
      if (j == i || !std::isfinite(p[j].x()) || !std::isfinite(p[j].y()))
        continue;
      const bool geX = !better(p[i].x(), p[j].x(), maxX), geY = !better(p[i].y(), p[j].y(), maxY);
      const bool strict = better(p[j].x(), p[i].x(), maxX) || better(p[j].y(), p[i].y(), maxY);
      dominated = geX && geY && strict;
    }
    if (!dominated)
      out << i;
  }
  return out;
}

void writeFile(const QString &path, const QByteArray &text) {
  QDir().mkpath(QFileInfo(path).path());
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(text);
}

// A finished point of a β × loss_type sweep with the embedded task's final numbers.
void writePoint(const QString &root, const QString &name, double beta, const char *loss, double kl,
                double reward) {
  const QString dir = root + QLatin1Char('/') + name;
  writeFile(dir + "/config.yaml", QStringLiteral("loss_type: %1\nbeta: %2\n").arg(loss).arg(beta).toUtf8());
  writeFile(dir + "/status.json", "{\"state\": \"finished\", \"step\": 10, \"max_steps\": 10}");
  writeFile(dir + "/metrics.jsonl",
            QStringLiteral("{\"step\": 10, \"loss\": 0.5, \"beta\": %1}\n").arg(beta).toUtf8());
  writeFile(dir + "/eval/summary.json",
            QStringLiteral("{\"eval/kl\": %1, \"eval/reward\": %2, \"eval/win_rate\": %3}")
                .arg(kl)
                .arg(reward)
                .arg(reward - 0.1)
                .toUtf8());
}

struct Point {
  const char *name;
  double beta;
  const char *loss;
  double kl, reward;
};
// dpo 0.1 and ipo 1 are dominated; the frontier (low KL, high reward) is dpo 1, dpo 0.3, ipo 0.03.
const Point kPoints[] = {{"beta=0.03,loss_type=ipo", 0.03, "ipo", 60.0, 0.90},
                         {"beta=0.1,loss_type=dpo", 0.1, "dpo", 15.0, 0.70},
                         {"beta=0.3,loss_type=dpo", 0.3, "dpo", 8.0, 0.80},
                         {"beta=1,loss_type=dpo", 1.0, "dpo", 2.0, 0.75},
                         {"beta=1,loss_type=ipo", 1.0, "ipo", 10.0, 0.60}};

// A sweep folder as `preflab-cli sweep` leaves it, one point still queued.
QString writeSweep(const QTemporaryDir &tmp) {
  const QString root = tmp.filePath("sweep");
  preflab::core::SweepSpec spec;
  spec.base = tmp.filePath("dpo.yaml").toStdString();
  spec.outputDir = root.toStdString();
  for (const auto &p : kPoints)
    spec.points.push_back({p.name, {{"beta", QString::number(p.beta).toStdString()}, {"loss_type", p.loss}}});
  spec.points.push_back({"beta=3,loss_type=dpo", {{"beta", "3"}, {"loss_type", "dpo"}}});
  preflab::core::writeSweepPlan(spec, {});
  for (const auto &p : kPoints)
    writePoint(root, p.name, p.beta, p.loss, p.kl, p.reward);
  return root;
}

QStringList rowNames(const SweepView &view, const QVector<int> &rows) {
  QStringList out;
  for (const int r : rows)
    out << QString::fromStdString(view.model()->sweepRow(r).name);
  return out;
}

} // namespace

namespace preflab_tests {

class TestSweepView : public QObject {
  Q_OBJECT

private slots:
  void frontierMatchesTheDefinition() {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> coord(0, 9); // a coarse grid: many ties and equal points
    for (int trial = 0; trial < 200; ++trial) {
      QVector<QPointF> points;
      const int n = 1 + trial % 25;
      for (int i = 0; i < n; ++i)
        points << QPointF(coord(rng), coord(rng));
      if (trial % 7 == 0)
        points << QPointF(NAN, 3) << QPointF(2, INFINITY);
      for (const bool maxX : {false, true})
        for (const bool maxY : {false, true}) {
          auto expected = bruteForceFrontier(points, maxX, maxY);
          auto got = paretoFrontier(points, maxX, maxY);
          for (int k = 1; k < got.size(); ++k) // ascending x
            QVERIFY(points[got[k - 1]].x() <= points[got[k]].x());
          std::sort(expected.begin(), expected.end());
          std::sort(got.begin(), got.end());
          QCOMPARE(got, expected);
        }
    }
    QVERIFY(paretoFrontier({}, true, true).isEmpty());
  }

  void tableHasValuesAndMetricsAndSortsNumbers() {
    QTemporaryDir tmp;
    SweepView view;
    QString error;
    QVERIFY2(view.openSweep(writeSweep(tmp), &error), qPrintable(error));
    auto *model = view.model();
    QCOMPARE(model->rowCount(), 6);
    QCOMPARE(model->columnName(0), QStringLiteral("run"));
    QCOMPARE(model->columnName(1), QStringLiteral("state"));
    QVERIFY(model->columnOf("beta") > 1 && model->columnOf("loss_type") > 1);
    QVERIFY(model->columnOf("eval/win_rate") < model->columnOf("loss")); // headline metrics first
    QVERIFY(model->numericColumns().contains("beta"));
    QCOMPARE(model->categoricalColumns(), QStringList{"loss_type"});
    QCOMPARE(model->groupingColumns(), (QStringList{"loss_type", "beta"})); // 4 β values: a grouping too
    int betaColumns = 0; // the runs log beta as a metric too: still one column
    for (int c = 0; c < model->columnCount(); ++c)
      betaColumns += model->columnName(c) == QLatin1String("beta");
    QCOMPARE(betaColumns, 1);
    QCOMPARE(model->sweepRow(5).state, std::string("queued"));
    // Sorting by eval/kl is numeric (2 < 8 < 10 < 15 < 60), the queued row without one below all.
    view.table()->sortByColumn(model->columnOf("eval/kl"), Qt::AscendingOrder);
    auto *sorted = view.table()->model();
    QStringList kl;
    for (int r = 0; r < sorted->rowCount(); ++r)
      kl << sorted->index(r, model->columnOf("eval/kl")).data().toString();
    QCOMPARE(kl, (QStringList{"–", "2", "8", "10", "15", "60"}));
  }

  void defaultAxesAreRewardAgainstKlWithItsFrontier() {
    QTemporaryDir tmp;
    SweepView view;
    QVERIFY(view.openSweep(writeSweep(tmp)));
    QCOMPARE(view.xColumn(), QStringLiteral("eval/kl"));
    QCOMPARE(view.yColumn(), QStringLiteral("eval/reward"));
    QCOMPARE(view.plottedRows().size(), 5); // not the queued point
    QCOMPARE(rowNames(view, view.frontierRows()),
             (QStringList{"beta=1,loss_type=dpo", "beta=0.3,loss_type=dpo", "beta=0.03,loss_type=ipo"}));
    // Win rate against β, both maximised: the frontier is the best win rate at the largest β.
    view.setAxes("beta", "eval/win_rate");
    view.setHigherIsBetter(true, true);
    QCOMPARE(rowNames(view, view.frontierRows()),
             (QStringList{"beta=0.03,loss_type=ipo", "beta=0.3,loss_type=dpo", "beta=1,loss_type=dpo"}));
  }

  void hoverAndClickFindTheRun() {
    QTemporaryDir tmp;
    SweepView view;
    view.resize(1000, 700);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QVERIFY(view.openSweep(writeSweep(tmp)));
    view.plot()->replot(QCustomPlot::rpImmediateRefresh);
    const int target = view.frontierRows().at(1);
    const QPoint at = view.pixelOf(target);
    QCOMPARE(view.rowAt(at), target);
    QCOMPARE(view.rowAt(at + QPoint(3, -2)), target);
    QCOMPARE(view.rowAt(QPoint(2, 2)), -1); // a corner, far from every point
    QSignalSpy opened(&view, &SweepView::runActivated);
    QTest::mouseClick(view.plot(), Qt::LeftButton, {}, at);
    QCOMPARE(opened.count(), 1);
    QCOMPARE(opened.at(0).at(0).toString(), QString::fromStdString(view.model()->sweepRow(target).dir));
    // The clicked run is the table's current row.
    const auto current = view.table()->currentIndex();
    QCOMPARE(current.siblingAtColumn(0).data().toString(),
             QString::fromStdString(view.model()->sweepRow(target).name));
  }

  void refreshesAsPointsFinish() {
    QTemporaryDir tmp;
    const QString root = writeSweep(tmp);
    SweepView view;
    QVERIFY(view.openSweep(root));
    QCOMPARE(view.plottedRows().size(), 5);
    // The queued point finishes with the best reward at the least KL: alone on the frontier.
    writePoint(root, "beta=3,loss_type=dpo", 3, "dpo", 1.0, 0.95);
    QTRY_COMPARE_WITH_TIMEOUT(view.plottedRows().size(), 6, 5000); // the view's own poll
    QCOMPARE(rowNames(view, view.frontierRows()), QStringList{"beta=3,loss_type=dpo"});
    QCOMPARE(view.model()->sweepRow(5).state, std::string("finished"));
  }

  void exportsChartAndTable() {
    QTemporaryDir tmp;
    SweepView view;
    view.resize(900, 600);
    QVERIFY(view.openSweep(writeSweep(tmp)));
    for (const char *suffix : {"png", "pdf", "svg"}) {
      const QString path = tmp.filePath(QStringLiteral("sweep.") + suffix);
      QString error;
      QVERIFY2(view.exportChart(path, &error), qPrintable(error));
      QVERIFY(QFileInfo(path).size() > 1000);
    }
    QString error;
    QVERIFY(!view.exportChart(tmp.filePath("sweep.bmp"), &error));
    QVERIFY(error.contains("sweep.bmp"));
    const QString csv = tmp.filePath("sweep.csv");
    QVERIFY(view.exportCsv(csv, &error));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 7); // header and six points
    QVERIFY(lines[0].startsWith("run,state,beta,loss_type,eval/win_rate,eval/reward,eval/kl"));
    QVERIFY(lines[0].endsWith(",dir"));
    const int klColumn = int(lines[0].split(',').indexOf("eval/kl"));
    bool found = false;
    for (const auto &line : lines)
      if (line.startsWith("\"beta=0.3,loss_type=dpo\",finished,")) { // the name's comma: quoted
        QCOMPARE(line.split(',').at(klColumn + 1), QStringLiteral("8"));
        found = true;
      }
    QVERIFY(found);
  }

  void malformedPlanIsReportedNamingTheFile() {
    QTemporaryDir tmp;
    writeFile(tmp.filePath("sweep.json"), "{\"points\": 3}");
    SweepView view;
    QString error;
    QVERIFY(!view.openSweep(tmp.path(), &error));
    QVERIFY2(error.contains("sweep.json") && error.contains("points"), qPrintable(error));
    QTemporaryDir empty;
    QVERIFY(!view.openSweep(empty.path(), &error));
    QVERIFY(error.contains("neither sweep.json nor run folders"));
  }
};

PREFLAB_TEST_MAIN(TestSweepView)

} // namespace preflab_tests
#include "tst_sweep_view.moc"
