// Tests the text objectives: spec vectors, invariants, gradient signs (reference vectors:
// tst_objective_contract).
#include "core/io/input_error.h"
#include "core/objectives/objective.h"
#include "core/objectives/objective_info.h"

#include <torch/types.h>

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using preflab::core::InputError;
using preflab::core::objectiveFunction;
using preflab::core::ObjectiveInfo;
using preflab::core::objectiveInfo;
using preflab::core::objectiveInfos;
using preflab::core::ObjectiveInputs;
using preflab::core::ObjectiveKind;
using preflab::core::ObjectiveOutput;
using preflab::core::ObjectiveParams;

Q_DECLARE_METATYPE(preflab::core::ObjectiveInputs)
Q_DECLARE_METATYPE(preflab::core::ObjectiveParams)

namespace preflab_tests { // one per test file (test_main.h)

namespace {

// A 1-D tensor of the given values; float64 so the objectives' fp32 cast is exercised too.
torch::Tensor vec(const std::vector<double> &values) {
  return torch::tensor(values, torch::kFloat64);
}

double value(const torch::Tensor &scalar) {
  return scalar.item<double>();
}

// One pair with sequence sums (and the means they imply) and reference sums.
ObjectiveInputs pair(double pw, double pl, double rw, double rl, double lw = 1, double ll = 1) {
  ObjectiveInputs in;
  in.policyChosen = vec({pw});
  in.policyRejected = vec({pl});
  in.policyChosenMean = vec({pw / lw});
  in.policyRejectedMean = vec({pl / ll});
  in.refChosen = vec({rw});
  in.refRejected = vec({rl});
  in.lenChosen = vec({lw});
  in.lenRejected = vec({ll});
  return in;
}

// One pair given by token means; the sums (10 tokens) differ so a sum/mean mix-up shows.
ObjectiveInputs meansPair(double aw, double al) {
  ObjectiveInputs in = pair(10 * aw, 10 * al, 0, 0, 10, 10);
  in.refChosen = torch::Tensor();
  in.refRejected = torch::Tensor();
  return in;
}

// Unpaired rows with log-ratios r (policy − ref); z comes from a one-element KL batch.
ObjectiveInputs unpaired(const std::vector<double> &r, const std::vector<bool> &desirable, double z) {
  ObjectiveInputs in;
  std::vector<double> ref(r.size(), -10.0);
  std::vector<double> policy;
  for (double x : r)
    policy.push_back(-10.0 + x);
  in.policyCompletion = vec(policy);
  in.refCompletion = vec(ref);
  std::vector<int64_t> flags(desirable.begin(), desirable.end());
  in.desirable = torch::tensor(flags, torch::kInt64).to(torch::kBool);
  in.klPolicy = vec({-5.0 + z});
  in.klRef = vec({-5.0});
  return in;
}

ObjectiveInputs rewards(double rw, double rl) {
  ObjectiveInputs in;
  in.rewardChosen = vec({rw});
  in.rewardRejected = vec({rl});
  return in;
}

// Every text objective's declared parameters at their defaults, with this β.
ObjectiveParams withBeta(double beta) {
  ObjectiveParams p;
  p.values = preflab::core::objectiveParamDefaults(preflab::core::Modality::Text);
  p.set("beta", beta);
  return p;
}

ObjectiveParams withSmoothing(double beta, double eps) {
  ObjectiveParams p = withBeta(beta);
  p.set("label_smoothing", eps);
  return p;
}

// Three pairs (and three unpaired rows, three reward pairs) with every input field filled, sums
// only, so gradients reach policyChosen/policyRejected through the derived means as well.
// Margins are small (β·h < 1) so the hinge is active on every row.
ObjectiveInputs fullBatch() {
  ObjectiveInputs in;
  in.policyChosen = vec({-12.0, -30.0, -7.0}).requires_grad_(true);
  in.policyRejected = vec({-14.0, -29.0, -9.0}).requires_grad_(true);
  in.refChosen = vec({-12.5, -30.2, -7.1});
  in.refRejected = vec({-13.8, -29.1, -8.8});
  in.lenChosen = vec({10, 25, 6});
  in.lenRejected = vec({12, 20, 8});
  in.policyCompletion = vec({-20.0, -25.0, -18.0}).requires_grad_(true);
  in.refCompletion = vec({-20.3, -24.6, -18.2});
  in.desirable = torch::tensor(std::vector<int64_t>{1, 0, 1}).to(torch::kBool);
  in.klPolicy = vec({-22.0, -21.0});
  in.klRef = vec({-22.4, -21.3});
  in.rewardChosen = vec({0.3, -0.2, 1.1}).requires_grad_(true);
  in.rewardRejected = vec({0.1, 0.4, -0.5}).requires_grad_(true);
  return in;
}

// The usual parameters of `name`, on its own β scale.
ObjectiveParams defaultParams(const std::string &name) {
  const double beta = objectiveInfo(name).defaultBeta();
  return withBeta(beta > 0 ? beta : 0.1);
}

} // namespace

class TestObjectives : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void registryDeclarations();
  void everyObjectiveRunsOnAFullBatch_data();
  void everyObjectiveRunsOnAFullBatch();
  void unknownNameThrowsInputError();
  void badParameterThrowsInputError_data();
  void badParameterThrowsInputError();
  void missingInputFails();
  void specVectors_data();
  void specVectors();
  void stepZeroInvariant_data();
  void stepZeroInvariant();
  void gradientSigns_data();
  void gradientSigns();
  void ktoBaselineIsDetached();
  void orpoStaysFiniteForCertainTokens();
};

