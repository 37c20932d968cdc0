// Tests RunController and RunWorker: queueing, signals across threads, pause, cancel, failure.
#include "core/train/text_train_config.h"
#include "ui/training/active_runs_model.h"
#include "ui/training/run_controller.h"

#include "tests/test_main.h"
#include <QAbstractItemModelTester>

#include <QtTest/QtTest>

using namespace preflab;
using preflab::ui::RunController;
using preflab::ui::RunPhase;
using preflab::ui::RunResult;

namespace {

ui::RunRequest tinyRun(const QString &dir, std::int64_t steps = 12) {
  ui::RunRequest r;
  r.config = core::loadTextTrainConfig(PREFLAB_TEST_DATA_DIR "/tiny_train/config.yaml");
  r.config.trainFile = PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl";
  r.config.outputDir = dir.toStdString();
  r.config.maxSteps = steps;
  r.config.saveSteps = 0;
  return r;
}

RunResult resultOf(const QSignalSpy &spy, const QString &id) {
  for (const auto &args : spy)
    if (args.at(0).toString() == id)
      return args.at(1).value<RunResult>();
  return {};
}

} // namespace

class TestRunController : public QObject {
  Q_OBJECT

private slots:
  void queuedRunsRunInOrderAndReportFromTheWorker() {
    QTemporaryDir tmp;
    RunController c;
    ui::ActiveRunsModel model(&c);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy finished(&c, &RunController::finished);
    QSignalSpy logged(&c, &RunController::logged);
    const auto a = c.enqueue(tinyRun(tmp.filePath("a")));
    const auto b = c.enqueue(tinyRun(tmp.filePath("b")));
    QCOMPARE(c.phase(a), RunPhase::Running);
    QCOMPARE(c.phase(b), RunPhase::Queued);
    QCOMPARE(c.activeCount(), 2);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 60000);
    QCOMPARE(finished.at(0).at(0).toString(), a); // one at a time, in order
    QCOMPARE(c.phase(a), RunPhase::Finished);
    QCOMPARE(c.phase(b), RunPhase::Finished);
    QCOMPARE(logged.count(), 24); // logging_steps 1, 12 steps each
    const auto last = logged.last().at(1).value<ui::MetricRecord>();
    QCOMPARE(last.step, qint64(12));
    QVERIFY(last.metrics.contains("loss"));
    QVERIFY(QFile::exists(tmp.filePath("b/metrics.jsonl"))); // the same run folder as the CLI
    QCOMPARE(resultOf(finished, b).steps, qint64(12));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.data(model.index(0, ui::ActiveRunsModel::State)).toString(), QStringLiteral("finished"));
    QCOMPARE(model.data(model.index(1, ui::ActiveRunsModel::Progress)).toString(), QStringLiteral("12 / 12"));
  }

  void pauseHoldsTheRunAndResumeFinishesIt() {
    QTemporaryDir tmp;
    RunController c;
    QSignalSpy phases(&c, &RunController::phaseChanged);
    QSignalSpy finished(&c, &RunController::finished);
    QString id;
    connect(&c, &RunController::logged, this, [&](const QString &run, const ui::MetricRecord &r) {
      if (r.step == 2)
        c.pause(run);
    });
    id = c.enqueue(tinyRun(tmp.filePath("p"), 40));
    QTRY_COMPARE_WITH_TIMEOUT(c.phase(id), RunPhase::Paused, 30000);
    QSignalSpy logged(&c, &RunController::logged);
    QTest::qWait(400); // paused: no step may complete in this window
    QCOMPARE(logged.count(), 0);
    c.resume(id);
    QCOMPARE(c.phase(id), RunPhase::Running);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QCOMPARE(c.phase(id), RunPhase::Finished);
    QCOMPARE(resultOf(finished, id).steps, qint64(40));
  }

  void cancelStopsARunningAndDropsAQueuedRun() {
    QTemporaryDir tmp;
    RunController c;
    QSignalSpy finished(&c, &RunController::finished);
    const auto a = c.enqueue(tinyRun(tmp.filePath("a"), 400));
    const auto b = c.enqueue(tinyRun(tmp.filePath("b")));
    connect(&c, &RunController::logged, this, [&](const QString &run, const ui::MetricRecord &r) {
      if (run == a && r.step == 3)
        c.cancel(a);
    });
    c.cancel(b);
    QCOMPARE(c.phase(b), RunPhase::Cancelled);
    QTRY_COMPARE_WITH_TIMEOUT(c.phase(a), RunPhase::Cancelled, 60000);
    QTRY_COMPARE(finished.count(), 2);
    QVERIFY(resultOf(finished, a).steps < 400);
    QVERIFY(!QFile::exists(tmp.filePath("b/metrics.jsonl"))); // never started
    QCOMPARE(c.activeCount(), 0);
  }

  void aFailingRunEndsFailedAndTheNextOneRuns() {
    QTemporaryDir tmp;
    RunController c;
    QSignalSpy finished(&c, &RunController::finished);
    auto bad = tinyRun(tmp.filePath("bad"));
    bad.config.trainFile = tmp.filePath("missing.jsonl").toStdString();
    const auto a = c.enqueue(bad);
    const auto b = c.enqueue(tinyRun(tmp.filePath("good"), 3));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 60000);
    QCOMPARE(c.phase(a), RunPhase::Failed);
    QVERIFY2(resultOf(finished, a).message.contains("missing.jsonl"),
             qPrintable(resultOf(finished, a).message));
    QCOMPARE(c.phase(b), RunPhase::Finished);
  }

  void shutdownCancelsARunningRun() {
    QTemporaryDir tmp;
    auto c = std::make_unique<RunController>();
    QSignalSpy logged(c.get(), &RunController::logged);
    c->enqueue(tinyRun(tmp.filePath("s"), 100000));
    QVERIFY(logged.wait(30000));
    QElapsedTimer t;
    t.start();
    QVERIFY(c->shutdown(30000));
    QVERIFY(t.elapsed() < 10000);
    c.reset();
    QFile status(tmp.filePath("s/status.json"));
    QVERIFY(status.open(QIODevice::ReadOnly));
    QVERIFY(status.readAll().contains("cancelled"));
  }
};

PREFLAB_TEST_MAIN(TestRunController)
#include "tst_run_controller.moc"
