// Tests the one training loop on a small least-squares step: the non-finite stop on the loss and on
// the gradient (before the update, weights kept), checkpoints and exact resume, cancel, logging.
#include "tests/test_main.h"

#include <QtTest/QtTest>

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/train/run_folder.h"
#include "core/train/train_loop.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <atomic>
#include <cmath>
#include <limits>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

// Fits w to random targets: each step draws a batch from its own generator, so an exact resume
// needs the generator's state from the checkpoint.
class FitStep final : public TrainStep {
public:
  FitStep()
      : m_generator(at::detail::createCPUGenerator(7)), m_optimizer({m_w}, torch::optim::SGDOptions(0.1)) {}

  std::int64_t poisonGradientAt = -1; // 0-based step whose gradient becomes NaN (finite loss)
  std::int64_t poisonLossAt = -1;     // 0-based step whose loss becomes NaN
  std::int64_t poisonWeightsAt = -1;  // 0-based step that finds the weights NaN (a diverged update)
  torch::Tensor &weights() { return m_w; }

  std::vector<torch::Tensor> parameters() override { return {m_w}; }
  torch::optim::Optimizer &optimizer() override { return m_optimizer; }
  std::map<std::string, torch::Tensor> compute(std::int64_t step) override {
    const auto x = torch::randn({8, 4}, m_generator, torch::TensorOptions(torch::kFloat32));
    if (step == poisonWeightsAt) {
      torch::NoGradGuard noGrad;
      m_w.fill_(std::numeric_limits<float>::infinity());
    }
    auto loss = (x.matmul(m_w) - x.sum(1, true)).pow(2).mean();
    if (step == poisonLossAt)
      loss = loss * std::numeric_limits<float>::quiet_NaN();
    loss.backward();
    if (step == poisonGradientAt)
      m_w.mutable_grad().fill_(std::numeric_limits<float>::quiet_NaN());
    return {{"loss", loss.detach()}, {"w0", m_w.detach()[0][0]}};
  }
  std::map<std::string, double> evaluate(std::int64_t step) override {
    ++evaluations;
    return {{"eval/step", double(step)}};
  }
  void save(const std::string &dir) override {
    torch::save(m_w, dir + "/w.pt");
    torch::save(m_generator.get_state(), dir + "/rng.pt");
  }
  void load(const std::string &dir) override {
    torch::Tensor w, state;
    torch::load(w, dir + "/w.pt");
    torch::NoGradGuard noGrad;
    m_w.copy_(w);
    torch::load(state, dir + "/rng.pt");
    m_generator.set_state(state);
  }
  nlohmann::json identity() const override { return {{"task", "fit"}}; }
  int evaluations = 0;

private:
  torch::Tensor m_w = torch::zeros({4, 1}).set_requires_grad(true);
  at::Generator m_generator;
  torch::optim::SGD m_optimizer;
};

LoopSettings settings(std::int64_t steps) {
  LoopSettings s;
  s.totalSteps = steps;
  s.loggingSteps = 1;
  s.saveSteps = 4;
  s.learningRate = [](std::int64_t step) { return 0.1 / double(step + 1); };
  return s;
}

std::map<std::int64_t, double> losses(const std::string &dir) {
  std::map<std::int64_t, double> out;
  for (const auto &line : readMetricsFile(dir + "/metrics.jsonl"))
    if (line.contains("loss"))
      out[line["step"].get<std::int64_t>()] = line["loss"].get<double>();
  return out;
}

