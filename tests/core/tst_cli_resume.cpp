// Tests that a CLI run killed with SIGKILL leaves a readable run folder and resumes to the same curve.
#include "core/io/atomic_file.h"
#include "core/train/run_folder.h"

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

using namespace preflab::core;

namespace {

QStringList trainArgs(const QString &runDir, const QStringList &extra = {}) {
  return QStringList{"train", PREFLAB_TEST_DATA_DIR "/tiny_train/config.yaml", "--output-dir", runDir, "-q",
                     "train_file=" PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl", "max_steps=600",
                     "save_steps=50"} + extra;
}

std::map<int, double> losses(const QString &runDir) {
  std::map<int, double> out;
  for (auto &line : readMetricsFile((runDir + "/metrics.jsonl").toStdString()))
    if (line.contains("loss"))
      out[line["step"].get<int>()] = line["loss"].get<double>();
  return out;
}

bool runToEnd(const QStringList &args) {
  QProcess p;
  p.start(PREFLAB_CLI_PATH, args);
  return p.waitForFinished(300000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

} // namespace

class TestCliResume : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void killedRunResumesToTheSameCurve() {
    QTemporaryDir tmp;
    const QString killed = tmp.filePath("killed"), clean = tmp.filePath("clean");
    QProcess p;
    p.start(PREFLAB_CLI_PATH, trainArgs(killed));
    QVERIFY(p.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(killed + "/checkpoints/step-50/trainer_state.json"), 120000);
    QVERIFY2(p.state() == QProcess::Running, "the run ended before it could be killed");
    p.kill(); // SIGKILL
    QVERIFY(p.waitForFinished(10000));
    // The folder is readable as it was left: status.json whole, metrics.jsonl lines parse.
    const auto status = nlohmann::json::parse(readFile((killed + "/status.json").toStdString()));
    QCOMPARE(status["state"].get<std::string>(), std::string("running"));
    const auto before = losses(killed);
    QVERIFY(before.size() >= 50);
    QVERIFY(RunFolder(killed.toStdString()).checkpointSteps().back() >= 50);

    QVERIFY(runToEnd(trainArgs(killed, {"--resume"})));
    QVERIFY(runToEnd(trainArgs(clean)));
    const auto resumed = losses(killed), reference = losses(clean);
    QCOMPARE(resumed.size(), std::size_t(600));
    QCOMPARE(reference.size(), std::size_t(600));
    for (const auto &[step, loss] : reference)
      QVERIFY2(std::abs(resumed.at(step) - loss) < 1e-6, qPrintable(QString("step %1").arg(step)));
  }
};

QTEST_GUILESS_MAIN(TestCliResume)
#include "tst_cli_resume.moc"