// What the trainers rely on, spot-checked (tst_objective_contract checks every declaration).
void TestObjectives::registryDeclarations() {
  QCOMPARE(objectiveInfo("simpo").usesMeanLogp, true);
  QCOMPARE(objectiveInfo("dpo").usesMeanLogp, false);
  QCOMPARE(objectiveInfo("orpo").needsReference, false);
  QCOMPARE(objectiveInfo("kto").kind, ObjectiveKind::Unpaired);
  QCOMPARE(objectiveInfo("reward").kind, ObjectiveKind::Reward);
  QCOMPARE(objectiveInfo("simper").defaultBeta(), 0.0);
  QCOMPARE(objectiveInfo("simpo").defaultBeta(), 2.0);
  QVERIFY(objectiveInfo("dpo").param("label_smoothing") != nullptr);
  QCOMPARE(objectiveInfo("robust").param("label_smoothing")->highOpen, true);
  QVERIFY(objectiveInfo("ipo").summary.find("token count") != std::string::npos);
}

void TestObjectives::everyObjectiveRunsOnAFullBatch_data() {
  QTest::addColumn<QString>("name");
  for (const ObjectiveInfo &info : objectiveInfos(preflab::core::Modality::Text))
    QTest::newRow(info.name.c_str()) << QString::fromStdString(info.name);
}

void TestObjectives::everyObjectiveRunsOnAFullBatch() {
  QFETCH(QString, name);
  const std::string n = name.toStdString();
  const ObjectiveOutput out = objectiveFunction(n)(fullBatch(), defaultParams(n));
  QVERIFY(out.loss.defined());
  QCOMPARE(out.loss.dim(), 0);
  QCOMPARE(out.loss.scalar_type(), torch::kFloat32);
  QVERIFY(out.loss.requires_grad());
  QVERIFY(std::isfinite(value(out.loss)));
  QVERIFY(!out.metrics.empty());
  for (const auto &[key, metric] : out.metrics) {
    QVERIFY2(metric.dim() == 0 && !metric.requires_grad(), key.c_str());
    QVERIFY2(std::isfinite(value(metric)), key.c_str());
  }
  if (objectiveInfo(n).kind == ObjectiveKind::Pairwise) {
    for (const char *key :
         {"rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen",
          "logps/rejected", "ranking/accuracy", "ranking/accuracy_len_norm"})
      QVERIFY2(out.metrics.count(key) == 1, key);
  }
}

