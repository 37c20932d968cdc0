// Tests the output-folder checks every run goes through: a lock against a second writer, nothing
// deleted that is not a PrefLab run (nor the current directory), and a resume refused before it
// writes anything when the config would change what is trained.
#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/jobs/run_folder_guard.h"
#include "core/jobs/text_training.h"
#include "core/train/run_folder.h"

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <filesystem>

using namespace preflab::core;
namespace fs = std::filesystem;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

// Runs `body`, which must throw InputError mentioning `expected`.
template <typename Body> void expectRefusal(Body body, const std::string &expected) {
  try {
    body();
    QFAIL(("accepted; expected a refusal mentioning: " + expected).c_str());
  } catch (const InputError &e) {
    QVERIFY2(std::string(e.what()).find(expected) != std::string::npos, e.what());
  }
}

// A folder that looks like a finished run, plus a file of the user's.
void makeRun(const std::string &dir, const std::string &config = "loss_type: dpo\nbeta: 0.1\n") {
  fs::create_directories(dir + "/checkpoints/step-4");
  writeFileAtomic(dir + "/config.yaml", config);
  writeFileAtomic(dir + "/status.json", R"({"state": "finished"})");
  writeFileAtomic(dir + "/metrics.jsonl", "{\"step\": 1, \"loss\": 0.69}\n");
  writeFileAtomic(dir + "/notes.txt", "mine");
}

} // namespace

class TestRunFolderGuard : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void overwriteDeletesOnlyRunEntries() {
    QTemporaryDir tmp;
    const auto dir = tmp.filePath("run").toStdString();
    makeRun(dir);
    { auto lock = claimOutputDir(dir, RunOptions{false, true}, "loss_type: dpo\n"); }
    QVERIFY(!fs::exists(dir + "/metrics.jsonl"));
    QVERIFY(!fs::exists(dir + "/checkpoints"));
    QCOMPARE(readFile(dir + "/notes.txt"), std::string("mine"));
  }

  void overwriteRefusesWhatIsNotARun() {
    QTemporaryDir tmp;
    const auto dir = tmp.filePath("data").toStdString();
    fs::create_directories(dir);
    writeFileAtomic(dir + "/pairs.jsonl", "{}\n");
    expectRefusal([&] { claimOutputDir(dir, RunOptions{false, true}, ""); }, "is not a PrefLab run folder");
    QVERIFY(fs::exists(dir + "/pairs.jsonl"));
    // Without --overwrite a non-empty folder is not mixed with run files either.
    expectRefusal([&] { claimOutputDir(dir, RunOptions{}, ""); }, "is not empty and is not a PrefLab run");
  }

  void overwriteRefusesTheWorkingDirectory() {
    QTemporaryDir tmp;
    const auto dir = tmp.filePath("run").toStdString();
    makeRun(dir);
    const auto before = fs::current_path();
    fs::current_path(dir);
    expectRefusal([&] { claimOutputDir(".", RunOptions{false, true}, ""); }, "is the current directory");
    expectRefusal([&] { claimOutputDir("..", RunOptions{false, true}, ""); }, "is the current directory");
    fs::current_path(before);
    QVERIFY(fs::exists(dir + "/config.yaml"));
  }

  void secondWriterIsRefused() {
    QTemporaryDir tmp;
    const auto dir = tmp.filePath("run").toStdString();
    auto first = claimOutputDir(dir, RunOptions{}, "");
    expectRefusal([&] { claimOutputDir(dir, RunOptions{}, ""); }, "is in use by another run");
    // --overwrite must not wipe a running run.
    makeRun(dir);
    expectRefusal([&] { claimOutputDir(dir, RunOptions{false, true}, ""); }, "is in use by another run");
    QVERIFY(fs::exists(dir + "/metrics.jsonl"));
    first.reset(); // the run ended: the folder is free again
    QVERIFY(claimOutputDir(dir, RunOptions{true, false}, "loss_type: dpo\nbeta: 0.1\n") != nullptr);
  }

  void resumeNeedsARun() {
    QTemporaryDir tmp;
    const auto dir = tmp.filePath("missing").toStdString();
    expectRefusal([&] { claimOutputDir(dir, RunOptions{true, false}, ""); }, "holds no run to resume");
    QVERIFY(!fs::exists(dir));
  }

  void resumeRefusesAChangedConfigBeforeWriting() {
    QTemporaryDir tmp;
    const auto dir = tmp.filePath("run").toStdString();
    const std::string saved = "loss_type: dpo\nbeta: 0.1\nseed: 3\nthreads: 1\nmodel:\n  n_head: 2\n";
    makeRun(dir, saved);
    const auto status = readFile(dir + "/status.json");
    expectRefusal([&] { claimOutputDir(dir, RunOptions{true, false}, "loss_type: dpo\nbeta: 0.2\nseed: 3\nmodel:\n  n_head: 2\n"); },
                  "key 'beta': a resume must continue the same run, and this config changes beta 0.1 -> 0.2");
    expectRefusal([&] { claimOutputDir(dir, RunOptions{true, false}, "loss_type: dpo\nbeta: 0.1\nseed: 3\nmodel:\n  n_head: 4\n"); },
                  "model.n_head 2 -> 4");
    QCOMPARE(readFile(dir + "/config.yaml"), saved);
    QCOMPARE(readFile(dir + "/status.json"), status);
    // Keys that do not change what is trained may differ.
    QVERIFY(claimOutputDir(dir, RunOptions{true, false},
                           "loss_type: dpo\nbeta: 0.1\nseed: 3\nthreads: 2\nmodel:\n  n_head: 2\n") != nullptr);
  }

  // A run killed in its final evaluation is resumed from its last checkpoint and evaluates again:
  // the evaluation lines of that step are logged once.
  void finalEvaluationIsNotLoggedTwice() {
    QTemporaryDir tmp;
    RunFolder folder(tmp.filePath("run").toStdString());
    folder.appendMetrics(4, {{"loss", 0.5}});
    folder.appendMetrics(4, {{"eval/loss", 0.6}});
    folder.appendMetrics(5, {{"loss", 0.4}});
    folder.truncateMetricsAfter(4, false); // mid-run: the evaluation at 4 is not redone, so kept
    QCOMPARE(readMetricsFile(folder.path("metrics.jsonl")).size(), std::size_t(2));
    folder.truncateMetricsAfter(4, true);
    const auto lines = readMetricsFile(folder.path("metrics.jsonl"));
    QCOMPARE(lines.size(), std::size_t(1));
    QVERIFY(lines[0].contains("loss"));
  }
};

PREFLAB_TEST_MAIN(TestRunFolderGuard)

} // namespace preflab_tests
#include "tst_run_folder_guard.moc"
