// Tests the run diagnostics: each flag with rows that trigger it and rows that must not.
#include "core/metrics/run_diagnostics.h"

#include <nlohmann/json.hpp>

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

constexpr std::int64_t kStepEvery = 5;

bool hasFinding(const std::vector<DiagnosticFinding> &findings, const std::string &id) {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const DiagnosticFinding &f) { return f.id == id; });
}

// A loss curve that decays from `start` to `level` early on, then drifts by `drift` over the run
// (centred on the last quarter) with alternating noise of amplitude `noise`.
MetricSeries lossCurve(int n, double start, double level, double drift, double noise) {
  MetricSeries s;
  for (int i = 0; i < n; ++i) {
    const double t = n > 1 ? double(i) / double(n - 1) : 0.0;
    const double v =
        level + (start - level) * std::exp(-t / 0.05) + drift * (t - 0.875) + (i % 2 ? noise : -noise);
    s.push_back({(i + 1) * kStepEvery, v});
  }
  return s;
}

MetricSeries ramp(int n, double from, double to) {
  MetricSeries s;
  for (int i = 0; i < n; ++i)
    s.push_back({(i + 1) * kStepEvery, from + (to - from) * (n > 1 ? double(i) / double(n - 1) : 0.0)});
  return s;
}

} // namespace

class TestRunDiagnostics : public QObject {
  Q_OBJECT

private Q_SLOTS:
  // Image runs: implicit accuracy at chance, denoising errors rising against the reference's.
  void imageRunChecks() {
    const double ln2 = std::log(2.0);
    RunDiagnosticsInput stuck;
    stuck.objective = "diffusion-dpo";
    stuck.beta = 5000;
    stuck.loss = lossCurve(40, ln2, ln2, 0.0, 0.001);
    for (int i = 0; i < 40; ++i)
      stuck.implicitAccuracy.push_back({(i + 1) * kStepEvery, i % 2 ? 0.53 : 0.47});
    auto f = diagnoseRun(stuck);
    QVERIFY(hasFinding(f, "loss-flat-ln2"));
    QVERIFY(hasFinding(f, "implicit-acc-chance"));
    QVERIFY(!hasFinding(f, "beta-out-of-range"));
    RunDiagnosticsInput learning = stuck;
    learning.implicitAccuracy = ramp(40, 0.5, 0.8);
    learning.loss = lossCurve(40, ln2, 0.5, -0.05, 0.001);
    f = diagnoseRun(learning);
    QVERIFY(!hasFinding(f, "implicit-acc-chance") && !hasFinding(f, "loss-flat-ln2"));
    learning.beta = 50; // Diffusion-DPO's beta is in the thousands
    QVERIFY(hasFinding(diagnoseRun(learning), "beta-out-of-range"));
    QVERIFY(!hasFinding(diagnoseRun(learning), "unknown-objective"));

    // Batches differ in their timesteps, so the raw errors jump around; only the policy's error
    // relative to the reference's on the same batch counts.
    RunDiagnosticsInput drifting;
    drifting.objective = "diffusion-dpo";
    drifting.beta = 5000;
    for (int i = 0; i < 40; ++i) {
      const std::int64_t step = (i + 1) * kStepEvery;
      const double batch = i % 3 == 0 ? 0.02 : (i % 3 == 1 ? 0.2 : 0.08); // the batch's timesteps
      const double worse = 1.0 + 0.3 * double(i) / 39.0;
      drifting.mseRefW.push_back({step, batch});
      drifting.mseRefL.push_back({step, batch * 1.1});
      drifting.mseModelW.push_back({step, batch * worse});
      drifting.mseModelL.push_back({step, batch * 1.1 * worse * 1.05});
    }
    QVERIFY(hasFinding(diagnoseRun(drifting), "mse-rising-together"));
    // The same noisy batches with the policy as good as the reference, while the batches' own errors
    // rise (later batches draw noisier timesteps): raw errors rise, the relative gap does not.
    RunDiagnosticsInput tracking = drifting;
    for (std::size_t k = 0; k < tracking.mseRefW.size(); ++k) {
      const double later = 1.0 + 0.5 * double(k) / 39.0;
      tracking.mseRefW[k].value *= later;
      tracking.mseRefL[k].value *= later;
      tracking.mseModelW[k].value = tracking.mseRefW[k].value;
      tracking.mseModelL[k].value = tracking.mseRefL[k].value;
    }
    QVERIFY(!hasFinding(diagnoseRun(tracking), "mse-rising-together"));

    // The series come from metrics.jsonl records with the image trainer's names.
    std::vector<nlohmann::json> records;
    for (int i = 1; i <= 3; ++i)
      records.push_back({{"step", i},
                         {"loss", 0.69},
                         {"implicit_acc", 0.5},
                         {"mse/model_w", 0.1},
                         {"mse/model_l", 0.1},
                         {"mse/ref_w", 0.1},
                         {"mse/ref_l", 0.1}});
    const auto in = diagnosticsInputFromRecords(records);
    QCOMPARE(in.implicitAccuracy.size(), std::size_t(3));
    QCOMPARE(in.mseRefL.size(), std::size_t(3));
  }

