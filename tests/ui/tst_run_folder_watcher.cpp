// Tests RunFolderWatcher: initial load, live tail of a growing metrics.jsonl, split lines, truncation, bad
// lines, status.json.
#include "tests/test_main.h"
#include "ui/runs/run_folder_watcher.h"
#include "ui/runs/run_series_store.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace preflab::ui;

namespace {
QByteArray record(int step, double loss, double time = 1700000000.0) {
  return QStringLiteral("{\"step\":%1,\"loss\":%2,\"grad_norm\":1.5,\"time\":%3}\n")
      .arg(step)
      .arg(loss, 0, 'g', 17)
      .arg(time + step, 0, 'f', 3)
      .toUtf8();
}

void appendBytes(const QString &path, const QByteArray &bytes) {
  QFile file(path);
  QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Append));
  QCOMPARE(file.write(bytes), bytes.size());
}

void rewrite(const QString &path, const QByteArray &bytes) {
  QFile file(path);
  QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
  QCOMPARE(file.write(bytes), bytes.size());
}

// As core writes status.json: a temporary file renamed over the old one.
void writeStatusAtomically(const QString &dir, const QByteArray &json) {
  const QString tmp = dir + "/status.json.tmp";
  rewrite(tmp, json);
  QFile::remove(dir + "/status.json");
  QVERIFY(QFile::rename(tmp, dir + "/status.json"));
}
} // namespace

class TestRunFolderWatcher : public QObject {
  Q_OBJECT
private slots:
  void loadsExistingFileOnStart();
  void tailsSplitLine_data();
  void tailsSplitLine();
  void truncationReloads();
  void malformedLinesAreReportedAndSkipped();
  void evalLinesAndStepOrder();
  void statusChanges();
  void fileAppearsLater();
  void huggingFaceTrainerFolderIsTailed();
  void anotherToolsEventFilesAreTailed();
};

void TestRunFolderWatcher::loadsExistingFileOnStart() {
  QTemporaryDir dir;
  const QString metrics = dir.filePath("metrics.jsonl");
  appendBytes(metrics, record(1, 0.69) + record(2, 0.68) + record(3, 0.66));
  RunSeriesStore store;
  RunFolderWatcher watcher(dir.path(), &store);
  QSignalSpy appended(&watcher, &RunFolderWatcher::recordsAppended);
  QVERIFY(appended.wait(2000)); // the first read is queued: this spy sees it
  QCOMPARE(appended.first().first().toInt(), 3);
  QCOMPARE(watcher.runId(), QDir::cleanPath(dir.path()));
  QCOMPARE(store.runLabel(watcher.runId()), QDir(dir.path()).dirName());
  QCOMPARE(store.pointCount(watcher.runId(), "loss"), 3);
  QCOMPARE(store.values(watcher.runId(), "loss").last(), 0.66);
  QCOMPARE(store.xValues(watcher.runId(), "loss", XAxisMode::RelativeTime).last(), 2.0);
  QCOMPARE(store.metricNames(), (QStringList{"grad_norm", "loss"})); // step and time are not metrics
}

void TestRunFolderWatcher::tailsSplitLine_data() {
  QTest::addColumn<int>("splitAt");
  QTest::newRow("inside the first key") << 3;
  QTest::newRow("inside a number") << 18;
  QTest::newRow("just before the newline") << -1;
  QTest::newRow("two lines, split in the second") << -2;
}

