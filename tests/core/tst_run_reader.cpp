// Tests the one run-folder reader: kinds, config for every kind, status, run info, checkpoints,
// grids, models and malformed files, on folders laid out by RunFolder as runs write them.
#include "core/api/run_reader.h"
#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/train/run_folder.h"

#include "tests/core/test_files.h"
#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;
using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

void touch(const std::string &path, const std::string &text = "x") {
  fs::create_directories(fs::path(path).parent_path());
  writeFileAtomic(path, text);
}

} // namespace

class TestRunReader : public QObject {
  Q_OBJECT

private Q_SLOTS:
  // A Hugging Face Trainer output folder (tests/data/hf_trainer): the newest checkpoint's
  // log_history under PrefLab's names, Python's NaN read as NaN.
  void huggingFaceTrainerFolder() {
    const std::string dir = PREFLAB_TEST_DATA_DIR "/hf_trainer";
    QVERIFY(RunReader::isRunFolder(dir));
    QCOMPARE(trainerStatePath(dir), dir + "/checkpoint-4/trainer_state.json");
    const auto state = parseTrainerState(readFile(trainerStatePath(dir)), "s.json");
    QCOMPARE(state.globalStep, std::int64_t(4));
    QCOMPARE(state.maxSteps, std::int64_t(4));
    QCOMPARE(state.lines.size(), std::size_t(7));
    QCOMPARE(state.lines[0].step, 1.0);
    QCOMPARE(state.lines[0].metrics.at("rewards/margins"), 0.0);
    QVERIFY(std::isnan(state.lines[1].metrics.at("grad_norm")));
    QCOMPARE(state.lines[2].metrics.at("eval/rewards/accuracies"), 0.625);
    QCOMPARE(state.lines[2].metrics.at("eval/loss"), 0.6745);
    QVERIFY(!state.lines[2].metrics.count("eval_loss"));
    QCOMPARE(state.lines[6].metrics.at("train/loss"), 0.6687);
    const auto lines = RunReader(dir).metrics();
    QCOMPARE(lines.size(), std::size_t(7));
    QVERIFY(lines[1]["grad_norm"].is_null());
    QCOMPARE(lines[5]["eval/rewards/accuracies"].get<double>(), 0.75);
  }

  // Another tool's TensorBoard log dir (runs/<date>_<host>/events...): one line per step, the
  // Trainer's "train/" prefix dropped.
  void tensorBoardLogDirOfAnotherTool() {
    const std::string dir = PREFLAB_TEST_DATA_DIR "/tensorboard/trl_logdir";
    QVERIFY(RunReader::isRunFolder(dir));
    QCOMPARE(tensorBoardEventFiles(dir).size(), std::size_t(1));
    const auto lines = RunReader(dir).metrics();
    QCOMPARE(lines.size(), std::size_t(3));
    QCOMPARE(lines[2]["step"].get<std::int64_t>(), std::int64_t(3));
    QCOMPARE(lines[2]["loss"].get<double>(), double(0.6604f));
    QCOMPARE(lines[2]["eval/loss"].get<double>(), double(0.6612f));
    QCOMPARE(lines[1]["rewards/accuracies"].get<double>(), 0.75);
    QVERIFY(!lines[0].contains("train/loss"));
  }

