// Tests the image objectives: spec vectors, step-0 invariants, gradients (reference vectors:
// tst_objective_contract).
#include "core/io/input_error.h"
#include "core/objectives/diffusion_objectives.h"
#include "core/objectives/objective_info.h"

#include <torch/torch.h>

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <cmath>
#include <map>
#include <string>
#include <vector>

using preflab::core::diffusionMse;
using preflab::core::diffusionObjectiveFunction;
using preflab::core::DiffusionObjectiveInputs;
using preflab::core::InputError;
using preflab::core::Modality;
using preflab::core::ObjectiveInfo;
using preflab::core::ObjectiveKind;
using preflab::core::ObjectiveOutput;
using preflab::core::ObjectiveParams;

Q_DECLARE_METATYPE(preflab::core::DiffusionObjectiveInputs)
Q_DECLARE_METATYPE(preflab::core::ObjectiveParams)

namespace preflab_tests { // one per test file (test_main.h)

namespace {

const std::vector<std::string> kMseMetrics = {"mse/model_w", "mse/model_l", "mse/ref_w", "mse/ref_l"};

torch::Tensor vec(const std::vector<double> &values) {
  return torch::tensor(values, torch::kFloat64);
}

torch::Tensor flags(const std::vector<bool> &values) {
  std::vector<int64_t> ints(values.begin(), values.end());
  return torch::tensor(ints, torch::kInt64).to(torch::kBool);
}

double value(const torch::Tensor &scalar) {
  return scalar.item<double>();
}

// Every image objective's declared parameters at their defaults, with this β.
ObjectiveParams withBeta(double beta) {
  ObjectiveParams p;
  p.values = preflab::core::objectiveParamDefaults(Modality::Image);
  p.set("beta", beta);
  return p;
}

const ObjectiveInfo &diffusionObjectiveInfo(const std::string &name) {
  return preflab::core::objectiveInfo(name, Modality::Image);
}

DiffusionObjectiveInputs mses(double mw, double ml, double rw, double rl) {
  DiffusionObjectiveInputs in;
  in.mseModelW = vec({mw});
  in.mseModelL = vec({ml});
  in.mseRefW = vec({rw});
  in.mseRefL = vec({rl});
  return in;
}

// Unpaired rows with implicit rewards r = mse_ref − mse_model, around an MSE of 0.6.
DiffusionObjectiveInputs unpaired(const std::vector<double> &r, const std::vector<bool> &desirable) {
  DiffusionObjectiveInputs in;
  std::vector<double> model;
  for (double x : r)
    model.push_back(0.6 - x);
  in.mseModel = vec(model);
  in.mseRef = vec(std::vector<double>(r.size(), 0.6));
  in.desirable = flags(desirable);
  return in;
}

// Seeded float64 ε-predictions, (4, 2, 3, 3); the policy sits `spread` away from the reference
// (spread 0: policy == reference). Policy predictions are leaves that require grad.
DiffusionObjectiveInputs predictions(double spread, std::uint64_t seed = 7) {
  torch::manual_seed(seed);
  const auto opts = torch::TensorOptions(torch::kFloat64);
  DiffusionObjectiveInputs in;
  in.noise = torch::randn({4, 2, 3, 3}, opts);
  in.predRefW = in.noise + 0.7 * torch::randn({4, 2, 3, 3}, opts);
  in.predRefL = in.noise + 0.7 * torch::randn({4, 2, 3, 3}, opts);
  in.predModelW = (in.predRefW + spread * torch::randn({4, 2, 3, 3}, opts)).requires_grad_(true);
  in.predModelL = (in.predRefL + spread * torch::randn({4, 2, 3, 3}, opts)).requires_grad_(true);
  return in;
}

ObjectiveParams defaultParams(const std::string &name) {
  const double beta = diffusionObjectiveInfo(name).defaultBeta();
  return withBeta(beta > 0 ? beta : 1.0);
}

ObjectiveOutput run(const std::string &name, const DiffusionObjectiveInputs &in, const ObjectiveParams &p) {
  return diffusionObjectiveFunction(name)(in, p);
}

// Central finite differences of the loss in every element of `leaf` (float64, modified in place
// and restored).
torch::Tensor finiteDifference(const std::string &name, const DiffusionObjectiveInputs &in,
                               const ObjectiveParams &p, torch::Tensor leaf) {
  torch::NoGradGuard noGrad;
  const double h = 1e-6;
  torch::Tensor grad = torch::zeros_like(leaf);
  auto flat = leaf.view({-1});
  for (int64_t i = 0; i < flat.numel(); ++i) {
    const double x = flat[i].item<double>();
    flat[i] = x + h;
    const double up = value(run(name, in, p).loss);
    flat[i] = x - h;
    const double down = value(run(name, in, p).loss);
    flat[i] = x;
    grad.view({-1})[i] = (up - down) / (2 * h);
  }
  return grad;
}

double maxAbsDiff(const torch::Tensor &a, const torch::Tensor &b) {
  return (a - b).abs().max().item<double>();
}

bool hasGrad(const torch::Tensor &t) {
  return t.grad().defined() && t.grad().abs().sum().item<double>() > 0;
}

} // namespace

class TestDiffusionObjectives : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void registryDeclarations();
  void textRegistryDoesNotListImageObjectives();
  void unknownNameThrowsInputError();
  void specVectors_data();
  void specVectors();
  void float32InputsGiveFloat32Loss();
  void stepZeroInvariant_data();
  void stepZeroInvariant();
  void metricsAreDetachedScalars_data();
  void metricsAreDetachedScalars();
  void gradientsReachPolicyNotReference_data();
  void gradientsReachPolicyNotReference();
  void gradientsMatchFiniteDifferences_data();
  void gradientsMatchFiniteDifferences();
  void detachTargetChangesTheGradient();
  void sdxlPathRejectsDetachTarget();
  void sdxlPathSwitchesOnThePredictionGap();
  void sftIsTheWinnerMseMean();
  void givenMsesEqualDerivedOnes();
  void ktoReferencePointIsDetachedAndClamped();
  void badInputsThrow_data();
  void badInputsThrow();
  void badParametersThrowInputError_data();
  void badParametersThrowInputError();
};

