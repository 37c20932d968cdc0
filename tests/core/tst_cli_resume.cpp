// Tests that a CLI run killed with SIGKILL leaves a readable run folder and resumes to the same curve,
// for a text run (to 1e-6) and an image run (bit for bit).
#include "core/data/fashion_mnist.h"
#include "core/io/atomic_file.h"
#include "core/io/resource_paths.h"
#include "core/train/run_folder.h"

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

QStringList trainArgs(const QString &runDir, const QStringList &extra = {}) {
  return QStringList{"train",
                     PREFLAB_TEST_DATA_DIR "/tiny_train/config.yaml",
                     "--output-dir",
                     runDir,
                     "-q",
                     "train_file=" PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl",
                     "max_steps=600",
                     "save_steps=50"} +
         extra;
}

std::map<int, double> losses(const QString &runDir) {
  std::map<int, double> out;
  for (auto &line : readMetricsFile((runDir + "/metrics.jsonl").toStdString()))
    if (line.contains("loss"))
      out[line["step"].get<int>()] = line["loss"].get<double>();
  return out;
}

// A small Diffusion-DPO run on oracle-labelled Fashion-MNIST pairs with the embedded reference;
// prompt dropout draws from the global generator, the batches and noise from the run's own.
QString writeImageConfig(const QString &dir) {
  const auto path = dir + "/image.yaml";
  writeFileAtomic(path.toStdString(), "task: text-to-image\n"
                                      "train_file: fashion-mnist\n"
                                      "fashion_pairs_per_class: 4\n"
                                      "loss_type: diffusion-dpo\n"
                                      "per_device_train_batch_size: 4\n"
                                      "prompt_dropout: 0.2\n"
                                      "max_steps: 160\n"
                                      "save_steps: 20\n"
                                      "logging_steps: 1\n"
                                      "eval_seeds_per_class: 1\n"
                                      "eval_sampling_steps: 2\n"
                                      "eval_timesteps: 1\n"
                                      "grid_seeds: 1\n"
                                      "threads: 1\n");
  return path;
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

  void killedImageRunResumesBitForBit() {
    if (!fashionMnistAvailable("train") ||
        !QFile::exists(QString::fromStdString(embeddedResource("fashion-oracle"))))
      QSKIP("needs dataset-fashion-mnist and resources/fashion-oracle");
    QTemporaryDir tmp;
    const auto config = writeImageConfig(tmp.path());
    const QString killed = tmp.filePath("killed"), clean = tmp.filePath("clean");
    auto args = [&](const QString &dir, const QStringList &extra = {}) {
      return QStringList{"train", config, "--output-dir", dir, "-q"} + extra;
    };
    QProcess p;
    p.start(PREFLAB_CLI_PATH, args(killed));
    QVERIFY(p.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(killed + "/checkpoints/step-40/trainer_state.json"), 180000);
    QVERIFY2(p.state() == QProcess::Running, "the run ended before it could be killed");
    p.kill(); // SIGKILL, somewhere after step 40
    QVERIFY(p.waitForFinished(10000));
    const auto before = losses(killed);
    QVERIFY(before.size() >= 40 && before.size() < 160);

    QVERIFY(runToEnd(args(killed, {"--resume"})));
    QVERIFY(runToEnd(args(clean)));
    const auto resumed = losses(killed), reference = losses(clean);
    QCOMPARE(reference.size(), std::size_t(160));
    QCOMPARE(resumed.size(), std::size_t(160));
    for (const auto &[step, loss] : reference)
      QVERIFY2(resumed.at(step) == loss, qPrintable(QString("step %1: %2 resumed vs %3")
                                                        .arg(step)
                                                        .arg(resumed.at(step), 0, 'g', 17)
                                                        .arg(loss, 0, 'g', 17)));
    // The resumed run's final evaluation matches too.
    const auto a = nlohmann::json::parse(readFile((killed + "/eval/summary.json").toStdString()));
    const auto b = nlohmann::json::parse(readFile((clean + "/eval/summary.json").toStdString()));
    QCOMPARE(a["eval/oracle_reward"].get<double>(), b["eval/oracle_reward"].get<double>());
  }
};

PREFLAB_TEST_MAIN(TestCliResume)

} // namespace preflab_tests
#include "tst_cli_resume.moc"