// The test class shares the helpers' unnamed namespace: its lambdas capture FitStep.
class TestTrainLoop : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void nonFiniteGradientStopsBeforeTheUpdate() {
    QTemporaryDir tmp;
    RunFolder folder(tmp.filePath("run").toStdString());
    FitStep step;
    step.poisonGradientAt = 5; // the loss of step 6 is finite, its gradient is not
    TrainLoop loop(settings(10), step, folder);
    std::vector<torch::Tensor> before;
    TrainerCallbacks cb;
    cb.onLog = [&](const StepRecord &r) {
      if (r.step == 5)
        before.push_back(step.weights().detach().clone());
    };
    loop.setCallbacks(cb);
    const auto outcome = loop.run();
    QCOMPARE(outcome.state, RunState::Failed);
    QVERIFY2(outcome.message.find("non-finite gradient norm (nan) at step 6") != std::string::npos,
             outcome.message.c_str());
    QVERIFY2(outcome.message.find("last good checkpoint: step-5") != std::string::npos,
             outcome.message.c_str());
    QCOMPARE(outcome.step, std::int64_t(5));
    QCOMPARE(before.size(), std::size_t(1));
    QVERIFY(torch::equal(step.weights().detach(), before[0])); // the NaN update was not applied
    QVERIFY(torch::isfinite(step.weights()).all().item<bool>());
    // The checkpoint written at the failure holds the good weights.
    torch::Tensor saved;
    torch::load(saved, folder.checkpointDir(5) + "/w.pt");
    QVERIFY(torch::equal(saved, before[0]));
  }

  void nonFiniteLossOnTheFirstStepHasNoCheckpoint() {
    QTemporaryDir tmp;
    RunFolder folder(tmp.filePath("run").toStdString());
    FitStep step;
    step.poisonLossAt = 0;
    TrainLoop loop(settings(10), step, folder);
    const auto outcome = loop.run();
    QCOMPARE(outcome.state, RunState::Failed);
    QVERIFY2(outcome.message.find("non-finite loss (nan) at step 1") != std::string::npos,
             outcome.message.c_str());
    QVERIFY2(outcome.message.find("none") != std::string::npos, outcome.message.c_str());
    QVERIFY(folder.checkpointSteps().empty());
    QVERIFY(torch::equal(step.weights().detach(), torch::zeros({4, 1})));
  }

  void divergedWeightsAreNeverTheLastGoodCheckpoint() {
    QTemporaryDir tmp;
    RunFolder folder(tmp.filePath("run").toStdString());
    FitStep step;
    step.poisonWeightsAt = 6; // the update of step 6 overflowed: step 7 finds them infinite
    TrainLoop loop(settings(10), step, folder);
    const auto outcome = loop.run();
    QCOMPARE(outcome.state, RunState::Failed);
    QVERIFY2(outcome.message.find("last good checkpoint: step-4") != std::string::npos, outcome.message.c_str());
    QCOMPARE(folder.checkpointSteps(), (std::vector<std::int64_t>{4}));
    torch::Tensor saved;
    torch::load(saved, folder.checkpointDir(4) + "/w.pt");
    QVERIFY(torch::isfinite(saved).all().item<bool>());
  }

  void interruptedAndDamagedCheckpointsAreSkipped() {
    QTemporaryDir tmp;
    RunFolder folder(tmp.filePath("run").toStdString());
    {
      FitStep step;
      TrainLoop loop(settings(8), step, folder);
      QCOMPARE(loop.run().state, RunState::Finished);
    }
    // A kill just before the rename leaves a complete-looking step-12.tmp: not a checkpoint.
    std::filesystem::copy(folder.checkpointDir(8), folder.checkpointDir(12) + ".tmp");
    QCOMPARE(folder.checkpointSteps(), (std::vector<std::int64_t>{4, 8}));
    // A damaged newest checkpoint falls back to the older intact one, and says so.
    writeFileAtomic(folder.checkpointDir(8) + "/w.pt", "not a tensor");
    FitStep again;
    TrainLoop second(settings(8), again, folder);
    std::vector<std::string> messages;
    TrainerCallbacks cb;
    cb.onMessage = [&](const std::string &m) { messages.push_back(m); };
    second.setCallbacks(cb);
    QCOMPARE(second.resumeLatest(), std::int64_t(4));
    QCOMPARE(messages.size(), std::size_t(1));
    QVERIFY2(messages[0].find("step-8 is damaged") != std::string::npos, messages[0].c_str());
    QVERIFY2(messages[0].find("trying step-4") != std::string::npos, messages[0].c_str());
    // With every checkpoint damaged the resume fails instead of starting over.
    writeFileAtomic(folder.checkpointDir(4) + "/w.pt", "not a tensor");
    FitStep third;
    TrainLoop last(settings(8), third, folder);
    QVERIFY_THROWS_EXCEPTION(InputError, last.resumeLatest());
  }

  void cancelledRunResumesExactly() {
    QTemporaryDir tmp;
    const auto full = tmp.filePath("full").toStdString(), parts = tmp.filePath("parts").toStdString();
    {
      RunFolder folder(full);
      FitStep step;
      TrainLoop loop(settings(12), step, folder);
      QCOMPARE(loop.run().state, RunState::Finished);
      QCOMPARE(step.evaluations, 1); // eval_steps 0: only at the end
    }
    {
      RunFolder folder(parts);
      FitStep step;
      TrainLoop loop(settings(12), step, folder);
      std::atomic<bool> cancel{false};
      TrainerCallbacks cb;
      cb.onLog = [&](const StepRecord &r) { cancel = r.step == 6; };
      loop.setCallbacks(cb);
      loop.setCancelFlag(&cancel);
      const auto outcome = loop.run();
      QCOMPARE(outcome.state, RunState::Cancelled);
      QCOMPARE(outcome.lastCheckpoint, std::int64_t(6)); // checkpointed where it stopped
      // Pretend the process died after step 4's checkpoint: drop the later one, then resume.
      std::filesystem::remove_all(folder.checkpointDir(6));
    }
    {
      RunFolder folder(parts);
      FitStep step;
      TrainLoop loop(settings(12), step, folder);
      QCOMPARE(loop.resumeLatest(), std::int64_t(4));
      QCOMPARE(loop.run().state, RunState::Finished);
    }
    const auto a = losses(full), b = losses(parts);
    QCOMPARE(a.size(), std::size_t(12));
    QCOMPARE(b.size(), std::size_t(12));
    for (const auto &[step, loss] : a)
      QCOMPARE(b.at(step), loss); // bit for bit
  }

  void resumeRefusesAnotherRunsCheckpoint() {
    QTemporaryDir tmp;
    RunFolder folder(tmp.filePath("run").toStdString());
    FitStep step;
    TrainLoop loop(settings(4), step, folder);
    QCOMPARE(loop.run().state, RunState::Finished);
    writeFileAtomic(folder.checkpointDir(4) + "/trainer_state.json",
                    R"({"global_step": 4, "task": "other"})");
    FitStep again;
    TrainLoop second(settings(8), again, folder);
    try {
      second.resumeLatest();
      QFAIL("a checkpoint of another task was accepted");
    } catch (const std::exception &e) {
      QVERIFY2(std::string(e.what()).find("task") != std::string::npos, e.what());
    }
  }

  void logsEveryNStepsWithWindowMeanAndEpoch() {
    QTemporaryDir tmp;
    RunFolder folder(tmp.filePath("run").toStdString());
    FitStep step;
    auto s = settings(10);
    s.loggingSteps = 4;
    s.logWindowMeanLoss = true;
    s.stepsPerEpoch = 5;
    s.evalSteps = 4;
    std::vector<StepRecord> logs;
    TrainerCallbacks cb;
    cb.onLog = [&](const StepRecord &r) { logs.push_back(r); };
    TrainLoop loop(std::move(s), step, folder);
    loop.setCallbacks(cb);
    QCOMPARE(loop.run().state, RunState::Finished);
    QCOMPARE(logs.size(), std::size_t(3)); // steps 4, 8 and the last
    QCOMPARE(logs.back().step, std::int64_t(10));
    QCOMPARE(logs[1].metrics.at("epoch"), 8.0 / 5.0);
    QVERIFY(logs[0].metrics.count("grad_norm") && logs[0].metrics.count("learning_rate"));
    QCOMPARE(logs[0].metrics.at("learning_rate"), 0.1 / 4.0);
    QCOMPARE(step.evaluations, 3); // steps 4 and 8, then the end
    const auto rows = readMetricsFile(folder.path("metrics.jsonl"));
    QCOMPARE(rows.size(), std::size_t(6));
    // The logged loss is the mean over its window: the same run logged at every step.
    QTemporaryDir other;
    RunFolder each(other.filePath("run").toStdString());
    FitStep same;
    TrainLoop everyStep(settings(10), same, each);
    QCOMPARE(everyStep.run().state, RunState::Finished);
    const auto perStep = losses(each.root());
    double window = 0;
    for (std::int64_t k = 5; k <= 8; ++k)
      window += perStep.at(k);
    QVERIFY(std::abs(logs[1].metrics.at("loss") - window / 4.0) < 1e-12);
  }
};

PREFLAB_TEST_MAIN(TestTrainLoop)

} // namespace

} // namespace preflab_tests
#include "tst_train_loop.moc"
