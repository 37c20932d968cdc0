// Tests PairsInspector: pairs files, run folders (summary header, β from config), joining texts, errors.
#include "ui/pairs/pairs_filter_proxy.h"
#include "ui/pairs/pairs_inspector.h"
#include "ui/pairs/pairs_table_model.h"

#include "tests/test_main.h"
#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QTableView>

#include <QtTest/QtTest>

using preflab::ui::PairsInspector;
using preflab::ui::PairsTableModel;

namespace {
QString dataPath(const QString &relative) {
  return QStringLiteral(PREFLAB_TEST_DATA_DIR "/") + relative;
}

bool writeFile(const QString &path, const QByteArray &content) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly) && f.write(content) == content.size();
}

// A run folder as the CLI writes it, with this test's pairs.
bool makeRunFolder(const QString &root) {
  QDir(root).mkpath("eval");
  QFile::copy(dataPath("ui_pairs/pairs.jsonl"), root + "/eval/pairs.jsonl");
  return writeFile(root + "/config.yaml", "loss_type: dpo\nbeta: 0.1\n") &&
         writeFile(root + "/eval/summary.json",
                   R"({"pairs": 6, "ranking/accuracy": 0.6666666, "ranking/accuracy_ref": 0.5,
                       "ranking/idealized": 0.8333333, "ranking/alignment_gap": 0.1666666})");
}
} // namespace

class TestPairsInspector : public QObject {
  Q_OBJECT

private slots:
  void opensPairsFileAndShowsSelection() {
    PairsInspector inspector;
    inspector.setShowDialogs(false);
    new QAbstractItemModelTester(inspector.model(), QAbstractItemModelTester::FailureReportingMode::QtTest,
                                 &inspector);
    new QAbstractItemModelTester(inspector.proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest,
                                 &inspector);
    QSignalSpy loaded(&inspector, &PairsInspector::loaded);
    QString error;
    QVERIFY2(inspector.openPairsFile(dataPath("ui_pairs/pairs.jsonl"), &error), qPrintable(error));
    QCOMPARE(loaded.count(), 1);
    QCOMPARE(loaded.at(0).at(1).toInt(), 6);
    inspector.table()->selectRow(3);
    const QString detail = inspector.detailText();
    QVERIFY2(detail.contains("p10") && detail.contains("-1.000") && detail.contains("Join texts"),
             qPrintable(detail));

    QSignalSpy joined(&inspector, &PairsInspector::textsJoined);
    QVERIFY2(inspector.joinTexts(dataPath("ui_pairs/dataset.jsonl"), &error), qPrintable(error));
    QCOMPARE(joined.at(0).at(0).toInt(), 6);
    QVERIFY2(inspector.detailText().contains("is muddy."), qPrintable(inspector.detailText()));
  }

  void opensRunFolder() {
    QTemporaryDir dir;
    QVERIFY(makeRunFolder(dir.path()));
    PairsInspector inspector;
    inspector.setShowDialogs(false);
    QString error;
    QVERIFY2(inspector.openRunFolder(dir.path(), &error), qPrintable(error));
    const QString header = inspector.headerText();
    for (const char *part :
         {"6 pairs", "before 0.500", "after 0.667", "idealised 0.833", "alignment gap 0.167", "dpo"})
      QVERIFY2(header.contains(QLatin1String(part)), qPrintable(header));
    QCOMPARE(inspector.model()->beta().value_or(-1), 0.1);
    // Idealised column at β = 0.1: p10 is the only pair the ideal model gets wrong.
    QCOMPARE(inspector.model()->index(3, PairsTableModel::Idealized).data(PairsTableModel::SortRole).toInt(),
             0);
    QCOMPARE(inspector.model()->index(0, PairsTableModel::Idealized).data(PairsTableModel::SortRole).toInt(),
             1);
    auto *outcome = inspector.findChild<QComboBox *>();
    QVERIFY(outcome);
    outcome->setCurrentIndex(1); // flipped by training
    QCOMPARE(inspector.proxy()->rowCount(), 3);
  }

  void errorsNameFileAndLine_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("mention");
    QTest::newRow("wrong type") << "ui_pairs/malformed_line3.jsonl"
                                << "malformed_line3.jsonl:3";
    QTest::newRow("truncated") << "ui_pairs/truncated_line2.jsonl"
                               << "truncated_line2.jsonl:2";
  }
  void errorsNameFileAndLine() {
    QFETCH(QString, file);
    QFETCH(QString, mention);
    PairsInspector inspector;
    inspector.setShowDialogs(false);
    QVERIFY(inspector.openPairsFile(dataPath("ui_pairs/pairs.jsonl")));
    QSignalSpy failed(&inspector, &PairsInspector::loadFailed);
    QString error;
    QVERIFY(!inspector.openPairsFile(dataPath(file), &error));
    QVERIFY2(error.contains(mention), qPrintable(error));
    QCOMPARE(failed.count(), 1);
    QCOMPARE(inspector.model()->rowCount(), 6); // the previous contents stay
  }

  void runFolderWithoutPairs() {
    QTemporaryDir dir;
    PairsInspector inspector;
    inspector.setShowDialogs(false);
    QString error;
    QVERIFY(!inspector.openRunFolder(dir.path(), &error));
    QVERIFY2(error.contains("eval/pairs.jsonl"), qPrintable(error));
  }

  void joinWithNoMatchingIdsFails() {
    PairsInspector inspector;
    inspector.setShowDialogs(false);
    QVERIFY(inspector.openPairsFile(dataPath("ui_pairs/pairs.jsonl")));
    QString error;
    QVERIFY(!inspector.joinTexts(dataPath("kto_unpaired/input.jsonl"), &error));
    QVERIFY2(error.contains("no pair id matched"), qPrintable(error));
  }

  // Screenshot for manual review: PREFLAB_SCREENSHOT_DIR=dir [PREFLAB_SCREENSHOT_RUN=run folder]
  // [PREFLAB_SCREENSHOT_DATASET=dataset with the run's texts].
  void screenshot() {
    const QString dir = qEnvironmentVariable("PREFLAB_SCREENSHOT_DIR");
    if (dir.isEmpty())
      QSKIP("set PREFLAB_SCREENSHOT_DIR to write screenshots");
    QString run = qEnvironmentVariable("PREFLAB_SCREENSHOT_RUN");
    QTemporaryDir temp;
    if (run.isEmpty()) {
      QVERIFY(makeRunFolder(temp.path()));
      run = temp.path();
    }
    PairsInspector inspector;
    inspector.setShowDialogs(false);
    inspector.resize(1350, 800);
    inspector.show();
    QString error;
    QVERIFY2(inspector.openRunFolder(run, &error), qPrintable(error));
    const QString dataset =
        qEnvironmentVariable("PREFLAB_SCREENSHOT_DATASET", dataPath("ui_pairs/dataset.jsonl"));
    QVERIFY2(inspector.joinTexts(dataset, &error), qPrintable(error));
    inspector.table()->sortByColumn(PairsTableModel::ImplicitRewardMargin, Qt::DescendingOrder);
    inspector.table()->selectRow(0);
    QTest::qWait(100);
    QVERIFY(inspector.grab().save(dir + "/pairs_inspector.png"));
    inspector.findChild<QComboBox *>()->setCurrentIndex(3); // right → wrong
    inspector.table()->selectRow(0);
    QTest::qWait(100);
    QVERIFY(inspector.grab().save(dir + "/pairs_inspector_flipped.png"));
  }
};

PREFLAB_TEST_MAIN(TestPairsInspector)
#include "tst_pairs_inspector.moc"