  void lossFlatAtLn2_data() {
    QTest::addColumn<QString>("objective");
    QTest::addColumn<int>("points");
    QTest::addColumn<double>("start");
    QTest::addColumn<double>("level");
    QTest::addColumn<double>("drift");
    QTest::addColumn<double>("noise");
    QTest::addColumn<bool>("flagged");
    const double ln2 = std::log(2.0);
    QTest::newRow("dpo flat at ln 2") << "dpo" << 40 << ln2 << ln2 << 0.0 << 0.01 << true;
    QTest::newRow("dpo warm-up bump then flat") << "dpo" << 40 << 0.9 << ln2 + 0.005 << 0.0 << 0.005 << true;
    QTest::newRow("reward model flat at ln 2") << "reward" << 40 << ln2 << ln2 << 0.0 << 0.0 << true;
    QTest::newRow("dpo learning") << "dpo" << 40 << ln2 << 0.3 << -0.1 << 0.02 << false;
    QTest::newRow("dpo flat at 0.5") << "dpo" << 40 << ln2 << 0.5 << 0.0 << 0.01 << false;
    QTest::newRow("dpo still falling through ln 2") << "dpo" << 40 << ln2 << ln2 << -0.2 << 0.0 << false;
    QTest::newRow("ipo at 0.693 (not logistic)") << "ipo" << 40 << ln2 << ln2 << 0.0 << 0.0 << false;
    QTest::newRow("simpo at 0.693 (target margin)") << "simpo" << 40 << ln2 << ln2 << 0.0 << 0.0 << false;
    QTest::newRow("too few points") << "dpo" << 5 << ln2 << ln2 << 0.0 << 0.0 << false;
  }
  void lossFlatAtLn2() {
    QFETCH(QString, objective);
    QFETCH(int, points);
    QFETCH(double, start);
    QFETCH(double, level);
    QFETCH(double, drift);
    QFETCH(double, noise);
    QFETCH(bool, flagged);
    RunDiagnosticsInput in;
    in.objective = objective.toStdString();
    in.beta = objective == "simpo" ? 2.0 : 0.1;
    in.loss = lossCurve(points, start, level, drift, noise);
    const auto findings = diagnoseRun(in);
    QCOMPARE(hasFinding(findings, "loss-flat-ln2"), flagged);
  }