// What the image trainer relies on, spot-checked (tst_objective_contract checks every declaration).
void TestDiffusionObjectives::registryDeclarations() {
  for (const ObjectiveInfo &info : preflab::core::objectiveInfos(Modality::Image))
    QVERIFY2(info.needsReference == (info.kind != ObjectiveKind::Sft), info.name.c_str());
  QCOMPARE(diffusionObjectiveInfo("dspo").needsPredictions, true);
  QCOMPARE(diffusionObjectiveInfo("dspo-sdxl-path").needsPredictions, true);
  QCOMPARE(diffusionObjectiveInfo("diffusion-dpo").needsPredictions, false);
  QCOMPARE(diffusionObjectiveInfo("diffusion-dpo").defaultBeta(), 5000.0);
  QCOMPARE(diffusionObjectiveInfo("dspo").defaultBeta(), 0.001);
  QCOMPARE(diffusionObjectiveInfo("diffusion-kto").kind, ObjectiveKind::Unpaired);
  QCOMPARE(diffusionObjectiveInfo("dspo").title, std::string("DSPO (SD1.5 code path)"));
  QCOMPARE(diffusionObjectiveInfo("dspo-sdxl-path").title, std::string("DSPO (SDXL code path)"));
}

// The text trainer and the New-run dialog list objectiveInfos(Modality::Text): image objectives stay out.
void TestDiffusionObjectives::textRegistryDoesNotListImageObjectives() {
  for (const auto &info : preflab::core::objectiveInfos(Modality::Text))
    for (const auto &image : preflab::core::objectiveInfos(Modality::Image))
      QVERIFY2(info.name != image.name, image.name.c_str());
  QVERIFY_THROWS_EXCEPTION(InputError, preflab::core::objectiveInfo("diffusion-dpo"));
}

void TestDiffusionObjectives::unknownNameThrowsInputError() {
  for (const std::string bad : {"dpo", "", "DSPO", "dspo-sdxl"}) {
    bool threw = false;
    try {
      diffusionObjectiveFunction(bad);
    } catch (const InputError &e) {
      threw = true;
      QCOMPARE(e.key(), std::string("loss_type"));
      const std::string what = e.what();
      QVERIFY2(what.find("'" + bad + "'") != std::string::npos, what.c_str());
      for (const auto &known : preflab::core::objectiveInfos(Modality::Image))
        QVERIFY2(what.find(known.name) != std::string::npos, what.c_str());
    }
    QVERIFY2(threw, bad.c_str());
  }
  QVERIFY_THROWS_EXCEPTION(InputError, diffusionObjectiveInfo("nope"));
}