void TestObjectives::unknownNameThrowsInputError() {
  for (const std::string bad : {"dpo2", "", "DPO"}) {
    bool threw = false;
    try {
      objectiveFunction(bad);
    } catch (const InputError &e) {
      threw = true;
      QCOMPARE(e.key(), std::string("loss_type"));
      const std::string what = e.what();
      QVERIFY2(what.find("'" + bad + "'") != std::string::npos, what.c_str());
      for (const ObjectiveInfo &known : objectiveInfos(preflab::core::Modality::Text))
        QVERIFY2(what.find(known.name) != std::string::npos, what.c_str());
    }
    QVERIFY2(threw, bad.c_str());
  }
  bool infoThrew = false;
  try {
    objectiveInfo("nope");
  } catch (const InputError &e) {
    infoThrew = e.key() == "loss_type";
  }
  QVERIFY(infoThrew);
}

void TestObjectives::badParameterThrowsInputError_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<ObjectiveParams>("params");
  QTest::addColumn<QString>("key");
  ObjectiveParams negativeWeight = withBeta(0.1);
  negativeWeight.set("desirable_weight", -1.0);
  ObjectiveParams negativeCentering = withBeta(0.1);
  negativeCentering.set("center_rewards_coefficient", -0.01);
  QTest::newRow("dpo beta 0") << "dpo" << withBeta(0.0) << "beta";
  QTest::newRow("ipo tau negative") << "ipo" << withBeta(-0.1) << "beta";
  QTest::newRow("simpo beta 0") << "simpo" << withBeta(0.0) << "beta";
  QTest::newRow("cdpo eps 0.6") << "cdpo" << withSmoothing(0.1, 0.6) << "label_smoothing";
  QTest::newRow("robust eps 0.5") << "robust" << withSmoothing(0.1, 0.5) << "label_smoothing";
  QTest::newRow("kto negative weight") << "kto" << negativeWeight << "desirable_weight";
  QTest::newRow("reward negative centring") << "reward" << negativeCentering << "center_rewards_coefficient";
}

void TestObjectives::badParameterThrowsInputError() {
  QFETCH(QString, name);
  QFETCH(ObjectiveParams, params);
  QFETCH(QString, key);
  std::string caught;
  try {
    objectiveFunction(name.toStdString())(fullBatch(), params);
  } catch (const InputError &e) {
    caught = e.key();
  }
  QCOMPARE(QString::fromStdString(caught), key);
}

void TestObjectives::missingInputFails() {
  ObjectiveInputs in = pair(-10, -12, -11, -11);
  in.refChosen = torch::Tensor();
  bool threw = false;
  try {
    objectiveFunction("dpo")(in, withBeta(0.1));
  } catch (const c10::Error &e) {
    threw = std::string(e.what()).find("refChosen") != std::string::npos;
  }
  QVERIFY2(threw, "dpo without refChosen must fail naming the field");
}