  void logpsFallingTogether_data() {
    QTest::addColumn<int>("points");
    QTest::addColumn<double>("chosenFrom");
    QTest::addColumn<double>("chosenTo");
    QTest::addColumn<double>("rejectedFrom");
    QTest::addColumn<double>("rejectedTo");
    QTest::addColumn<bool>("flagged");
    QTest::newRow("both fall, margin grows") << 60 << -23.0 << -36.0 << -24.0 << -53.0 << true;
    QTest::newRow("token means fall, margin grows") << 30 << -2.0 << -2.5 << -2.0 << -3.0 << true;
    QTest::newRow("both fall, margin shrinks") << 60 << -20.0 << -50.0 << -20.0 << -35.0 << false;
    QTest::newRow("only rejected falls") << 60 << -20.0 << -19.0 << -20.0 << -40.0 << false;
    QTest::newRow("both rise") << 60 << -30.0 << -20.0 << -30.0 << -25.0 << false;
    QTest::newRow("drop under 5 percent") << 60 << -20.0 << -20.5 << -20.0 << -20.8 << false;
    QTest::newRow("too few points") << 5 << -20.0 << -40.0 << -20.0 << -60.0 << false;
  }
  void logpsFallingTogether() {
    QFETCH(int, points);
    QFETCH(double, chosenFrom);
    QFETCH(double, chosenTo);
    QFETCH(double, rejectedFrom);
    QFETCH(double, rejectedTo);
    QFETCH(bool, flagged);
    RunDiagnosticsInput in;
    in.logpsChosen = ramp(points, chosenFrom, chosenTo);
    in.logpsRejected = ramp(points, rejectedFrom, rejectedTo);
    QCOMPARE(hasFinding(diagnoseRun(in), "logps-falling-together"), flagged);
  }

  void coarseAccuracy_data() {
    QTest::addColumn<int>("pairs");       // configured pairs per value; 0: unknown
    QTest::addColumn<int>("denominator"); // the grid the generated values lie on
    QTest::addColumn<int>("points");
    QTest::addColumn<bool>("flagged");
    QTest::newRow("4 pairs per batch") << 4 << 4 << 20 << true;
    QTest::newRow("8 pairs per batch (9 values)") << 8 << 8 << 20 << true;
    QTest::newRow("16 pairs per batch") << 16 << 16 << 20 << false;
    QTest::newRow("unknown, values on quarters") << 0 << 4 << 20 << true;
    QTest::newRow("unknown, values on sixteenths") << 0 << 16 << 20 << false;
    QTest::newRow("unknown, too few values") << 0 << 4 << 3 << false;
    QTest::newRow("no accuracy logged") << 4 << 4 << 0 << false;
  }
  void coarseAccuracy() {
    QFETCH(int, pairs);
    QFETCH(int, denominator);
    QFETCH(int, points);
    QFETCH(bool, flagged);
    RunDiagnosticsInput in;
    in.pairsPerAccuracyValue = pairs;
    for (int i = 0; i < points; ++i)
      in.accuracy.push_back({(i + 1) * kStepEvery, double((i * 3 + 1) % (denominator + 1)) / denominator});
    const auto findings = diagnoseRun(in);
    QCOMPARE(hasFinding(findings, "coarse-accuracy"), flagged);
    if (flagged) {
      const auto &f = *std::find_if(findings.begin(), findings.end(),
                                    [](const DiagnosticFinding &x) { return x.id == "coarse-accuracy"; });
      QVERIFY2(f.message.find(std::to_string(denominator + 1) + " values") != std::string::npos,
               f.message.c_str());
    }
  }