// algorithms.md §10, in float64. The KTO row is the text vector in image form: rewards
// (0.5, −0.3) have batch mean 0.1, which is the spec's z.
void TestDiffusionObjectives::specVectors_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<DiffusionObjectiveInputs>("inputs");
  QTest::addColumn<ObjectiveParams>("params");
  QTest::addColumn<QString>("quantity");
  QTest::addColumn<double>("expected");
  const DiffusionObjectiveInputs v = mses(0.1000, 0.1002, 0.1001, 0.1001);
  QTest::newRow("Diffusion-DPO inside") << "diffusion-dpo" << v << withBeta(5000) << "inside_term" << 0.5;
  QTest::newRow("Diffusion-DPO loss") << "diffusion-dpo" << v << withBeta(5000) << "loss" << 0.4740769842;
  QTest::newRow("Diffusion-DPO accuracy") << "diffusion-dpo" << v << withBeta(5000) << "implicit_acc" << 1.0;
  // DSPO needs the winner's predictions too: a one-pixel winner next to the §10 MSEs.
  DiffusionObjectiveInputs dspo = v;
  dspo.noise = torch::zeros({1, 1, 1, 1}, torch::kFloat64);
  dspo.predModelW = torch::full({1, 1, 1, 1}, 0.3, torch::kFloat64);
  dspo.predRefW = torch::full({1, 1, 1, 1}, 0.2, torch::kFloat64);
  QTest::newRow("DSPO logit is the Diffusion-DPO one")
      << "dspo" << dspo << withBeta(5000) << "inside_term" << 0.5;
  // g = 1 − σ(0.5); residual 0.3 − 5000·g·0.1.
  const double g = 1.0 / (1.0 + std::exp(0.5));
  QTest::newRow("DSPO SD1.5 loss on the same pair")
      << "dspo" << dspo << withBeta(5000) << "loss" << std::pow(0.3 - 500.0 * g, 2);
  QTest::newRow("KTO desirable and undesirable rows, z = 0.1")
      << "diffusion-kto" << unpaired({0.5, -0.3}, {true, false}) << withBeta(0.1) << "loss" << 0.4900013331;
  QTest::newRow("KTO z") << "diffusion-kto" << unpaired({0.5, -0.3}, {true, false}) << withBeta(0.1) << "kl"
                         << 0.1;
  DiffusionObjectiveInputs single = unpaired({0.5}, {true});
  single.ktoRewardMean = torch::tensor(0.1, torch::kFloat64);
  QTest::newRow("KTO desirable r=0.5, global mean 0.1")
      << "diffusion-kto" << single << withBeta(0.1) << "loss" << 0.4900013331;
  DiffusionObjectiveInputs negative = unpaired({0.5}, {true});
  negative.ktoRewardMean = torch::tensor(-1.0, torch::kFloat64);
  QTest::newRow("KTO negative mean clamps z to 0")
      << "diffusion-kto" << negative << withBeta(0.1) << "loss" << 0.4875026035;
}

void TestDiffusionObjectives::specVectors() {
  QFETCH(QString, name);
  QFETCH(DiffusionObjectiveInputs, inputs);
  QFETCH(ObjectiveParams, params);
  QFETCH(QString, quantity);
  QFETCH(double, expected);
  const ObjectiveOutput out = run(name.toStdString(), inputs, params);
  QCOMPARE(out.loss.scalar_type(), torch::kFloat64);
  const double got = quantity == "loss" ? value(out.loss) : value(out.metrics.at(quantity.toStdString()));
  const QString detail = QString("got %1, expected %2").arg(got, 0, 'g', 14).arg(expected, 0, 'g', 14);
  QVERIFY2(std::abs(got - expected) < 1e-10 * std::max(1.0, std::abs(expected)), qPrintable(detail));
}