void TestRunFolderWatcher::tailsSplitLine() {
  QFETCH(int, splitAt);
  QTemporaryDir dir;
  const QString metrics = dir.filePath("metrics.jsonl");
  appendBytes(metrics, record(1, 0.69));
  RunSeriesStore store;
  RunFolderWatcher watcher(dir.path(), &store);
  QTRY_COMPARE(store.pointCount(watcher.runId(), "loss"), 1);

  QByteArray next = record(2, 0.5);
  int expectedAfterFirstPiece = 1;
  int total = 2;
  if (splitAt == -2) {
    next = record(2, 0.5) + record(3, 0.4);
    splitAt = record(2, 0.5).size() + 10;
    expectedAfterFirstPiece = 2;
    total = 3;
  } else if (splitAt == -1) {
    splitAt = next.size() - 1;
  }
  appendBytes(metrics, next.left(splitAt));
  watcher.pollNow();
  QCOMPARE(store.pointCount(watcher.runId(), "loss"), expectedAfterFirstPiece);
  QCOMPARE(watcher.malformedLines(), 0); // a partial line waits, it is not an error
  appendBytes(metrics, next.mid(splitAt));
  // Picked up by the file-system notification or the poll timer, without a call from here.
  QTRY_COMPARE_WITH_TIMEOUT(store.pointCount(watcher.runId(), "loss"), total, 3000);
  QCOMPARE(store.values(watcher.runId(), "loss").at(1), 0.5);
  QCOMPARE(watcher.malformedLines(), 0);
}

void TestRunFolderWatcher::truncationReloads() {
  QTemporaryDir dir;
  const QString metrics = dir.filePath("metrics.jsonl");
  appendBytes(metrics, record(1, 0.9) + record(2, 0.8) + record(3, 0.7) + record(4, 0.6));
  RunSeriesStore store;
  RunFolderWatcher watcher(dir.path(), &store);
  QTRY_COMPARE(store.pointCount(watcher.runId(), "loss"), 4);
  QSignalSpy reloaded(&watcher, &RunFolderWatcher::reloaded);
  // A resumed run rewrites the file shorter, here ending half-way through a line.
  const QByteArray kept = record(1, 0.9) + record(2, 0.8);
  const QByteArray half = record(3, 0.75).left(12);
  rewrite(metrics, kept + half);
  QVERIFY(reloaded.wait(3000));
  QTRY_COMPARE(store.pointCount(watcher.runId(), "loss"), 2);
  QCOMPARE(store.values(watcher.runId(), "loss"), (QVector<double>{0.9, 0.8}));
  appendBytes(metrics, record(3, 0.75).mid(12) + record(4, 0.65));
  QTRY_COMPARE(store.pointCount(watcher.runId(), "loss"), 4);
  QCOMPARE(store.values(watcher.runId(), "loss"), (QVector<double>{0.9, 0.8, 0.75, 0.65}));
  QCOMPARE(watcher.malformedLines(), 0);
  QCOMPARE(reloaded.count(), 1);
}

void TestRunFolderWatcher::malformedLinesAreReportedAndSkipped() {
  QTemporaryDir dir;
  const QString metrics = dir.filePath("metrics.jsonl");
  appendBytes(metrics, record(1, 0.9));
  RunSeriesStore store;
  RunFolderWatcher watcher(dir.path(), &store);
  QSignalSpy malformed(&watcher, &RunFolderWatcher::malformedLine);
  QTRY_COMPARE(store.pointCount(watcher.runId(), "loss"), 1);
  appendBytes(metrics, QByteArray("{\"step\": 2, \"loss\": 0.\n") + "[1, 2]\n" + "{\"loss\": 0.5}\n" + "\n" +
                           record(6, 0.4));
  QTRY_COMPARE(store.pointCount(watcher.runId(), "loss"), 2);
  QCOMPARE(malformed.count(), 3);
  QCOMPARE(malformed.at(0).at(0).toString(), watcher.metricsPath());
  QCOMPARE(malformed.at(0).at(1).toLongLong(), 2); // file:line of each bad line
  QCOMPARE(malformed.at(1).at(1).toLongLong(), 3);
  QCOMPARE(malformed.at(2).at(1).toLongLong(), 4);
  QVERIFY(malformed.at(2).at(2).toString().contains("step"));
  QCOMPARE(watcher.malformedLines(), 3);
  QCOMPARE(store.steps(watcher.runId(), "loss").last(), 6.0);
}

