// Tests DatasetView: background load, signals, broken files without dialogs, skip-invalid reload, detail
// pane.
#include "ui/datasets/dataset_filter_proxy.h"
#include "ui/datasets/dataset_stats_panel.h"
#include "ui/datasets/dataset_table_model.h"
#include "ui/datasets/dataset_view.h"

#include "tests/test_main.h"
#include <QAbstractItemModelTester>
#include <QLineEdit>
#include <QTableView>

#include <QtTest/QtTest>

#include <qcustomplot.h>

using preflab::ui::DatasetStatsPanel;
using preflab::ui::DatasetView;

namespace {
QString dataPath(const QString &relative) {
  return QStringLiteral(PREFLAB_TEST_DATA_DIR "/") + relative;
}

double barsTotal(QCustomPlot *plot) {
  double total = 0;
  for (int i = 0; i < plot->plottableCount(); ++i)
    if (auto *bars = qobject_cast<QCPBars *>(plot->plottable(i)))
      for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
        total += it->value;
  return total;
}
} // namespace

class TestDatasetView : public QObject {
  Q_OBJECT

private slots:
  void loadsInBackgroundAndEmitsLoaded() {
    DatasetView view;
    view.setShowDialogs(false);
    new QAbstractItemModelTester(view.model(), QAbstractItemModelTester::FailureReportingMode::QtTest, &view);
    new QAbstractItemModelTester(view.proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest, &view);
    QSignalSpy loaded(&view, &DatasetView::loaded);
    QSignalSpy failed(&view, &DatasetView::loadFailed);
    const QString path = dataPath("ui_datasets/pairs_small.jsonl");
    QString error;
    QVERIFY(view.openDataset(path, &error));
    QVERIFY(loaded.wait(10000));
    QCOMPARE(failed.count(), 0);
    QCOMPARE(loaded.at(0).at(0).toString(), path);
    QCOMPARE(loaded.at(0).at(1).toInt(), 7);
    QVERIFY(!view.isLoading());
    QCOMPARE(view.proxy()->rowCount(), 7);
    const QString counts = view.statsPanel()->countsText();
    QVERIFY2(counts.contains("7 pairs") && counts.contains("1 blank") && counts.contains("trl"),
             qPrintable(counts));
    // 7 chosen + 7 rejected lengths; 6 rater fractions (a6 has none).
    QCOMPARE(barsTotal(view.statsPanel()->lengthPlot()), 14.0);
    QCOMPARE(barsTotal(view.statsPanel()->balancePlot()), 6.0);

    view.searchField()->setText("FILM");
    QCOMPARE(view.proxy()->rowCount(), 2);
    view.table()->selectRow(1);
    QVERIFY2(view.detailText().contains("Still funny.\nStill warm."), qPrintable(view.detailText()));
  }