// fp32 inputs are computed in fp32; β·(MSE gap) loses ~1e-5 there (algorithms.md §0.2).
void TestDiffusionObjectives::float32InputsGiveFloat32Loss() {
  DiffusionObjectiveInputs in = mses(0.1000, 0.1002, 0.1001, 0.1001);
  for (torch::Tensor *t : {&in.mseModelW, &in.mseModelL, &in.mseRefW, &in.mseRefL})
    *t = t->to(torch::kBFloat16);
  const ObjectiveOutput half = run("diffusion-dpo", in, withBeta(5000));
  QCOMPARE(half.loss.scalar_type(), torch::kFloat32);
  in = mses(0.1000, 0.1002, 0.1001, 0.1001);
  for (torch::Tensor *t : {&in.mseModelW, &in.mseModelL, &in.mseRefW, &in.mseRefL})
    *t = t->to(torch::kFloat32);
  const ObjectiveOutput out = run("diffusion-dpo", in, withBeta(5000));
  QCOMPARE(out.loss.scalar_type(), torch::kFloat32);
  QVERIFY(std::abs(value(out.loss) - 0.4740769842) < 1e-5);
}

void TestDiffusionObjectives::stepZeroInvariant_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<ObjectiveParams>("params");
  QTest::addColumn<double>("expected"); // NaN: the mean winner MSE
  QTest::newRow("diffusion-dpo beta 5000") << "diffusion-dpo" << withBeta(5000) << std::log(2.0);
  QTest::newRow("diffusion-dpo beta 2000") << "diffusion-dpo" << withBeta(2000) << std::log(2.0);
  QTest::newRow("dspo: winner SFT loss") << "dspo" << withBeta(0.001) << std::nan("");
  QTest::newRow("dspo beta 0.05: winner SFT loss") << "dspo" << withBeta(0.05) << std::nan("");
  QTest::newRow("dspo-sdxl-path: (1 - 1/2)^2") << "dspo-sdxl-path" << withBeta(5000) << 0.25;
  QTest::newRow("diffusion-kto: 1 - 1/2") << "diffusion-kto" << withBeta(1000) << 0.5;
}

// Policy == reference: the Diffusion-DPO logit is 0 on every pair, so g = 1/2 and no pair is
// ranked correctly (a tie counts as wrong).
void TestDiffusionObjectives::stepZeroInvariant() {
  QFETCH(QString, name);
  QFETCH(ObjectiveParams, params);
  QFETCH(double, expected);
  DiffusionObjectiveInputs in = predictions(0.0);
  in.predRefW = in.predModelW.detach().clone();
  in.predRefL = in.predModelL.detach().clone();
  const ObjectiveOutput out = run(name.toStdString(), in, params);
  if (std::isnan(expected))
    expected = value(diffusionMse(in.predModelW, in.noise).mean());
  QVERIFY2(std::abs(value(out.loss) - expected) < 1e-12,
           qPrintable(QString("loss %1, expected %2").arg(value(out.loss), 0, 'g', 14).arg(expected)));
  QCOMPARE(value(out.metrics.at("implicit_acc")), 0.0);
  if (out.metrics.count("dspo/g"))
    QCOMPARE(value(out.metrics.at("dspo/g")), 0.5);
  if (out.metrics.count("inside_term"))
    QCOMPARE(value(out.metrics.at("inside_term")), 0.0);
}

void TestDiffusionObjectives::metricsAreDetachedScalars_data() {
  QTest::addColumn<QString>("name");
  for (const ObjectiveInfo &info : preflab::core::objectiveInfos(Modality::Image))
    QTest::newRow(info.name.c_str()) << QString::fromStdString(info.name);
}

void TestDiffusionObjectives::metricsAreDetachedScalars() {
  QFETCH(QString, name);
  const std::string n = name.toStdString();
  const ObjectiveOutput out = run(n, predictions(0.3), defaultParams(n));
  QCOMPARE(out.loss.dim(), 0);
  QVERIFY(out.loss.requires_grad());
  QVERIFY(std::isfinite(value(out.loss)));
  QVERIFY(out.metrics.count("implicit_acc") == 1);
  for (const std::string &key : kMseMetrics)
    QVERIFY2(out.metrics.count(key) == 1, key.c_str());
  for (const auto &[key, metric] : out.metrics) {
    QVERIFY2(metric.dim() == 0 && !metric.requires_grad(), key.c_str());
    QVERIFY2(std::isfinite(value(metric)), key.c_str());
  }
}