void TestRunFolderWatcher::evalLinesAndStepOrder() {
  QTemporaryDir dir;
  appendBytes(dir.filePath("metrics.jsonl"),
              record(5, 0.6) +
                  "{\"step\":5,\"eval/loss\":0.55,\"eval/rewards/accuracies\":0.7,\"time\":1.7e9}\n" +
                  "{\"step\":10,\"loss\":null,\"time\":1.7e9}\n");
  RunSeriesStore store;
  RunFolderWatcher watcher(dir.path(), &store);
  QTRY_COMPARE(watcher.recordsRead(), 3);
  QCOMPARE(store.metricNames(), (QStringList{"eval/loss", "eval/rewards/accuracies", "grad_norm", "loss"}));
  QCOMPARE(store.pointCount(watcher.runId(), "eval/loss"), 1);
  QCOMPARE(store.pointCount(watcher.runId(), "loss"), 2);
  QVERIFY(qIsNaN(store.values(watcher.runId(), "loss").last())); // null: NaN written by core
}

void TestRunFolderWatcher::statusChanges() {
  QTemporaryDir dir;
  writeStatusAtomically(
      dir.path(), R"({"state":"running","message":"training","step":3,"max_steps":40,"updated_at":1.0})");
  RunSeriesStore store;
  RunFolderWatcher watcher(dir.path(), &store);
  QSignalSpy status(&watcher, &RunFolderWatcher::statusChanged);
  QVERIFY(status.wait(2000));
  QCOMPARE(status.last().at(0).toString(), QString("running"));
  QCOMPARE(status.last().at(1).toString(), QString("training"));
  QCOMPARE(status.last().at(2).toLongLong(), 3);
  QCOMPARE(status.last().at(3).toLongLong(), 40);
  // Only the heartbeat moved: no signal.
  writeStatusAtomically(
      dir.path(), R"({"state":"running","message":"training","step":3,"max_steps":40,"updated_at":2.0})");
  watcher.pollNow();
  QCOMPARE(status.count(), 1);
  writeStatusAtomically(
      dir.path(),
      R"({"state":"finished","message":"finished 40 steps","step":40,"max_steps":40,"updated_at":3.0})");
  QTRY_COMPARE_WITH_TIMEOUT(status.count(), 2, 3000);
  QCOMPARE(status.last().at(0).toString(), QString("finished"));
  QCOMPARE(watcher.state(), QString("finished"));
  QCOMPARE(watcher.step(), 40);
  // A broken status file is ignored until it is whole again.
  rewrite(dir.filePath("status.json"), "{\"state\":\"fai");
  watcher.pollNow();
  QCOMPARE(status.count(), 2);
}

void TestRunFolderWatcher::fileAppearsLater() {
  QTemporaryDir dir;
  RunSeriesStore store;
  RunFolderWatcher watcher(dir.path(), &store);
  QSignalSpy appended(&watcher, &RunFolderWatcher::recordsAppended);
  appendBytes(dir.filePath("metrics.jsonl"), record(1, 0.7));
  QVERIFY(appended.wait(3000));
  QCOMPARE(store.pointCount(watcher.runId(), "loss"), 1);
}

