// Tests sweep files: the grid's product and order, listed runs, folder names, and errors that name
// the file, line and key.
#include "core/api/sweeps.h"
#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/train/sweep_spec.h"

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <filesystem>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

// A finished run folder as a run writes it: config, status, metrics and the final evaluation.
void writeRun(const std::string &dir, const std::string &config, double loss, double winRate) {
  std::filesystem::create_directories(dir + "/eval");
  writeFileAtomic(dir + "/config.yaml", config);
  writeFileAtomic(dir + "/status.json", R"({"state": "finished", "step": 20, "max_steps": 20})");
  writeFileAtomic(dir + "/metrics.jsonl", "{\"step\": 10, \"loss\": 0.9, \"eval/kl\": 1.0}\n"
                                          "{\"step\": 20, \"loss\": " +
                                              std::to_string(loss) + "}\n");
  writeFileAtomic(dir + "/eval/summary.json",
                  "{\"eval/win_rate\": " + std::to_string(winRate) + ", \"steps\": 20, \"seconds\": 3.5}");
}

QString errorOf(const std::string &text) {
  try {
    parseSweepSpec(text, "/tmp/s/sweep.yaml");
  } catch (const InputError &e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

} // namespace

class TestSweepSpec : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void gridIsTheProductFirstKeySlowest() {
    const auto spec = parseSweepSpec("base: dpo.yaml\n"
                                     "grid:\n"
                                     "  beta: [0.03, 0.1, 1]\n"
                                     "  loss_type: [dpo, ipo]\n"
                                     "runs:\n"
                                     "  - {beta: 0.1, loss_type: simper, model.n_layer: 2}\n",
                                     "/tmp/s/sweep.yaml");
    QCOMPARE(spec.base, std::string("/tmp/s/dpo.yaml"));
    QCOMPARE(spec.outputDir, std::string("runs/sweep"));
    QCOMPARE(spec.points.size(), std::size_t(7));
    QCOMPARE(spec.points[0].name, std::string("beta=0.03,loss_type=dpo"));
    QCOMPARE(spec.points[1].name, std::string("beta=0.03,loss_type=ipo"));
    QCOMPARE(spec.points[5].name, std::string("beta=1,loss_type=ipo"));
    QCOMPARE(spec.points[6].name, std::string("beta=0.1,loss_type=simper,model.n_layer=2"));
    QCOMPARE(spec.points[6].overrides.size(), std::size_t(3));
    QCOMPARE(spec.points[6].overrides[2].first, std::string("model.n_layer"));
    QCOMPARE(spec.points[6].overrides[2].second, std::string("2"));
  }

  void outputDirAndFolderNames() {
    const auto spec = parseSweepSpec(
        "base: ../c.yaml\noutput_dir: runs/x\nruns:\n  - {train_file: a/b c.jsonl}\n", "/tmp/s/sweep.yaml");
    QCOMPARE(spec.base, std::string("/tmp/c.yaml"));
    QCOMPARE(spec.outputDir, std::string("runs/x"));
    QCOMPARE(spec.points[0].name, std::string("train_file=a_b_c.jsonl")); // no path separators
    QCOMPARE(spec.points[0].overrides[0].second, std::string("a/b c.jsonl"));
  }

  void errorsNameFileLineAndKey_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");
    QTest::newRow("no base") << "grid:\n  beta: [1]\n"
                             << "key 'base': missing";
    QTest::newRow("grid value not a list") << "base: a.yaml\ngrid:\n  beta: 0.1\n"
                                           << "sweep.yaml:3: key 'beta': a grid key takes a non-empty list";
    QTest::newRow("empty list") << "base: a.yaml\ngrid:\n  beta: []\n"
                                << "key 'beta'";
    QTest::newRow("nested value") << "base: a.yaml\ngrid:\n  beta: [[1, 2]]\n"
                                  << "key 'beta': a value must be";
    QTest::newRow("run not a mapping") << "base: a.yaml\nruns:\n  - 3\n"
                                       << "sweep.yaml:3: key 'runs'";
    QTest::newRow("the same point twice") << "base: a.yaml\ngrid:\n  beta: [1, 1]\n"
                                          << "the same run (beta=1)";
    QTest::newRow("no points") << "base: a.yaml\n"
                               << "no points";
    QTest::newRow("unknown key") << "base: a.yaml\ngird:\n  beta: [1]\n"
                                 << "sweep.yaml:2: key 'gird': unknown key";
    QTest::newRow("YAML syntax") << "base: a.yaml\ngrid: [1,\n"
                                 << "YAML syntax error";
    QTest::newRow("not a mapping") << "- 1\n"
                                   << "a sweep file is a mapping";
  }
  void errorsNameFileLineAndKey() {
    QFETCH(QString, text);
    QFETCH(QString, expected);
    const auto error = errorOf(text.toStdString());
    QVERIFY2(error.contains(expected), qPrintable(error));
    QVERIFY2(error.contains("sweep.yaml"), qPrintable(error));
  }

  void sweepFolderReadsEveryPointAsItsRunFolderSays() {
    QTemporaryDir tmp;
    const auto root = tmp.path().toStdString() + "/sweep";
    const auto spec =
        parseSweepSpec("base: dpo.yaml\noutput_dir: " + root +
                           "\ngrid:\n  beta: [0.1, 0.3]\nruns:\n  - {beta: 1, loss_type: ipo}\n",
                       tmp.path().toStdString() + "/s.yaml");
    writeSweepPlan(spec, {"max_steps=20"});
    QVERIFY(isSweepFolder(root));
    writeRun(root + "/beta=0.1", "beta: 0.1\n", 0.5, 0.75);
    writeRun(root + "/beta=0.3", "beta: 0.3\n", 0.4, 0.8);
    const auto rows = readSweepFolder(root);
    QCOMPARE(rows.size(), std::size_t(3));
    QCOMPARE(rows[0].name, std::string("beta=0.1"));
    QCOMPARE(rows[0].state, std::string("finished"));
    QCOMPARE(rows[0].values.size(), std::size_t(1));
    QCOMPARE(rows[0].values[0].first, std::string("beta"));
    QCOMPARE(rows[0].values[0].second, std::string("0.1"));
    // The last value of each metric, the final evaluation over it; steps and seconds are not metrics.
    QCOMPARE(rows[1].metrics.at("loss"), 0.4);
    QCOMPARE(rows[1].metrics.at("eval/kl"), 1.0);
    QCOMPARE(rows[1].metrics.at("eval/win_rate"), 0.8);
    QVERIFY(!rows[1].metrics.count("steps") && !rows[1].metrics.count("step"));
    QCOMPARE(rows[2].state, std::string("queued")); // no folder yet
    QVERIFY(rows[2].metrics.empty());
    QCOMPARE(rows[2].values.size(), std::size_t(2));
    // summary.jsonl: one line per point, the same rows.
    const auto summary = readFile(writeSweepSummary(root, readSweepFolder(root)));
    QCOMPARE(QString::fromStdString(summary).count('\n'), 3);
    const auto first = nlohmann::json::parse(summary.substr(0, summary.find('\n')));
    QCOMPARE(first["overrides"]["beta"].get<std::string>(), std::string("0.1"));
    QCOMPARE(first["metrics"]["eval/win_rate"].get<double>(), 0.75);
    // A plan that is not one names the file and key.
    writeFileAtomic(root + "/sweep.json", R"({"points": [{"name": "../x"}]})");
    try {
      readSweepFolder(root);
      QFAIL("a point outside the folder accepted");
    } catch (const InputError &e) {
      QCOMPARE(e.key(), std::string("points.0.name"));
      QVERIFY(e.file().find("sweep.json") != std::string::npos);
    }
  }

  void aFolderOfRunsShowsTheConfigValuesThatDiffer() {
    QTemporaryDir tmp;
    const auto root = tmp.path().toStdString();
    writeRun(root + "/a", "beta: 0.1\nloss_type: dpo\nseed: 1\noutput_dir: runs/a\n", 0.5, 0.6);
    writeRun(root + "/b", "beta: 0.3\nloss_type: dpo\nseed: 1\noutput_dir: runs/b\n", 0.4, 0.7);
    QVERIFY(!isSweepFolder(root));
    const auto rows = readSweepFolder(root);
    QCOMPARE(rows.size(), std::size_t(2));
    QCOMPARE(rows[1].name, std::string("b"));
    QCOMPARE(rows[1].values.size(), std::size_t(1)); // beta; not loss_type, seed or output_dir
    QCOMPARE(rows[1].values[0].first, std::string("beta"));
    QCOMPARE(rows[1].values[0].second, std::string("0.3"));
    QCOMPARE(rows[1].metrics.at("eval/win_rate"), 0.7);
  }

  void aHugeGridIsRefused() {
    std::string text = "base: a.yaml\ngrid:\n";
    for (const char *key : {"a", "b", "c", "d", "e"})
      text += std::string("  ") + key + ": [1, 2, 3, 4, 5, 6, 7]\n"; // 7^5 = 16807 points
    QVERIFY(errorOf(text).contains("more than 10000 points"));
  }
};

PREFLAB_TEST_MAIN(TestSweepSpec)

} // namespace preflab_tests
#include "tst_sweep_spec.moc"