void TestDiffusionObjectives::gradientsReachPolicyNotReference_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<double>("beta");
  QTest::addColumn<bool>("loserGetsGradient");
  QTest::newRow("diffusion-dpo") << "diffusion-dpo" << 5.0 << true;
  QTest::newRow("dspo") << "dspo" << 0.5 << true;
  QTest::newRow("dspo-sdxl-path") << "dspo-sdxl-path" << 5.0 << true;
  QTest::newRow("diffusion-kto") << "diffusion-kto" << 5.0 << true;
  QTest::newRow("diffusion-sft") << "diffusion-sft" << 1.0 << false;
}

// Reference inputs that (wrongly) require grad still receive none: they are detached inside.
void TestDiffusionObjectives::gradientsReachPolicyNotReference() {
  QFETCH(QString, name);
  QFETCH(double, beta);
  QFETCH(bool, loserGetsGradient);
  DiffusionObjectiveInputs in = predictions(0.3);
  in.mseModelW = diffusionMse(in.predModelW, in.noise);
  in.mseModelL = diffusionMse(in.predModelL, in.noise);
  in.predRefW.requires_grad_(true);
  in.predRefL.requires_grad_(true);
  in.mseRefW = diffusionMse(in.predRefW, in.noise);
  in.mseRefL = diffusionMse(in.predRefL, in.noise);
  run(name.toStdString(), in, withBeta(beta)).loss.backward();
  QVERIFY(hasGrad(in.predModelW));
  QCOMPARE(hasGrad(in.predModelL), loserGetsGradient);
  QVERIFY(!hasGrad(in.predRefW));
  QVERIFY(!hasGrad(in.predRefL));
}

void TestDiffusionObjectives::gradientsMatchFiniteDifferences_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<ObjectiveParams>("params");
  ObjectiveParams sdxlLow = withBeta(4.0);
  sdxlLow.set("sdxl_gap_threshold", 0.01); // far below the gap: the weighted-gap branch
  ObjectiveParams sdxlHigh = withBeta(4.0);
  sdxlHigh.set("sdxl_gap_threshold", 10.0); // far above: the g² branch
  ObjectiveParams kto = withBeta(5.0);
  kto.set("undesirable_weight", 1.5);
  QTest::newRow("diffusion-dpo") << "diffusion-dpo" << withBeta(5.0);
  QTest::newRow("dspo beta 0.5") << "dspo" << withBeta(0.5);
  QTest::newRow("dspo beta 3") << "dspo" << withBeta(3.0);
  QTest::newRow("dspo-sdxl-path gap branch") << "dspo-sdxl-path" << sdxlLow;
  QTest::newRow("dspo-sdxl-path g2 branch") << "dspo-sdxl-path" << sdxlHigh;
  QTest::newRow("diffusion-sft") << "diffusion-sft" << withBeta(1.0);
  QTest::newRow("diffusion-kto, fixed z") << "diffusion-kto" << kto;
}

// Autograd against central differences in every element of both policy predictions (float64).
// KTO's z is held fixed through ktoRewardMean: the code detaches it, differences would not.
void TestDiffusionObjectives::gradientsMatchFiniteDifferences() {
  QFETCH(QString, name);
  QFETCH(ObjectiveParams, params);
  const std::string n = name.toStdString();
  DiffusionObjectiveInputs in = predictions(0.3, 11);
  if (n == "diffusion-kto")
    in.ktoRewardMean = torch::tensor(0.02, torch::kFloat64);
  run(n, in, params).loss.backward();
  for (torch::Tensor leaf : {in.predModelW, in.predModelL}) {
    const torch::Tensor autograd = leaf.grad().defined() ? leaf.grad().clone() : torch::zeros_like(leaf);
    const torch::Tensor numeric = finiteDifference(n, in, params, leaf.detach());
    const double diff = maxAbsDiff(autograd, numeric);
    QVERIFY2(diff < 1e-8, qPrintable(QString("max |autograd - numeric| = %1").arg(diff)));
  }
}