  void betaRange_data() {
    QTest::addColumn<QString>("objective");
    QTest::addColumn<double>("beta");
    QTest::addColumn<QString>("expectedId"); // empty: no finding at all
    QTest::newRow("dpo 0.1") << "dpo" << 0.1 << "";
    QTest::newRow("dpo 5 (too strong)") << "dpo" << 5.0 << "beta-out-of-range";
    QTest::newRow("dpo 0.001") << "dpo" << 0.001 << "beta-out-of-range";
    QTest::newRow("simpo 2") << "simpo" << 2.0 << "";
    QTest::newRow("simpo 0.1 (DPO scale)") << "simpo" << 0.1 << "beta-out-of-range";
    QTest::newRow("simper (beta unused)") << "simper" << 123.0 << "";
    QTest::newRow("sft (beta unused)") << "sft" << 0.0 << "";
    QTest::newRow("unknown objective") << "nope" << 0.1 << "unknown-objective";
  }
  void betaRange() {
    QFETCH(QString, objective);
    QFETCH(double, beta);
    QFETCH(QString, expectedId);
    RunDiagnosticsInput in;
    in.objective = objective.toStdString();
    in.beta = beta;
    const auto findings = diagnoseRun(in);
    if (expectedId.isEmpty()) {
      QVERIFY2(findings.empty(), findings.empty() ? "" : findings.front().message.c_str());
    } else {
      QCOMPARE(findings.size(), std::size_t(1));
      QCOMPARE(QString::fromStdString(findings.front().id), expectedId);
      QVERIFY(findings.front().message.find('\n') == std::string::npos);
    }
  }

  void everyFlagAtOnce() {
    RunDiagnosticsInput in;
    in.objective = "dpo";
    in.beta = 3.0;
    in.loss = lossCurve(40, std::log(2.0), std::log(2.0), 0.0, 0.0);
    in.logpsChosen = ramp(40, -20, -30);
    in.logpsRejected = ramp(40, -20, -40);
    in.pairsPerAccuracyValue = 2;
    in.accuracy = ramp(10, 0.0, 1.0);
    const auto findings = diagnoseRun(in);
    QCOMPARE(findings.size(), std::size_t(4));
    for (const auto &f : findings) {
      QCOMPARE(f.severity, FindingSeverity::Warning);
      QVERIFY(!f.message.empty() && f.message.find('\n') == std::string::npos);
    }
  }

  void inputFromRecords() {
    std::vector<nlohmann::json> records = {
        {{"step", 5},
         {"loss", 0.69},
         {"logps/chosen", -20.0},
         {"logps/rejected", -21.0},
         {"rewards/accuracies", 0.5},
         {"ranking/accuracy", 0.25}},
        {{"step", 10}, {"eval/loss", 0.6}, {"eval/rewards/accuracies", 0.7}},
        {{"step", 10},
         {"loss", 0.68},
         {"logps/chosen", -21.0},
         {"logps/rejected", -23.0},
         {"rewards/accuracies", 0.75}},
        {{"step", 15}, {"loss", "nan?"}},
    };
    const auto in = diagnosticsInputFromRecords(records);
    QCOMPARE(in.loss.size(), std::size_t(2));
    QCOMPARE(in.loss[1].step, std::int64_t(10));
    QCOMPARE(in.logpsRejected[1].value, -23.0);
    QCOMPARE(in.accuracy.size(), std::size_t(2));
    QCOMPARE(in.accuracy[1].value, 0.75); // rewards/accuracies wins over ranking/accuracy
    // Without rewards/accuracies (reference-free objectives), ranking/accuracy is used.
    const std::vector<nlohmann::json> referenceFree{
        nlohmann::json{{"step", 1}, {"loss", 1.0}, {"ranking/accuracy", 0.5}}};
    const auto ref = diagnosticsInputFromRecords(referenceFree);
    QCOMPARE(ref.accuracy.size(), std::size_t(1));
  }

  void lossStartsAtLn2Family() {
    QVERIFY(lossStartsAtLn2("dpo"));
    QVERIFY(!lossStartsAtLn2("rdpo")); // softplus(−α·Δlen) at zero margin, not ln 2
    QVERIFY(!lossStartsAtLn2("ipo"));
    QVERIFY(!lossStartsAtLn2("kto"));
  }
};

PREFLAB_TEST_MAIN(TestRunDiagnostics)

} // namespace preflab_tests
#include "tst_run_diagnostics.moc"