// A Trainer writing checkpoint-2, then checkpoint-4 (tests/data/hf_trainer): the history is
// appended, the status follows global_step / max_steps, a torn file is reported once.
void TestRunFolderWatcher::huggingFaceTrainerFolderIsTailed() {
  QTemporaryDir dir;
  const QString source = QStringLiteral(PREFLAB_TEST_DATA_DIR "/hf_trainer");
  QDir(dir.path()).mkpath("checkpoint-2");
  QVERIFY(QFile::copy(source + "/checkpoint-2/trainer_state.json",
                      dir.filePath("checkpoint-2/trainer_state.json")));
  RunSeriesStore store;
  RunFolderWatcher watcher(dir.path(), &store);
  QSignalSpy appended(&watcher, &RunFolderWatcher::recordsAppended);
  QSignalSpy status(&watcher, &RunFolderWatcher::statusChanged);
  QSignalSpy malformed(&watcher, &RunFolderWatcher::malformedLine);
  QVERIFY(appended.wait(3000));
  QCOMPARE(watcher.recordsRead(), qint64(3));
  QCOMPARE(store.pointCount(watcher.runId(), "loss"), 2);
  QCOMPARE(store.pointCount(watcher.runId(), "eval/rewards/accuracies"), 1);
  QCOMPARE(watcher.state(), QStringLiteral("running"));
  QCOMPARE(watcher.step(), qint64(2));
  QCOMPARE(watcher.maxSteps(), qint64(4));
  // A torn write of the next checkpoint: reported, nothing appended, then healed.
  QDir(dir.path()).mkpath("checkpoint-4");
  rewrite(dir.filePath("checkpoint-4/trainer_state.json"), "{\"log_history\": [");
  QVERIFY(malformed.wait(3000));
  QVERIFY(malformed.first().at(0).toString().endsWith("checkpoint-4/trainer_state.json"));
  QFile full(source + "/checkpoint-4/trainer_state.json");
  QVERIFY(full.open(QIODevice::ReadOnly));
  QTest::qWait(50); // a later modification time than the torn write's
  rewrite(dir.filePath("checkpoint-4/trainer_state.json"), full.readAll());
  QVERIFY(appended.wait(3000));
  QCOMPARE(watcher.recordsRead(), qint64(7));
  QCOMPARE(store.pointCount(watcher.runId(), "loss"), 4);
  QCOMPARE(store.pointCount(watcher.runId(), "train/loss"), 1);
  QCOMPARE(watcher.state(), QStringLiteral("finished"));
  QCOMPARE(watcher.step(), qint64(4));
  QCOMPARE(malformed.count(), 1);
}

// Another tool's TensorBoard log dir, its event file arriving in two writes (the first ending
// inside a record): every scalar once, the Trainer's "train/" prefix dropped.
void TestRunFolderWatcher::anotherToolsEventFilesAreTailed() {
  QTemporaryDir dir;
  QFile source(QStringLiteral(
      PREFLAB_TEST_DATA_DIR
      "/tensorboard/trl_logdir/runs/Dec04_00-00-00_host/events.out.tfevents.1764806400.host.1.0"));
  QVERIFY(source.open(QIODevice::ReadOnly));
  const QByteArray bytes = source.readAll();
  QDir(dir.path()).mkpath("runs/Dec04_host");
  const QString file = dir.filePath("runs/Dec04_host/events.out.tfevents.1764806400.host.1.0");
  appendBytes(file, bytes.left(bytes.size() - 30));
  RunSeriesStore store;
  RunFolderWatcher watcher(dir.path(), &store);
  QSignalSpy appended(&watcher, &RunFolderWatcher::recordsAppended);
  QVERIFY(appended.wait(3000));
  QCOMPARE(store.pointCount(watcher.runId(), "loss"), 3);
  QCOMPARE(store.pointCount(watcher.runId(), "eval/loss"), 0); // its record is still being written
  appendBytes(file, bytes.mid(bytes.size() - 30));
  QVERIFY(appended.wait(3000));
  QCOMPARE(store.pointCount(watcher.runId(), "eval/loss"), 1);
  QCOMPARE(store.pointCount(watcher.runId(), "loss"), 3);
  QCOMPARE(store.pointCount(watcher.runId(), "rewards/accuracies"), 3);
  QCOMPARE(watcher.recordsRead(), qint64(10));
  QCOMPARE(watcher.malformedLines(), qint64(0));
}

PREFLAB_TEST_MAIN(TestRunFolderWatcher)
#include "tst_run_folder_watcher.moc"
