// Tests DiagnosticsPanel: one list row per finding with its severity icon, the empty state, run folders.
#include "ui/diagnostics/diagnostics_panel.h"

#include "tests/test_main.h"
#include <QListWidget>

#include <QtTest/QtTest>

#include <cmath>

using namespace preflab;
using preflab::ui::DiagnosticsPanel;

namespace {

// A DPO run that learned nothing: loss at ln 2, log-probs falling together, 4-pair batches.
core::RunDiagnosticsInput stuckRun(double beta) {
  core::RunDiagnosticsInput in;
  in.objective = "dpo";
  in.beta = beta;
  in.pairsPerAccuracyValue = 4;
  for (int i = 0; i < 40; ++i) {
    const std::int64_t step = 5 * (i + 1);
    in.loss.push_back({step, std::log(2.0) + (i % 2 ? 0.004 : -0.004)});
    in.logpsChosen.push_back({step, -20.0 - 0.3 * i});
    in.logpsRejected.push_back({step, -20.0 - 0.5 * i});
    in.accuracy.push_back({step, double(i % 5) / 4.0});
  }
  return in;
}

bool writeFile(const QString &path, const QByteArray &content) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly) && f.write(content) == content.size();
}

} // namespace

class TestDiagnosticsPanel : public QObject {
  Q_OBJECT

private slots:
  void showsOneRowPerFinding_data() {
    QTest::addColumn<double>("beta");
    QTest::addColumn<int>("findings");
    QTest::newRow("beta in range: three findings") << 0.1 << 3;
    QTest::newRow("beta 5: four findings") << 5.0 << 4;
  }
  void showsOneRowPerFinding() {
    QFETCH(double, beta);
    QFETCH(int, findings);
    DiagnosticsPanel panel;
    QSignalSpy changed(&panel, &DiagnosticsPanel::findingsChanged);
    panel.analyse(stuckRun(beta));
    QCOMPARE(panel.findingCount(), findings);
    QCOMPARE(panel.list()->count(), findings);
    QCOMPARE(changed.last().at(0).toInt(), findings);
    for (int i = 0; i < panel.list()->count(); ++i) {
      const QListWidgetItem *item = panel.list()->item(i);
      QVERIFY(!item->icon().isNull());
      QVERIFY(!item->text().isEmpty() && !item->text().contains('\n'));
      QCOMPARE(item->data(Qt::UserRole).toString(),
               QString::fromStdString(panel.findings()[std::size_t(i)].id));
    }
  }

  void setFindingsDirectly() {
    DiagnosticsPanel panel;
    panel.setFindings({{"a", core::FindingSeverity::Info, "note one"},
                       {"b", core::FindingSeverity::Warning, "warning two"}});
    QCOMPARE(panel.list()->count(), 2);
    QCOMPARE(panel.list()->item(1)->text(), QStringLiteral("warning two"));
    panel.setFindings({});
    QCOMPARE(panel.findingCount(), 0);
    QCOMPARE(panel.list()->count(), 1); // the "no problems" row
    QVERIFY(panel.list()->item(0)->text().contains("No problems"));
  }

  void analysesRunFolder() {
    QTemporaryDir dir;
    QVERIFY(writeFile(
        dir.filePath("config.yaml"),
        "loss_type: dpo\nbeta: 3.0\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 2\n"));
    QByteArray metrics;
    for (int i = 1; i <= 20; ++i)
      metrics += QStringLiteral("{\"step\":%1,\"loss\":%2,\"rewards/accuracies\":%3}\n")
                     .arg(i)
                     .arg(0.69 - 0.02 * i)
                     .arg((i % 5) / 4.0)
                     .toUtf8();
    metrics += "{\"step\":20,\"eval/loss\":0.5}\n{\"step\":21,\"loss\":0.3"; // half-written last line
    QVERIFY(writeFile(dir.filePath("metrics.jsonl"), metrics));
    DiagnosticsPanel panel;
    QString error;
    QVERIFY2(panel.analyseRunFolder(dir.path(), &error), qPrintable(error));
    QStringList ids;
    for (const auto &f : panel.findings())
      ids << QString::fromStdString(f.id);
    QCOMPARE(ids, (QStringList{"coarse-accuracy", "beta-out-of-range"}));
    QVERIFY(!panel.analyseRunFolder(dir.filePath("missing"), &error));
    QVERIFY(!error.isEmpty());
  }

  // Screenshot for manual review: PREFLAB_SCREENSHOT_DIR=dir [PREFLAB_SCREENSHOT_RUN=run folder].
  void screenshot() {
    const QString dir = qEnvironmentVariable("PREFLAB_SCREENSHOT_DIR");
    if (dir.isEmpty())
      QSKIP("set PREFLAB_SCREENSHOT_DIR to write screenshots");
    DiagnosticsPanel panel;
    panel.resize(700, 260);
    panel.show();
    const QString run = qEnvironmentVariable("PREFLAB_SCREENSHOT_RUN");
    QString error;
    if (run.isEmpty())
      panel.analyse(stuckRun(5.0));
    else
      QVERIFY2(panel.analyseRunFolder(run, &error), qPrintable(error));
    QTest::qWait(50);
    QVERIFY(panel.grab().save(dir + "/diagnostics_panel.png"));
  }
};

PREFLAB_TEST_MAIN(TestDiagnosticsPanel)
#include "tst_diagnostics_panel.moc"
