// Tests training runs in-process: step-0 invariant, learning, exact resume, NaN stop, every objective.
#include "core/data/text_preference_reader.h"
#include "core/io/atomic_file.h"
#include "core/jobs/text_training.h"
#include "core/objectives/objective_info.h"
#include "core/train/run_folder.h"
#include "core/train/text_train_config.h"

#include "tests/core/test_files.h"
#include "tests/core/tiny_runs.h"
#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

TextTrainConfig tinyConfig(const QString &dir) {
  TextTrainConfig c = loadTextTrainConfig(PREFLAB_TEST_DATA_DIR "/tiny_train/config.yaml");
  c.trainFile = PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl";
  c.outputDir = dir.toStdString();
  return c;
}

using preflab::test::trainingLines;

} // namespace

class TestPreferenceTrainer : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void stepZeroLossIsLn2() {
    QTemporaryDir tmp;
    auto c = tinyConfig(tmp.filePath("run"));
    c.maxSteps = 1;
    const auto s = runTextTraining(c, {}, {});
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    const auto lines = trainingLines(c.outputDir);
    QCOMPARE(lines.size(), std::size_t(1));
    QVERIFY(std::abs(lines[0]["loss"].get<double>() - std::log(2.0)) < 1e-5);
    QCOMPARE(lines[0]["rewards/accuracies"].get<double>(), 0.0); // ties count as wrong
  }

  // The evaluation stage reports its progress per batch, rising to 1 (the CLI line and the app).
  void evaluationReportsProgress() {
    QTemporaryDir tmp;
    auto c = tinyConfig(tmp.filePath("run"));
    c.maxSteps = 2;
    c.evalFile = c.trainFile;
    c.perDeviceEvalBatchSize = 2;
    std::vector<double> shares;
    TrainerCallbacks cb;
    cb.onProgress = [&](const std::string &stage, double f) {
      if (stage == "evaluating")
        shares.push_back(f);
    };
    const auto s = runTextTraining(c, {}, cb);
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    QVERIFY2(shares.size() > 3, qPrintable(QString::number(shares.size())));
    QCOMPARE(shares.front(), 0.0);
    QCOMPARE(shares.back(), 1.0);
    QVERIFY(std::is_sorted(shares.begin(), shares.end()));
  }

  void learnsTheToyProblem() {
    QTemporaryDir tmp;
    auto c = tinyConfig(tmp.filePath("run"));
    c.maxSteps = 40; // hard cap
    c.evalFile = c.trainFile;
    const auto s = runTextTraining(c, {}, {});
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    QVERIFY2(s.evalSummary["eval/loss"].get<double>() < 0.4, s.evalSummary.dump().c_str());
    QVERIFY(s.evalSummary["eval/rewards/accuracies"].get<double>() >= 0.9);
    // A run on files writes how the policy ranks its held-out pairs, with texts, for the Pairs
    // inspector; the summary's ranking accuracy counts those lines.
    const auto lines = preflab::test::nonEmptyLines(c.outputDir + "/eval/pairs.jsonl");
    const auto data = readTextPreferences(c.evalFile);
    QCOMPARE(lines.size(), data.pairs.size());
    double correct = 0;
    for (const auto &l : lines) {
      const auto j = nlohmann::json::parse(l);
      QVERIFY(j.contains("prompt") && j.contains("chosen") && j.contains("implicit_reward_margin"));
      correct += j["ranked_correctly"].get<bool>();
    }
    QCOMPARE(s.evalSummary["ranking/accuracy"].get<double>(), correct / double(lines.size()));
    QCOMPARE(s.evalSummary["pairs_file"].get<std::string>(), c.evalFile);
  }

  void resumeReproducesTheLossCurve() {
    QTemporaryDir tmp;
    auto a = tinyConfig(tmp.filePath("a"));
    QVERIFY(runTextTraining(a, {}, {}).state == RunState::Finished);
    auto b = tinyConfig(tmp.filePath("b"));
    std::atomic<bool> cancel{false};
    TrainerCallbacks cb;
    cb.onLog = [&](const StepRecord &r) {
      if (r.step == 6)
        cancel = true;
    };
    const auto first = runTextTraining(b, {}, cb, &cancel);
    QVERIFY2(first.state == RunState::Cancelled, first.message.c_str());
    QCOMPARE(first.steps, std::int64_t(6));
    QVERIFY(QFile::exists(tmp.filePath("b/checkpoints/step-6/trainer_state.json")));
    const auto second = runTextTraining(b, {true, false}, {});
    QVERIFY2(second.state == RunState::Finished, second.message.c_str());
    const auto la = trainingLines(a.outputDir), lb = trainingLines(b.outputDir);
    QCOMPARE(lb.size(), la.size());
    for (std::size_t i = 0; i < la.size(); ++i) {
      QCOMPARE(lb[i]["step"].get<int>(), la[i]["step"].get<int>());
      QVERIFY2(std::abs(lb[i]["loss"].get<double>() - la[i]["loss"].get<double>()) < 1e-6,
               ("step " + std::to_string(i + 1)).c_str());
    }
  }

  // The same train_file path holding other pairs at resume time: refused, naming the data.
  void resumeRefusesChangedTrainingData() {
    QTemporaryDir tmp;
    const auto data = tmp.filePath("pairs.jsonl").toStdString();
    QVERIFY(QFile::copy(PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl", QString::fromStdString(data)));
    auto c = tinyConfig(tmp.filePath("run"));
    c.trainFile = data;
    c.maxSteps = 8;
    std::atomic<bool> cancel{false};
    TrainerCallbacks cb;
    cb.onLog = [&](const StepRecord &r) { cancel = r.step >= 4; };
    QCOMPARE(runTextTraining(c, {}, cb, &cancel).state, RunState::Cancelled);
    auto lines = readFile(data);
    lines.replace(lines.find("was lovely"), 10, "was superb"); // one pair's chosen changes
    writeFileAtomic(data, lines);
    // A refused resume leaves the folder as it was: every file's bytes, no new files.
    auto snapshot = [&] {
      std::map<std::string, std::string> files;
      for (const auto &e : std::filesystem::recursive_directory_iterator(c.outputDir))
        if (e.is_regular_file())
          files[e.path().string()] = readFile(e.path().string());
      return files;
    };
    const auto before = snapshot();
    c.threads = 2; // a free key, so that config.yaml would differ if it were rewritten
    const auto resumed = runTextTraining(c, {true, false}, {});
    QCOMPARE(resumed.state, RunState::Failed);
    QVERIFY2(resumed.message.find("train_data") != std::string::npos, resumed.message.c_str());
    const auto after = snapshot();
    QCOMPARE(after.size(), before.size());
    for (const auto &[path, bytes] : before)
      QVERIFY2(after.count(path) && after.at(path) == bytes, path.c_str());
  }

  // Running out of memory past the config checks names the keys that lower it, without
  // LibTorch's frames or its byte count as the whole message.
  void outOfMemoryNamesTheKeys() {
    const auto fromTorch = summaryOrFailure({}, []() -> RunSummary {
      TORCH_CHECK(false,
                  "DefaultCPUAllocator: can't allocate memory: you tried to allocate 1028000000000 bytes.");
    });
    QCOMPARE(fromTorch.state, RunState::Failed);
    QVERIFY2(fromTorch.message.rfind("out of memory (DefaultCPUAllocator", 0) == 0,
             fromTorch.message.c_str());
    QVERIFY2(fromTorch.message.find("'per_device_train_batch_size'") != std::string::npos,
             fromTorch.message.c_str());
    QVERIFY(fromTorch.message.find("Exception raised from") == std::string::npos);
    const auto fromNew = summaryOrFailure({}, []() -> RunSummary { throw std::bad_alloc(); });
    QCOMPARE(fromNew.state, RunState::Failed);
    QVERIFY2(fromNew.message.find("out of memory: lower 'per_device_train_batch_size'") == 0,
             fromNew.message.c_str());
  }

  // A resume with another shard count (threads) continues, and says its steps match an
  // uninterrupted run only up to rounding; the accepted resume rewrites config.yaml.
  void resumeWithOtherShardCountWarns() {
    QTemporaryDir tmp;
    auto c = tinyConfig(tmp.filePath("run"));
    c.maxSteps = 8;
    std::atomic<bool> cancel{false};
    TrainerCallbacks cb;
    cb.onLog = [&](const StepRecord &r) { cancel = r.step >= 4; };
    QCOMPARE(runTextTraining(c, {}, cb, &cancel).state, RunState::Cancelled);
    c.threads = 2;
    std::vector<std::string> messages;
    TrainerCallbacks listen;
    listen.onMessage = [&](const std::string &m) { messages.push_back(m); };
    const auto resumed = runTextTraining(c, {true, false}, listen);
    QVERIFY2(resumed.state == RunState::Finished, resumed.message.c_str());
    QVERIFY(std::any_of(messages.begin(), messages.end(), [](const std::string &m) {
      return m.find("batch_shards 1, this run has 2") != std::string::npos;
    }));
    QVERIFY(readFile(c.outputDir + "/config.yaml").find("threads: 2") != std::string::npos);
  }

  // threads: 2 splits every batch into two shards on two threads; the losses must match the
  // one-thread run to float-summation precision, and two sharded runs must match bit for bit.
  void shardedStepsMatchOneThread() {
    QTemporaryDir tmp;
    auto one = tinyConfig(tmp.filePath("one"));
    auto two = tinyConfig(tmp.filePath("two"));
    auto again = tinyConfig(tmp.filePath("again"));
    two.threads = again.threads = 2;
    std::vector<std::string> messages;
    TrainerCallbacks cb;
    cb.onMessage = [&](const std::string &m) { messages.push_back(m); };
    QVERIFY(runTextTraining(one, {}, cb).state == RunState::Finished);
    QVERIFY(std::none_of(messages.begin(), messages.end(),
                         [](const std::string &m) { return m.find("CPU threads") != std::string::npos; }));
    QVERIFY(runTextTraining(two, {}, cb).state == RunState::Finished);
    QVERIFY(std::find(messages.begin(), messages.end(), "training batches split across 2 CPU threads") !=
            messages.end());
    QVERIFY(runTextTraining(again, {}, {}).state == RunState::Finished);
    const auto l1 = trainingLines(one.outputDir), l2 = trainingLines(two.outputDir),
               l3 = trainingLines(again.outputDir);
    QCOMPARE(l2.size(), l1.size());
    QCOMPARE(l3.size(), l1.size());
    for (std::size_t i = 0; i < l1.size(); ++i) {
      for (const char *key : {"loss", "rewards/margins", "logps/chosen", "grad_norm"})
        QVERIFY2(std::abs(l2[i][key].get<double>() - l1[i][key].get<double>()) <
                     1e-4 * (1.0 + std::abs(l1[i][key].get<double>())),
                 (std::string(key) + " at step " + std::to_string(i + 1)).c_str());
      QCOMPARE(l3[i]["loss"].get<double>(), l2[i]["loss"].get<double>());
    }
  }

  // SFT's loss is per token: split into micro-batches (or evaluation batches) it must still be
  // Σ NLL / Σ tokens of the whole batch, not a mean of per-batch token means.
  void sftIsTokenWeightedAcrossBatches() {
    QTemporaryDir tmp;
    std::map<std::string, double> logged, evaluated;
    for (const char *name : {"one", "split"}) {
      auto c = tinyConfig(tmp.filePath(name));
      c.lossType = "sft";
      c.maxSteps = 1;
      c.trainFile = PREFLAB_TEST_DATA_DIR "/empty_prompt/pairs.jsonl"; // chosen of 5 to 22 bytes
      c.evalFile = c.trainFile;
      const bool split = std::string(name) == "split";
      c.perDeviceTrainBatchSize = split ? 2 : 4;
      c.gradientAccumulationSteps = split ? 2 : 1;
      c.perDeviceEvalBatchSize = split ? 3 : 64;
      const auto s = runTextTraining(c, {}, {});
      QVERIFY2(s.state == RunState::Finished, s.message.c_str());
      for (const auto &line : readMetricsFile(c.outputDir + "/metrics.jsonl")) {
        if (line.contains("loss")) {
          if (logged.count("loss")) {
            QVERIFY2(std::abs(line["loss"].get<double>() - logged["loss"]) < 1e-6,
                     qPrintable(QString("%1 vs %2").arg(line["loss"].get<double>()).arg(logged["loss"])));
            QVERIFY(std::abs(line["grad_norm"].get<double>() - logged["grad_norm"]) < 1e-5);
          }
          logged["loss"] = line["loss"].get<double>();
          logged["grad_norm"] = line["grad_norm"].get<double>();
        }
        if (line.contains("eval/loss")) {
          if (evaluated.count("loss"))
            QVERIFY2(std::abs(line["eval/loss"].get<double>() - evaluated["loss"]) < 1e-6,
                     qPrintable(QString("%1 vs %2").arg(line["eval/loss"].get<double>()).arg(evaluated["loss"])));
          evaluated["loss"] = line["eval/loss"].get<double>();
        }
      }
    }
    QVERIFY(logged.count("loss") && evaluated.count("loss"));
  }

  void pauseWaitsAndResumes() {
    QTemporaryDir tmp;
    auto c = tinyConfig(tmp.filePath("run"));
    std::atomic<bool> pause{false}, cancel{false};
    std::atomic<int> pausedMessages{0};
    std::atomic<std::int64_t> stepWhenResumed{-1};
    TrainerCallbacks cb;
    cb.onLog = [&](const StepRecord &r) {
      if (r.step == 3)
        pause = true;
    };
    cb.onMessage = [&](const std::string &m) {
      if (m.rfind("paused", 0) == 0) {
        ++pausedMessages;
        // status.json says "paused" while the run waits; then let it go on.
        const auto status = nlohmann::json::parse(readFile(c.outputDir + "/status.json"));
        stepWhenResumed = status["message"] == "paused" ? status["step"].get<std::int64_t>() : -2;
        pause = false;
      }
    };
    const auto s = runTextTraining(c, {}, cb, &cancel, &pause);
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    QCOMPARE(pausedMessages.load(), 1);
    QCOMPARE(stepWhenResumed.load(), std::int64_t(3));
    QCOMPARE(s.steps, c.maxSteps);
  }

  void nonFiniteLossStopsAndKeepsLastCheckpoint() {
    QTemporaryDir tmp;
    auto c = tinyConfig(tmp.filePath("run"));
    c.learningRate = 1e30;
    c.saveSteps = 1;
    c.maxGradNorm = 0;
    const auto s = runTextTraining(c, {}, {});
    QCOMPARE(runStateName(s.state), std::string("failed"));
    QVERIFY2(s.message.find("non-finite") != std::string::npos, s.message.c_str());
    QVERIFY2(s.message.find("last good checkpoint: step-") != std::string::npos, s.message.c_str());
    const auto status = nlohmann::json::parse(readFile(c.outputDir + "/status.json"));
    QCOMPARE(status["state"].get<std::string>(), std::string("failed"));
  }

  void badInputFailsWithItsName_data() {
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown objective") << "loss_type"
                                       << "dpoo"
                                       << "loss_type";
    QTest::newRow("missing file") << "train_file"
                                  << "/nonexistent/pairs.jsonl"
                                  << "/nonexistent/pairs.jsonl";
    QTest::newRow("broken file") << "train_file" << PREFLAB_TEST_DATA_DIR "/truncated_line/input.jsonl"
                                 << "input.jsonl:";
    QTest::newRow("max_length over block") << "max_length"
                                           << "64"
                                           << "max_length";
  }
  void badInputFailsWithItsName() {
    QFETCH(QString, key);
    QFETCH(QString, value);
    QFETCH(QString, expected);
    QTemporaryDir tmp;
    auto c = tinyConfig(tmp.filePath("run"));
    applyOverride(c, (key + "=" + value).toStdString());
    const auto s = runTextTraining(c, {}, {});
    QCOMPARE(runStateName(s.state), std::string("failed"));
    QVERIFY2(s.message.find(expected.toStdString()) != std::string::npos, s.message.c_str());
  }

  void everyObjectiveTrains_data() {
    QTest::addColumn<QString>("name");
    for (const auto &info : objectiveInfos(preflab::core::Modality::Text))
      QTest::newRow(info.name.c_str()) << QString::fromStdString(info.name);
  }
  void everyObjectiveTrains() {
    QFETCH(QString, name);
    QTemporaryDir tmp;
    auto c = tinyConfig(tmp.filePath("run"));
    c.lossType = name.toStdString();
    c.beta = objectiveInfo(c.lossType).defaultBeta() > 0 ? objectiveInfo(c.lossType).defaultBeta() : 0.1;
    c.maxSteps = 3;
    const auto s = runTextTraining(c, {}, {});
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    QVERIFY(std::isfinite(s.lastMetrics.at("loss")));
    QVERIFY(QFile::exists(tmp.filePath("run/hf/model.safetensors")));
  }
};

PREFLAB_TEST_MAIN(TestPreferenceTrainer)

} // namespace preflab_tests
#include "tst_preference_trainer.moc"