  void trainerStateErrorsAndSkips() {
    QVERIFY_THROWS_EXCEPTION(InputError, parseTrainerState("[1]", "s.json"));
    try {
      parseTrainerState("{\"global_step\": 3}", "s.json");
      QFAIL("no log_history must be refused");
    } catch (const InputError &e) {
      QCOMPARE(e.key(), std::string("log_history"));
      QVERIFY(std::string(e.what()).find("s.json") != std::string::npos);
    }
    const auto state =
        parseTrainerState(R"({"log_history": [{"loss": 1}, 3, {"step": -1}, {"step": 2, "loss": Infinity,
                             "note": "NaN stays text", "eval_x": -Infinity}]})",
                          "s.json");
    QCOMPARE(state.skipped, std::size_t(3));
    QCOMPARE(state.lines.size(), std::size_t(1));
    QVERIFY(std::isnan(state.lines[0].metrics.at("loss")));
    QVERIFY(std::isnan(state.lines[0].metrics.at("eval/x")));
    QVERIFY(!state.lines[0].metrics.count("note"));
  }

  void prefLabCheckpointStateIsNotATrainerFolder() {
    QTemporaryDir tmp;
    QDir(tmp.path()).mkpath("checkpoint-3");
    writeFileAtomic(tmp.filePath("checkpoint-3/trainer_state.json").toStdString(), "{\"global_step\": 3}\n");
    QVERIFY(trainerStatePath(tmp.path().toStdString()).empty());
    QVERIFY(!RunReader::isRunFolder(tmp.path().toStdString()));
  }

  void textRunFolder() {
    QTemporaryDir tmp;
    const auto dir = tmp.filePath("run").toStdString();
    RunFolder folder(dir);
    folder.writeConfig(
        "# resolved\ntask: sentiment\nloss_type: ipo\nbeta: 0.25\nmodel:\n  n_layer: 2\n  n_head: 4\n");
    folder.appendMetrics(1, {{"loss", 0.69}, {"grad_norm", std::nan("")}});
    folder.writeStatus(RunState::Running, "training", 1, 10);
    writeFileAtomic(dir + "/run_info.json", nlohmann::json{{"task", "sentiment"},
                                                           {"loss_type", "ipo"},
                                                           {"reference_model", dir + "/ref"},
                                                           {"policy_final", dir + "/hf"}}
                                                .dump());
    fs::create_directories(dir + "/ref");
    fs::create_directories(dir + "/hf");
    touch(dir + "/checkpoints/step-5/trainer_state.json", "{}");
    touch(dir + "/checkpoints/step-10/trainer_state.json", "{}");
    touch(dir + "/checkpoints/step-15.tmp/trainer_state.json", "{}"); // being written
    fs::create_directories(dir + "/checkpoints/step-20");             // no trainer_state.json
    touch(dir + "/eval/pairs.jsonl", "{}\n");

    QVERIFY(RunReader::isRunFolder(dir));
    const RunReader r(dir);
    QCOMPARE(runKindName(r.kind()), std::string("text"));
    QCOMPARE(r.lossType(), std::string("ipo"));
    QCOMPARE(r.beta(), 0.25);
    QCOMPARE(r.configValue("model.n_head"), std::string("4"));
    QCOMPARE(r.status()->state, std::string("running"));
    QCOMPARE(r.status()->maxSteps, std::int64_t(10));
    const auto cps = r.checkpoints();
    QCOMPARE(cps.size(), std::size_t(2));
    QCOMPARE(cps.front().step, std::int64_t(5));
    QCOMPARE(cps.back().step, std::int64_t(10));
    QVERIFY(!r.pairsFile().empty());
    const auto models = r.models();
    QCOMPARE(models.size(), std::size_t(4)); // hf, step-10, step-5, reference
    QCOMPARE(models[0].label, std::string("hf"));
    QCOMPARE(models[1].label, std::string("step-10"));
    QCOMPARE(models[3].role, RunModelEntry::Role::Reference);
    QVERIFY(!models[0].image);
    const auto rows = r.metrics();
    QCOMPARE(rows.size(), std::size_t(1));
    QVERIFY(rows[0]["grad_norm"].is_null());
  }

  void imageRunFolderWithRelativePolicy() {
    QTemporaryDir tmp;
    const auto dir = tmp.filePath("image").toStdString();
    RunFolder folder(dir);
    folder.writeConfig(
        "task: text-to-image\ntrain_file: fashion-mnist\neval_fraction: 0.1\nloss_type: dspo\nbeta: 0.05\n");
    writeFileAtomic(dir + "/run_info.json",
                    R"({"task": "text-to-image", "loss_type": "dspo", "policy_final": "model"})");
    fs::create_directories(dir + "/model");
    for (int step : {100, 20, 3})
      touch(dir + "/samples/grid-step-" + std::to_string(step) + ".png");
    touch(dir + "/samples/grid.png");
    touch(dir + "/samples/grid-step-x.png");
    writeFileAtomic(dir + "/eval/summary.json", R"({"eval/win_rate": 0.75})");
    const RunReader r(dir);
    QVERIFY(r.isImageRun());
    QCOMPARE(r.lossType(), std::string("dspo"));
    const auto grids = r.grids();
    QCOMPARE(grids.size(), std::size_t(3));
    QCOMPARE(grids.front().step, std::int64_t(3));
    QCOMPARE(grids.back().step, std::int64_t(100));
    QCOMPARE(r.runInfo()->policyFinal, fs::absolute(dir + "/model").lexically_normal().string());
    QCOMPARE(r.finalModel(), r.runInfo()->policyFinal);
    QVERIFY(r.models().front().image);
    QCOMPARE(r.evalSummary()["eval/win_rate"].get<double>(), 0.75);
    QVERIFY(r.evalSamples().empty()); // no oracle samples written
    // With an oracle: one object per sample; a torn last line (a file being rewritten) is skipped.
    writeFileAtomic(dir + "/eval/samples.jsonl",
                    "{\"prompt\": \"a photo of a bag\", \"seed\": 7, \"reward\": 1.25}\n{\"prompt\": \"a ph");
    const auto samples = r.evalSamples();
    QCOMPARE(samples.size(), std::size_t(1));
    QCOMPARE(samples[0]["seed"].get<int>(), 7);
    QCOMPARE(samples[0]["reward"].get<double>(), 1.25);
  }

  // An MPO run names the policies its mixture mixes; relative names are taken from the folder.
  void mixingRunListsItsComponents() {
    QTemporaryDir tmp;
    const auto dir = tmp.filePath("mix").toStdString();
    fs::create_directories(dir);
    writeFileAtomic(dir + "/run_info.json",
                    R"({"task": "sentiment", "trainer": "mpo", "policy_final": "mixture",
                        "components": ["/abs/a", "b"], "discriminator": null})");
    const RunReader r(dir);
    const auto info = r.runInfo();
    QCOMPARE(info->trainer, std::string("mpo"));
    QCOMPARE(info->components.size(), std::size_t(2));
    QCOMPARE(info->components[0], std::string("/abs/a"));
    QCOMPARE(info->components[1], fs::absolute(dir + "/b").lexically_normal().string());
    QVERIFY(info->discriminator.empty());
    writeFileAtomic(dir + "/run_info.json", R"({"components": "a"})");
    QVERIFY(preflab::test::inputErrorOf([&] { r.runInfo(); }).find("components") != std::string::npos);
  }

  void pretrainingFolderHasAFlowMapConfig() {
    QTemporaryDir tmp;
    const auto dir = tmp.filePath("pre").toStdString();
    RunFolder folder(dir);
    folder.writeConfig("task: pretrain-diffusion\nsteps: 5\nmodel: {\"base_channels\":16,\"channels\":1}\n");
    const RunReader r(dir);
    QCOMPARE(runKindName(r.kind()), std::string("pretrain-diffusion"));
    QCOMPARE(r.configValue("model.base_channels"), std::string("16"));
    QVERIFY(std::isnan(r.beta()));
  }

  void malformedFilesAreReportedNotFatal() {
    QTemporaryDir tmp;
    const auto dir = tmp.filePath("bad").toStdString();
    fs::create_directories(dir);
    QVERIFY(!RunReader::isRunFolder(dir));
    writeFileAtomic(dir + "/config.yaml", "loss_type: [dpo\n");
    writeFileAtomic(dir + "/status.json", "{\"state\": \"run");
    writeFileAtomic(dir + "/run_info.json", "[1, 2]");
    touch(dir + "/eval/summary.json", "nope");
    QVERIFY(RunReader::isRunFolder(dir));
    const RunReader r(dir);
    QVERIFY(r.configValues().empty());
    QVERIFY2(r.configError().find("config.yaml:") != std::string::npos, r.configError().c_str());
    QVERIFY(!r.status());
    QVERIFY_THROWS_EXCEPTION(InputError, r.runInfo());
    QVERIFY(r.evalSummary().empty());
    QVERIFY(r.models().empty());
    QCOMPARE(r.kind(), RunKind::TextPreference); // run_info.json exists: a text run's file
  }

  void metricsLinesParse_data() {
    QTest::addColumn<QString>("line");
    QTest::addColumn<QString>("reason");
    QTest::newRow("record") << R"({"step": 3, "loss": 0.5, "time": 17})"
                            << "";
    QTest::newRow("null is NaN") << R"({"step": 3, "loss": null})"
                                 << "";
    QTest::newRow("not json") << "{\"step\": 3, \"lo"
                              << "not valid JSON"; // escaped, not raw: moc mis-lexes an unbalanced raw string
    QTest::newRow("array") << "[1]"
                           << "not a JSON object";
    QTest::newRow("no step") << R"({"loss": 1})"
                             << "no numeric \"step\"";
    QTest::newRow("text step") << R"({"step": "3"})"
                               << "no numeric \"step\"";
    QTest::newRow("negative step") << R"({"step": -9.2e18, "loss": 1})"
                                   << "\"step\" out of range";
    QTest::newRow("huge step") << R"({"step": 1e300, "loss": 1})"
                               << "\"step\" out of range";
  }
  void metricsLinesParse() {
    QFETCH(QString, line);
    QFETCH(QString, reason);
    std::string why;
    const auto parsed = parseMetricsLine(line.toStdString(), &why);
    QCOMPARE(!parsed, !reason.isEmpty());
    QCOMPARE(QString::fromStdString(why), reason);
    if (parsed) {
      QCOMPARE(parsed->step, 3.0);
      QVERIFY(parsed->metrics.count("loss"));
    }
  }
};

PREFLAB_TEST_MAIN(TestRunReader)

} // namespace preflab_tests
#include "tst_run_reader.moc"