  void brokenFileFailsWithLocationAndNoDialog_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QStringList>("mentions");
    QTest::newRow("cut JSON on line 3")
        << "ui_datasets/broken_line3.jsonl" << QStringList{"broken_line3.jsonl:3", "invalid JSON"};
    QTest::newRow("golden truncated line") << "truncated_line/input.jsonl" << QStringList{"input.jsonl:3"};
    QTest::newRow("golden wrong types") << "wrong_types/input.jsonl" << QStringList{"input.jsonl:", "key '"};
    QTest::newRow("empty file") << "empty_file/input.jsonl" << QStringList{"input.jsonl"};
  }
  void brokenFileFailsWithLocationAndNoDialog() {
    QFETCH(QString, file);
    QFETCH(QStringList, mentions);
    DatasetView view;
    view.setShowDialogs(false);
    QSignalSpy loaded(&view, &DatasetView::loaded);
    QSignalSpy failed(&view, &DatasetView::loadFailed);
    QVERIFY(view.openDataset(dataPath(file)));
    QVERIFY(failed.wait(10000));
    QCOMPARE(loaded.count(), 0);
    const QString message = failed.at(0).at(0).toString();
    for (const QString &m : mentions)
      QVERIFY2(message.contains(m), qPrintable(message));
    QCOMPARE(view.model()->rowCount(), 0);
  }

  void missingFileFailsAtOnce() {
    DatasetView view;
    view.setShowDialogs(false);
    QSignalSpy failed(&view, &DatasetView::loadFailed);
    QString error;
    QVERIFY(!view.openDataset(dataPath("ui_datasets/does_not_exist.jsonl"), &error));
    QVERIFY(error.contains("does_not_exist.jsonl"));
    QCOMPARE(failed.count(), 1);
  }

  void skipInvalidReloadsAndListsReasons() {
    DatasetView view;
    view.setShowDialogs(false);
    QSignalSpy loaded(&view, &DatasetView::loaded);
    QSignalSpy failed(&view, &DatasetView::loadFailed);
    QVERIFY(view.openDataset(dataPath("ui_datasets/broken_line3.jsonl")));
    QVERIFY(failed.wait(10000));
    view.setSkipInvalid(true); // reloads the same file
    QVERIFY(loaded.wait(10000));
    QCOMPARE(loaded.at(0).at(1).toInt(), 3);
    const QString skipped = view.statsPanel()->skippedText();
    QVERIFY2(skipped.contains("Skipped 1") && skipped.contains("line 3"), qPrintable(skipped));
    QVERIFY(view.statsPanel()->countsText().contains("1 skipped"));
  }

  void ktoShowsLabelBalance() {
    DatasetView view;
    view.setShowDialogs(false);
    QSignalSpy loaded(&view, &DatasetView::loaded);
    QVERIFY(view.openDataset(dataPath("kto_unpaired/input.jsonl")));
    QVERIFY(loaded.wait(10000));
    QVERIFY(view.model()->isUnpaired());
    QCOMPARE(barsTotal(view.statsPanel()->balancePlot()), 4.0);
    QVERIFY(view.statsPanel()->countsText().contains("4 examples"));
  }

  void newerLoadSupersedesOlder() {
    DatasetView view;
    view.setShowDialogs(false);
    QSignalSpy loaded(&view, &DatasetView::loaded);
    QVERIFY(view.openDataset(dataPath("ui_datasets/pairs_small.jsonl")));
    QVERIFY(view.openDataset(dataPath("kto_unpaired/input.jsonl")));
    QVERIFY(loaded.wait(10000));
    QTest::qWait(50);
    QCOMPARE(loaded.count(), 1);
    QVERIFY(loaded.at(0).at(0).toString().endsWith("kto_unpaired/input.jsonl"));
  }

  void histogramBins() {
    const QVector<double> counts = DatasetStatsPanel::histogram({0, 0.05, 0.2, 0.95, 1.0}, 10, 1.0);
    QCOMPARE(counts.size(), 10);
    QCOMPARE(counts[0], 2.0);
    QCOMPARE(counts[2], 1.0);
    QCOMPARE(counts[9], 2.0); // the last bin is closed
  }

  // Screenshot for manual review: PREFLAB_SCREENSHOT_DIR=dir [PREFLAB_SCREENSHOT_DATASET=file].
  void screenshot() {
    const QString dir = qEnvironmentVariable("PREFLAB_SCREENSHOT_DIR");
    if (dir.isEmpty())
      QSKIP("set PREFLAB_SCREENSHOT_DIR to write screenshots");
    QString path = qEnvironmentVariable("PREFLAB_SCREENSHOT_DATASET");
    if (path.isEmpty())
      path = dataPath("ui_datasets/pairs_small.jsonl");
    DatasetView view;
    view.setShowDialogs(false);
    view.resize(1350, 850);
    view.show();
    QSignalSpy loaded(&view, &DatasetView::loaded);
    QVERIFY(view.openDataset(path));
    QVERIFY(loaded.wait(30000));
    view.table()->selectRow(2);
    QTest::qWait(100);
    QVERIFY(view.grab().save(dir + "/dataset_view.png"));
    view.searchField()->setText(qEnvironmentVariable("PREFLAB_SCREENSHOT_SEARCH", "great"));
    view.table()->selectRow(0);
    QTest::qWait(100);
    QVERIFY(view.grab().save(dir + "/dataset_view_search.png"));
  }
};

PREFLAB_TEST_MAIN(TestDatasetView)
#include "tst_dataset_view.moc"