// detach_target: same loss, gradient 2·(ε_θ^w − ε*)/(B·C·H·W) only, nothing to the loser.
void TestDiffusionObjectives::detachTargetChangesTheGradient() {
  const double beta = 0.8;
  ObjectiveParams detached = withBeta(beta);
  detached.set("detach_target", 1.0);
  DiffusionObjectiveInputs a = predictions(0.3);
  DiffusionObjectiveInputs b = predictions(0.3);
  const ObjectiveOutput full = run("dspo", a, withBeta(beta));
  const ObjectiveOutput fixed = run("dspo", b, detached);
  QVERIFY(std::abs(value(full.loss) - value(fixed.loss)) < 1e-14);
  full.loss.backward();
  fixed.loss.backward();
  torch::Tensor analytic;
  {
    torch::NoGradGuard noGrad;
    const torch::Tensor mw = diffusionMse(b.predModelW, b.noise), ml = diffusionMse(b.predModelL, b.noise);
    const torch::Tensor rw = diffusionMse(b.predRefW, b.noise), rl = diffusionMse(b.predRefL, b.noise);
    const torch::Tensor g = 1 - torch::sigmoid(-0.5 * beta * ((mw - ml) - (rw - rl)));
    const torch::Tensor target = b.noise + beta * g.view({-1, 1, 1, 1}) * (b.predModelW - b.predRefW);
    analytic = 2 * (b.predModelW - target) / static_cast<double>(b.predModelW.numel());
  }
  QVERIFY2(maxAbsDiff(b.predModelW.grad(), analytic) < 1e-14, "detached gradient is not analytic");
  QVERIFY(!hasGrad(b.predModelL));
  QVERIFY(hasGrad(a.predModelL));
  QVERIFY2(maxAbsDiff(a.predModelW.grad(), b.predModelW.grad()) > 1e-4, "switch changed nothing");
}

void TestDiffusionObjectives::sdxlPathRejectsDetachTarget() {
  ObjectiveParams p = withBeta(5000);
  p.set("detach_target", 1.0);
  std::string key;
  try {
    run("dspo-sdxl-path", predictions(0.3), p);
  } catch (const InputError &e) {
    key = e.key();
  }
  QCOMPARE(key, std::string("detach_target"));
}

// The released code's switch: D = mean_b mse(ε_θ^w − ε_ref^w) against 0.1.
void TestDiffusionObjectives::sdxlPathSwitchesOnThePredictionGap() {
  for (const double spread : {0.05, 0.3, 0.6}) {
    const DiffusionObjectiveInputs in = predictions(spread);
    const ObjectiveOutput out = run("dspo-sdxl-path", in, withBeta(3.0));
    torch::NoGradGuard noGrad;
    const torch::Tensor pred2 = in.predModelW - in.predRefW;
    const double gap = value(diffusionMse(in.predModelW, in.predRefW).mean());
    QVERIFY(std::abs(value(out.metrics.at("dspo/pred_gap")) - gap) < 1e-14);
    const torch::Tensor inside =
        -0.5 * 3.0 *
        ((diffusionMse(in.predModelW, in.noise) - diffusionMse(in.predModelL, in.noise)) -
         (diffusionMse(in.predRefW, in.noise) - diffusionMse(in.predRefL, in.noise)));
    const torch::Tensor g = 1 - torch::sigmoid(inside);
    const double expected =
        gap >= 0.1 ? value((g.view({-1, 1, 1, 1}) * pred2).pow(2).mean()) : value(g.pow(2).mean());
    QVERIFY2(std::abs(value(out.loss) - expected) < 1e-14, qPrintable(QString("spread %1").arg(spread)));
    QCOMPARE(value(out.metrics.at("dspo/sdxl_branch")), gap >= 0.1 ? 1.0 : 0.0);
  }
}