// algorithms.md §10. `quantity` is "loss", a metric name, or "loss-nll_loss" (ORPO's OR term).
void TestObjectives::specVectors_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<ObjectiveInputs>("inputs");
  QTest::addColumn<ObjectiveParams>("params");
  QTest::addColumn<QString>("quantity");
  QTest::addColumn<double>("expected");
  const ObjectiveInputs h2 = pair(-10, -12, -11, -11); // h = 2
  ObjectiveParams rdpo = withBeta(0.1);
  rdpo.set("rdpo_alpha", 0.01);
  ObjectiveParams simpo = withBeta(2.0);
  simpo.set("gamma_beta_ratio", 0.5);
  ObjectiveParams noBeta = withBeta(0.0);
  QTest::newRow("DPO h=2 beta=0.1") << "dpo" << h2 << withBeta(0.1) << "loss" << 0.5981388694;
  QTest::newRow("IPO h=2 tau=0.1") << "ipo" << h2 << withBeta(0.1) << "loss" << 9.0;
  QTest::newRow("IPO per-token: sums x2, 2 tokens each")
      << "ipo" << pair(-20, -24, -22, -22, 2, 2) << withBeta(0.1) << "loss" << 9.0;
  QTest::newRow("cDPO eps=0.1") << "cdpo" << h2 << withSmoothing(0.1, 0.1) << "loss" << 0.6181388694;
  QTest::newRow("DPO label_smoothing=0.1 is cDPO")
      << "dpo" << h2 << withSmoothing(0.1, 0.1) << "loss" << 0.6181388694;
  QTest::newRow("robust DPO eps=0.1") << "robust" << h2 << withSmoothing(0.1, 0.1) << "loss" << 0.5731388694;
  QTest::newRow("hinge beta=0.1") << "hinge" << h2 << withBeta(0.1) << "loss" << 0.8;
  QTest::newRow("R-DPO alpha=0.01 len 120/80")
      << "rdpo" << pair(-10, -12, -11, -11, 120, 80) << rdpo << "loss" << 0.4374879505;
  QTest::newRow("SimPO beta=2 gamma/beta=0.5")
      << "simpo" << meansPair(-1.0, -1.5) << simpo << "loss" << 0.6931471806;
  QTest::newRow("SimPER") << "simper" << meansPair(-1.0, -1.5) << noBeta << "loss" << -0.1447492810;
  QTest::newRow("ORPO log-odds difference")
      << "orpo" << meansPair(-0.5, -1.0) << withBeta(0.1) << "log_odds_chosen" << 0.9740769842;
  QTest::newRow("ORPO OR term lambda=0.1")
      << "orpo" << meansPair(-0.5, -1.0) << withBeta(0.1) << "loss-nll_loss" << 0.0320299785;
  QTest::newRow("ORPO NLL term") << "orpo" << meansPair(-0.5, -1.0) << withBeta(0.1) << "nll_loss" << 0.5;
  QTest::newRow("KTO desirable r=0.5 z=0.1")
      << "kto" << unpaired({0.5}, {true}, 0.1) << withBeta(0.1) << "loss" << 0.4900013331;
  QTest::newRow("KTO undesirable r=-0.3 z=0.1")
      << "kto" << unpaired({-0.3}, {false}, 0.1) << withBeta(0.1) << "loss" << 0.4900013331;
  QTest::newRow("KTO both rows z=0.1")
      << "kto" << unpaired({0.5, -0.3}, {true, false}, 0.1) << withBeta(0.1) << "loss" << 0.4900013331;
  QTest::newRow("KTO negative KL clamps z to 0")
      << "kto" << unpaired({0.5}, {true}, -1.0) << withBeta(0.1) << "loss" << 0.4875026035;
  QTest::newRow("BT reward model") << "reward" << rewards(1.3, 0.2) << withBeta(0.1) << "loss"
                                   << 0.2873353251;
}

void TestObjectives::specVectors() {
  QFETCH(QString, name);
  QFETCH(ObjectiveInputs, inputs);
  QFETCH(ObjectiveParams, params);
  QFETCH(QString, quantity);
  QFETCH(double, expected);
  const ObjectiveOutput out = objectiveFunction(name.toStdString())(inputs, params);
  double got = 0;
  if (quantity == "loss")
    got = value(out.loss);
  else if (quantity == "loss-nll_loss")
    got = value(out.loss) - value(out.metrics.at("nll_loss"));
  else
    got = value(out.metrics.at(quantity.toStdString()));
  const QString detail = QString("got %1, expected %2").arg(got, 0, 'g', 12).arg(expected, 0, 'g', 12);
  QVERIFY2(std::abs(got - expected) < 1e-6, qPrintable(detail));
}