void TestDiffusionObjectives::sftIsTheWinnerMseMean() {
  DiffusionObjectiveInputs only;
  only.mseModelW = vec({0.2, 0.5, 0.11});
  const ObjectiveOutput out = run("diffusion-sft", only, withBeta(1.0));
  QVERIFY(std::abs(value(out.loss) - 0.27) < 1e-14);
  QCOMPARE(out.metrics.count("implicit_acc"), std::size_t(0)); // no loser or reference given
  DiffusionObjectiveInputs in = predictions(0.3);
  const ObjectiveOutput fromPredictions = run("diffusion-sft", in, withBeta(1.0));
  // With one (C, H, W) per sample, the mean of per-sample means is the plain element mean.
  const double plain = value((in.predModelW - in.noise).pow(2).mean());
  QVERIFY(std::abs(value(fromPredictions.loss) - plain) < 1e-14);
}

void TestDiffusionObjectives::givenMsesEqualDerivedOnes() {
  for (const std::string name : {"diffusion-dpo", "dspo", "dspo-sdxl-path", "diffusion-kto"}) {
    DiffusionObjectiveInputs derived = predictions(0.3);
    DiffusionObjectiveInputs given = predictions(0.3);
    given.mseModelW = diffusionMse(given.predModelW, given.noise);
    given.mseModelL = diffusionMse(given.predModelL, given.noise);
    given.mseRefW = diffusionMse(given.predRefW, given.noise);
    given.mseRefL = diffusionMse(given.predRefL, given.noise);
    const ObjectiveOutput a = run(name, derived, withBeta(2.0));
    const ObjectiveOutput b = run(name, given, withBeta(2.0));
    QVERIFY2(std::abs(value(a.loss) - value(b.loss)) < 1e-14, name.c_str());
    a.loss.backward();
    b.loss.backward();
    QVERIFY2(maxAbsDiff(derived.predModelW.grad(), given.predModelW.grad()) < 1e-14, name.c_str());
  }
}

// z = max(0, mean(mse_ref − mse_model)) carries no gradient: d loss / d mse_model is the
// formula with z held constant.
void TestDiffusionObjectives::ktoReferencePointIsDetachedAndClamped() {
  DiffusionObjectiveInputs in = unpaired({0.05, -0.01, 0.02}, {true, false, true});
  in.mseModel.requires_grad_(true);
  const double beta = 10.0;
  const ObjectiveOutput out = run("diffusion-kto", in, withBeta(beta));
  out.loss.backward();
  const double z = value(out.metrics.at("kl"));
  QVERIFY(std::abs(z - 0.02) < 1e-14);
  const torch::Tensor r = in.mseRef - in.mseModel.detach();
  const torch::Tensor s = vec({1, -1, 1});
  const torch::Tensor sig = torch::sigmoid(s * beta * (r - z));
  // d/dm (1 − σ(sβ(r − z))) with r = ref − m: σ'·sβ, averaged over 3 rows.
  const torch::Tensor expected = sig * (1 - sig) * s * beta / 3.0;
  QVERIFY(maxAbsDiff(in.mseModel.grad(), expected) < 1e-14);
  const ObjectiveOutput clamped =
      run("diffusion-kto", unpaired({-0.05, 0.01}, {true, false}), withBeta(beta));
  QCOMPARE(value(clamped.metrics.at("kl")), 0.0);
}

void TestDiffusionObjectives::badInputsThrow_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<DiffusionObjectiveInputs>("inputs");
  QTest::addColumn<QString>("mentions");
  DiffusionObjectiveInputs mismatched = mses(0.1, 0.2, 0.1, 0.2);
  mismatched.mseModelL = vec({0.2, 0.3});
  DiffusionObjectiveInputs twoD = mses(0.1, 0.2, 0.1, 0.2);
  twoD.mseRefW = vec({0.1}).view({1, 1});
  DiffusionObjectiveInputs missing = mses(0.1, 0.2, 0.1, 0.2);
  missing.mseRefL = torch::Tensor();
  DiffusionObjectiveInputs wrongPrediction = predictions(0.3);
  wrongPrediction.predModelW = torch::zeros({4, 2, 3, 4}, torch::kFloat64);
  DiffusionObjectiveInputs flatPrediction = predictions(0.3);
  flatPrediction.predRefW = torch::zeros({4, 18}, torch::kFloat64);
  DiffusionObjectiveInputs noPredictions = mses(0.1, 0.2, 0.1, 0.2);
  DiffusionObjectiveInputs fewerSamples = predictions(0.3);
  fewerSamples.mseModelW = vec({0.1, 0.2});
  fewerSamples.mseModelL = vec({0.1, 0.2});
  fewerSamples.mseRefW = vec({0.1, 0.2});
  fewerSamples.mseRefL = vec({0.1, 0.2});
  DiffusionObjectiveInputs noNoise = predictions(0.3);
  noNoise.noise = torch::Tensor();
  DiffusionObjectiveInputs labels = unpaired({0.1, 0.2}, {true, false});
  labels.desirable = flags({true});
  DiffusionObjectiveInputs twoMeans = unpaired({0.1, 0.2}, {true, false});
  twoMeans.ktoRewardMean = vec({0.1, 0.2});
  DiffusionObjectiveInputs noRef = unpaired({0.1, 0.2}, {true, false});
  noRef.mseRef = torch::Tensor();
  DiffusionObjectiveInputs empty;
  empty.mseModelW = vec({});
  QTest::newRow("dpo: loser MSE batch size") << "diffusion-dpo" << mismatched << "batch size";
  QTest::newRow("dpo: 2-D reference MSE") << "diffusion-dpo" << twoD << "mseRefW";
  QTest::newRow("dpo: missing reference MSE") << "diffusion-dpo" << missing << "mseRefL";
  QTest::newRow("dspo: prediction vs noise shape") << "dspo" << wrongPrediction << "predModelW";
  QTest::newRow("dspo: 2-D prediction") << "dspo" << flatPrediction << "predRefW";
  QTest::newRow("dspo: MSEs only") << "dspo" << noPredictions << "predModelW";
  QTest::newRow("dspo: MSEs and predictions disagree on B") << "dspo" << fewerSamples << "samples";
  QTest::newRow("sdxl: predictions without noise") << "dspo-sdxl-path" << noNoise << "noise";
  QTest::newRow("kto: label count") << "diffusion-kto" << labels << "desirable";
  QTest::newRow("kto: reward mean of two values") << "diffusion-kto" << twoMeans << "ktoRewardMean";
  QTest::newRow("kto: unpaired without reference MSEs") << "diffusion-kto" << noRef << "mseRef";
  QTest::newRow("sft: empty batch") << "diffusion-sft" << empty << "empty batch";
}

void TestDiffusionObjectives::badInputsThrow() {
  QFETCH(QString, name);
  QFETCH(DiffusionObjectiveInputs, inputs);
  QFETCH(QString, mentions);
  std::string message;
  try {
    run(name.toStdString(), inputs, withBeta(1.0));
  } catch (const c10::Error &e) {
    message = e.what_without_backtrace();
  }
  QVERIFY2(!message.empty(), "no error thrown");
  QVERIFY2(message.find(mentions.toStdString()) != std::string::npos, message.c_str());
  QVERIFY2(message.find(name.toStdString()) != std::string::npos, message.c_str());
}

void TestDiffusionObjectives::badParametersThrowInputError_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<ObjectiveParams>("params");
  QTest::addColumn<QString>("key");
  ObjectiveParams threshold = withBeta(5000);
  threshold.set("sdxl_gap_threshold", -0.1);
  ObjectiveParams weight = withBeta(1000);
  weight.set("undesirable_weight", -1);
  QTest::newRow("dpo beta 0") << "diffusion-dpo" << withBeta(0) << "beta";
  QTest::newRow("dspo beta negative") << "dspo" << withBeta(-0.001) << "beta";
  QTest::newRow("sdxl threshold negative") << "dspo-sdxl-path" << threshold << "sdxl_gap_threshold";
  QTest::newRow("kto negative weight") << "diffusion-kto" << weight << "undesirable_weight";
  QTest::newRow("kto beta NaN") << "diffusion-kto" << withBeta(std::nan("")) << "beta";
}

void TestDiffusionObjectives::badParametersThrowInputError() {
  QFETCH(QString, name);
  QFETCH(ObjectiveParams, params);
  QFETCH(QString, key);
  std::string caught;
  try {
    run(name.toStdString(), predictions(0.3), params);
  } catch (const InputError &e) {
    caught = e.key();
  }
  QCOMPARE(QString::fromStdString(caught), key);
}

PREFLAB_TEST_MAIN(TestDiffusionObjectives)

} // namespace preflab_tests
#include "tst_diffusion_objectives.moc"