void TestObjectives::stepZeroInvariant_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<ObjectiveParams>("params");
  QTest::newRow("dpo beta=0.1") << "dpo" << withBeta(0.1);
  QTest::newRow("dpo beta=0.5") << "dpo" << withBeta(0.5);
  QTest::newRow("cdpo eps=0.2") << "cdpo" << withSmoothing(0.1, 0.2);
  QTest::newRow("robust eps=0.1") << "robust" << withSmoothing(0.1, 0.1);
}

// Policy == reference: every logit is 0, so the loss is ln 2 and no reward beats another.
void TestObjectives::stepZeroInvariant() {
  QFETCH(QString, name);
  QFETCH(ObjectiveParams, params);
  ObjectiveInputs in = fullBatch();
  in.refChosen = in.policyChosen.detach().clone();
  in.refRejected = in.policyRejected.detach().clone();
  const ObjectiveOutput out = objectiveFunction(name.toStdString())(in, params);
  QVERIFY(std::abs(value(out.loss) - std::log(2.0)) < 1e-6);
  QCOMPARE(value(out.metrics.at("rewards/accuracies")), 0.0);
  QCOMPARE(value(out.metrics.at("rewards/margins")), 0.0);
}

void TestObjectives::gradientSigns_data() {
  everyObjectiveRunsOnAFullBatch_data();
}

// Descending the loss must raise the chosen side and lower the rejected one, on every row.
void TestObjectives::gradientSigns() {
  QFETCH(QString, name);
  const std::string n = name.toStdString();
  const ObjectiveInputs in = fullBatch();
  objectiveFunction(n)(in, defaultParams(n)).loss.backward();
  const ObjectiveKind kind = objectiveInfo(n).kind;
  if (kind == ObjectiveKind::Pairwise || kind == ObjectiveKind::Sft) {
    QVERIFY2((in.policyChosen.grad() < 0).all().item<bool>(), "d loss / d policyChosen < 0");
    if (kind == ObjectiveKind::Pairwise)
      QVERIFY2((in.policyRejected.grad() > 0).all().item<bool>(), "d loss / d policyRejected > 0");
  } else if (kind == ObjectiveKind::Unpaired) {
    const torch::Tensor g = in.policyCompletion.grad();
    QVERIFY((g.masked_select(in.desirable) < 0).all().item<bool>());
    QVERIFY((g.masked_select(in.desirable.logical_not()) > 0).all().item<bool>());
  } else {
    QVERIFY((in.rewardChosen.grad() < 0).all().item<bool>());
    QVERIFY((in.rewardRejected.grad() > 0).all().item<bool>());
  }
}

void TestObjectives::ktoBaselineIsDetached() {
  ObjectiveInputs in = fullBatch();
  in.klPolicy.requires_grad_(true);
  objectiveFunction("kto")(in, withBeta(0.1)).loss.backward();
  QVERIFY(in.policyCompletion.grad().defined());
  QVERIFY(!in.klPolicy.grad().defined() || in.klPolicy.grad().abs().sum().item<double>() == 0);
}

// A response whose every token has probability 1 (mean log-prob 0) must not produce NaN.
void TestObjectives::orpoStaysFiniteForCertainTokens() {
  ObjectiveInputs in = meansPair(0.0, 0.0);
  in.policyChosenMean.requires_grad_(true);
  in.policyRejectedMean.requires_grad_(true);
  const ObjectiveOutput out = objectiveFunction("orpo")(in, withBeta(0.1));
  out.loss.backward();
  QVERIFY(std::isfinite(value(out.loss)));
  QVERIFY(torch::isfinite(in.policyChosenMean.grad()).all().item<bool>());
  QVERIFY(torch::isfinite(in.policyRejectedMean.grad()).all().item<bool>());
}

PREFLAB_TEST_MAIN(TestObjectives)

} // namespace preflab_tests
#include "tst_objectives.moc"
