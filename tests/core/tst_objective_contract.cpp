// The registry's contract, checked for every objective it holds, text and image: the declaration
// is complete and consistent, the config, the help and validation follow it, the function runs on
// a batch with the declared defaults, and its vector file (tests/data/objectives/<name>.json,
// written by Python PyTorch from the published definitions) is reproduced. No objective is named
// here: a new one is covered by its registry line and its vector file.
#include "core/io/input_error.h"
#include "core/objectives/diffusion_objectives.h"
#include "core/objectives/objective.h"
#include "core/objectives/objective_info.h"
#include "core/train/image_train_config.h"
#include "core/train/text_train_config.h"

#include <torch/torch.h>

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

double value(const torch::Tensor &scalar) {
  return scalar.item<double>();
}

torch::Tensor vec(const std::vector<double> &values) {
  return torch::tensor(values, torch::kFloat64);
}

// A JSON array as a float64 tensor of `shape` (booleans as a bool tensor).
torch::Tensor tensorFromJson(const nlohmann::json &array, std::vector<int64_t> shape = {}) {
  if (shape.empty())
    shape = {static_cast<int64_t>(array.size())};
  if (!array.empty() && array.front().is_boolean()) {
    std::vector<int64_t> flags;
    for (const auto &v : array)
      flags.push_back(v.get<bool>() ? 1 : 0);
    return torch::tensor(flags).to(torch::kBool).reshape(shape);
  }
  return vec(array.get<std::vector<double>>()).reshape(shape);
}

// A text batch with every input field filled (sums only, so the means are derived), policy leaves
// requiring grad: whatever a text objective reads, it finds.
ObjectiveInputs textBatch() {
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
  in.klRef = vec({-22.4, -21.1});
  in.rewardChosen = vec({0.3, -0.2, 1.1}).requires_grad_(true);
  in.rewardRejected = vec({0.1, 0.4, -0.5}).requires_grad_(true);
  return in;
}

// An image batch of 4 pairs of ε-predictions (2, 3, 3), the policy's requiring grad.
DiffusionObjectiveInputs imageBatch() {
  torch::manual_seed(7);
  const auto opts = torch::TensorOptions(torch::kFloat64);
  DiffusionObjectiveInputs in;
  in.noise = torch::randn({4, 2, 3, 3}, opts);
  in.predRefW = in.noise + 0.7 * torch::randn({4, 2, 3, 3}, opts);
  in.predRefL = in.noise + 0.7 * torch::randn({4, 2, 3, 3}, opts);
  in.predModelW = (in.predRefW + 0.3 * torch::randn({4, 2, 3, 3}, opts)).requires_grad_(true);
  in.predModelL = (in.predRefL + 0.3 * torch::randn({4, 2, 3, 3}, opts)).requires_grad_(true);
  return in;
}

ObjectiveOutput runDefaults(const ObjectiveInfo &info, const ObjectiveParams &params) {
  if (info.modality == Modality::Text)
    return objectiveFunction(info.name)(textBatch(), params);
  return diffusionObjectiveFunction(info.name)(imageBatch(), params);
}

// A value just outside `p`'s allowed range (below it, or above it when nothing is below).
std::optional<double> outsideRange(const ObjectiveParam &p) {
  if (p.boolean)
    return p.high > 0 ? std::nullopt : std::optional<double>(1.0);
  if (p.low > -1e6)
    return p.low - 1.0; // (for an image run's beta, 0 means "the default": go below it)
  if (p.high < 1e6)
    return p.highOpen ? p.high : p.high + 1.0;
  return std::nullopt;
}

std::string vectorPath(const std::string &name) {
  return std::string(PREFLAB_TEST_DATA_DIR) + "/objectives/" + name + ".json";
}

// The params of a vector case: the declared defaults, then the case's own values.
ObjectiveParams caseParams(const ObjectiveInfo &info, const nlohmann::json &j) {
  ObjectiveParams p = defaultObjectiveParams(info);
  for (const auto &[key, v] : j.items())
    p.set(key, v.is_boolean() ? (v.get<bool>() ? 1.0 : 0.0) : v.get<double>());
  return p;
}

ObjectiveInputs textInputsFromJson(const nlohmann::json &inputs, const std::string &set) {
  ObjectiveInputs in;
  if (set == "pairwise") {
    const auto &p = inputs.at("pairwise");
    in.policyChosen = tensorFromJson(p.at("policy_chosen"));
    in.policyRejected = tensorFromJson(p.at("policy_rejected"));
    in.policyChosenMean = tensorFromJson(p.at("policy_chosen_mean"));
    in.policyRejectedMean = tensorFromJson(p.at("policy_rejected_mean"));
    in.refChosen = tensorFromJson(p.at("ref_chosen"));
    in.refRejected = tensorFromJson(p.at("ref_rejected"));
    in.lenChosen = tensorFromJson(p.at("len_chosen"));
    in.lenRejected = tensorFromJson(p.at("len_rejected"));
  } else if (set == "unpaired" || set == "unpaired_no_kl") {
    const auto &u = inputs.at("unpaired");
    in.policyCompletion = tensorFromJson(u.at("policy_completion"));
    in.refCompletion = tensorFromJson(u.at("ref_completion"));
    in.desirable = tensorFromJson(u.at("desirable"));
    if (set == "unpaired") {
      in.klPolicy = tensorFromJson(u.at("kl_policy"));
      in.klRef = tensorFromJson(u.at("kl_ref"));
    }
  } else {
    const auto &r = inputs.at("reward");
    in.rewardChosen = tensorFromJson(r.at("reward_chosen"));
    in.rewardRejected = tensorFromJson(r.at("reward_rejected"));
  }
  return in;
}

// One image input set; the policy tensors become leaves that require grad, kept in `leaves`.
DiffusionObjectiveInputs imageInputsFromJson(const nlohmann::json &set, const std::vector<int64_t> &shape,
                                             std::map<std::string, torch::Tensor> &leaves) {
  DiffusionObjectiveInputs in;
  if (set.contains("noise")) {
    in.noise = tensorFromJson(set.at("noise"), shape);
    in.predRefW = tensorFromJson(set.at("pred_ref_w"), shape);
    in.predRefL = tensorFromJson(set.at("pred_ref_l"), shape);
    in.predModelW = leaves["pred_model_w"] =
        tensorFromJson(set.at("pred_model_w"), shape).requires_grad_(true);
    in.predModelL = leaves["pred_model_l"] =
        tensorFromJson(set.at("pred_model_l"), shape).requires_grad_(true);
  } else {
    in.mseModel = leaves["mse_model"] = tensorFromJson(set.at("mse_model")).requires_grad_(true);
    in.mseRef = tensorFromJson(set.at("mse_ref"));
    in.desirable = tensorFromJson(set.at("desirable"));
  }
  return in;
}

// One pair whose policy-minus-reference log-ratio margin is `margin` (per token when the objective
// forms it from token means), with the given response lengths.
ObjectiveInputs pairWithMargin(const ObjectiveInfo &info, double margin, double lenW, double lenL) {
  ObjectiveInputs in;
  in.refChosen = vec({-15.0});
  in.refRejected = vec({-12.0});
  in.policyChosen = vec({-15.0 + margin * (info.marginOnTokenMeans ? lenW : 1.0)});
  in.policyRejected = vec({-12.0});
  in.lenChosen = vec({lenW});
  in.lenRejected = vec({lenL});
  return in;
}

// The loss expected when a share α of raters prefers y_w: α·L(h) + (1 − α)·L(the pair swapped).
double expectedLoss(const ObjectiveInfo &info, const ObjectiveParams &params, double h, const PairFacts &f) {
  const auto &fn = objectiveFunction(info.name);
  const double won = value(fn(pairWithMargin(info, h, f.lenChosen, f.lenRejected), params).loss);
  const double lost = value(fn(pairWithMargin(info, -h, f.lenRejected, f.lenChosen), params).loss);
  return f.raterFraction * won + (1.0 - f.raterFraction) * lost;
}

// The declared parameters with β = 1 and label smoothing, where declared, at 0.2: a curved loss.
ObjectiveParams curvedParams(const ObjectiveInfo &info) {
  ObjectiveParams params = defaultObjectiveParams(info);
  params.set("beta", 1.0);
  if (info.param("label_smoothing"))
    params.set("label_smoothing", 0.2);
  return params;
}

void addRowPerObjective() {
  QTest::addColumn<QString>("name");
  for (const ObjectiveInfo &info : objectiveInfos())
    QTest::newRow(info.name.c_str()) << QString::fromStdString(info.name);
}

const ObjectiveInfo &fetchInfo(const QString &name) {
  return *findObjectiveInfo(name.toStdString());
}

} // namespace

class TestObjectiveContract : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void registryHoldsBothModalities();
  void declarationIsComplete_data() { addRowPerObjective(); }
  void declarationIsComplete();
  void sharedKeysAgree();
  void configHasEveryDeclaredKey();
  void outOfRangeValuesAreRejected_data() { addRowPerObjective(); }
  void outOfRangeValuesAreRejected();
  void runsWithItsDefaults_data() { addRowPerObjective(); }
  void runsWithItsDefaults();
  void startsAtLn2WhenItSaysSo_data() { addRowPerObjective(); }
  void startsAtLn2WhenItSaysSo();
  void meanOverRowsSplitsExactly_data() { addRowPerObjective(); }
  void meanOverRowsSplitsExactly();
  void referenceVectors_data() { addRowPerObjective(); }
  void referenceVectors();
  void everyVectorFileIsAnObjective();
  void optimumMinimisesExpectedLoss_data() { addRowPerObjective(); }
  void optimumMinimisesExpectedLoss();
  void marginLossIsTheLoss_data() { addRowPerObjective(); }
  void marginLossIsTheLoss();
};

void TestObjectiveContract::registryHoldsBothModalities() {
  QVERIFY(objectiveInfos(Modality::Text).size() >= 1);
  QVERIFY(objectiveInfos(Modality::Image).size() >= 1);
  QCOMPARE(objectiveInfos(Modality::Text).size() + objectiveInfos(Modality::Image).size(),
           objectiveInfos().size());
  std::set<std::string> names;
  for (const ObjectiveInfo &info : objectiveInfos())
    QVERIFY2(names.insert(info.name).second, ("two objectives named " + info.name).c_str());
}

void TestObjectiveContract::declarationIsComplete() {
  QFETCH(QString, name);
  const ObjectiveInfo &info = fetchInfo(name);
  const QByteArray n = name.toUtf8();
  QVERIFY2(!info.title.empty() && !info.summary.empty(), n);
  const Modality other = info.modality == Modality::Text ? Modality::Image : Modality::Text;
  QCOMPARE(objectiveInfo(info.name, info.modality).name, info.name);
  QVERIFY_THROWS_EXCEPTION(InputError, objectiveInfo(info.name, other));
  if (info.modality == Modality::Text) {
    QVERIFY2(static_cast<bool>(objectiveFunction(info.name)), n);
    QVERIFY_THROWS_EXCEPTION(InputError, diffusionObjectiveFunction(info.name));
    QVERIFY2(!info.needsPredictions, n);
  } else {
    QVERIFY2(static_cast<bool>(diffusionObjectiveFunction(info.name)), n);
    QVERIFY_THROWS_EXCEPTION(InputError, objectiveFunction(info.name));
    QVERIFY2(!info.usesMeanLogp && info.kind != ObjectiveKind::Reward, n);
  }
  QVERIFY2(!info.usesMeanLogp || info.kind == ObjectiveKind::Pairwise, n);
  QVERIFY2(!info.needsReference || info.kind == ObjectiveKind::Pairwise ||
               info.kind == ObjectiveKind::Unpaired,
           n);
  std::set<std::string> keys;
  for (std::size_t i = 0; i < info.params.size(); ++i) {
    const ObjectiveParam &p = info.params[i];
    const QByteArray where = n + " " + QByteArray::fromStdString(p.key);
    QVERIFY2(keys.insert(p.key).second, where + ": declared twice");
    QVERIFY2(!p.help.empty(), where + ": no help");
    QVERIFY2(p.key != "beta" || i == 0, where + ": beta comes first");
    QVERIFY2(p.usualLow <= p.usualHigh, where);
    if (p.usualHigh > p.usualLow)
      QVERIFY2(p.usualLow <= p.defaultValue && p.defaultValue <= p.usualHigh,
               where + ": default outside usual range");
  }
  // The declared defaults pass the declared checks; β's usual range is what the diagnostics use.
  checkObjectiveParams(info, defaultObjectiveParams(info));
  QVERIFY2((info.param("beta") != nullptr) == (info.defaultBeta() > 0), n);
  QVERIFY2(info.param("beta") == nullptr || info.betaHigh() > info.betaLow(), n);
}

// A key two objectives of one modality declare is one config key: same type and default.
void TestObjectiveContract::sharedKeysAgree() {
  for (const Modality m : {Modality::Text, Modality::Image})
    for (const ObjectiveParamKey &k : objectiveParamKeys(m))
      for (const std::string &user : k.users) {
        const ObjectiveParam *p = objectiveInfo(user, m).param(k.param.key);
        QVERIFY(p != nullptr);
        const QByteArray where = QByteArray::fromStdString(user + " " + p->key);
        QVERIFY2(p->boolean == k.param.boolean, where);
        QCOMPARE(p->defaultValue, k.param.defaultValue);
      }
}

void TestObjectiveContract::configHasEveryDeclaredKey() {
  const auto helpKeys = [](const std::vector<ConfigKeyHelp> &help) {
    std::map<std::string, ConfigKeyHelp> out;
    for (const auto &h : help)
      out[h.key] = h;
    return out;
  };
  const auto text = helpKeys(textTrainConfigHelp());
  const auto image = helpKeys(imageTrainConfigHelp());
  for (const Modality m : {Modality::Text, Modality::Image})
    for (const ObjectiveParamKey &k : objectiveParamKeys(m)) // its meaning and allowed values
      QVERIFY2((m == Modality::Text ? text : image)
                       .at(k.param.key)
                       .help.find(k.param.help + ", " + allowedRange(k.param)) != std::string::npos,
               k.param.key.c_str());
  for (const ObjectiveInfo &info : objectiveInfos()) {
    const auto &help = info.modality == Modality::Text ? text : image;
    QVERIFY2(help.at("loss_type").help.find(info.name) != std::string::npos, info.name.c_str());
    for (const ObjectiveParam &p : info.params) {
      const QByteArray where = QByteArray::fromStdString(info.name + " " + p.key);
      QVERIFY2(help.count(p.key) == 1, where + ": not a config key");
      if (p.key == "beta")
        continue;
      QVERIFY2(help.at(p.key).help.find(info.name) != std::string::npos,
               where + ": help does not name its user");
    }
  }
}

// Each declared range is enforced by the function and by the config, naming the key.
void TestObjectiveContract::outOfRangeValuesAreRejected() {
  QFETCH(QString, name);
  const ObjectiveInfo &info = fetchInfo(name);
  for (const ObjectiveParam &p : info.params) {
    const std::optional<double> bad = outsideRange(p);
    if (!bad)
      continue;
    const QByteArray where = name.toUtf8() + " " + QByteArray::fromStdString(p.key);
    ObjectiveParams params = defaultObjectiveParams(info);
    params.set(p.key, *bad);
    std::string caught;
    try {
      runDefaults(info, params);
    } catch (const InputError &e) {
      caught = e.key();
      QVERIFY2(std::string(e.what()).find(allowedRange(p)) != std::string::npos || p.boolean, e.what());
    }
    QVERIFY2(caught == p.key, where + ": function did not reject " + QByteArray::number(*bad));
    const std::string assignment = p.key + "=" + (p.boolean ? std::string("true") : std::to_string(*bad));
    caught.clear();
    try {
      if (info.modality == Modality::Text) {
        TextTrainConfig c;
        c.task = "sentiment";
        c.lossType = info.name;
        applyOverride(c, assignment);
        c.validate();
      } else {
        ImageTrainConfig c;
        c.trainFile = "fashion-mnist";
        c.lossType = info.name;
        applyOverride(c, assignment);
        c.validate();
      }
    } catch (const InputError &e) {
      caught = e.key();
    }
    QVERIFY2(caught == p.key, where + ": config did not reject " + QByteArray::fromStdString(assignment));
  }
}

void TestObjectiveContract::runsWithItsDefaults() {
  QFETCH(QString, name);
  const ObjectiveInfo &info = fetchInfo(name);
  const ObjectiveOutput out = runDefaults(info, defaultObjectiveParams(info));
  QVERIFY(out.loss.defined());
  QCOMPARE(out.loss.dim(), 0);
  QVERIFY(out.loss.requires_grad());
  QVERIFY(std::isfinite(value(out.loss)));
  QVERIFY(!out.metrics.empty());
  for (const auto &[key, metric] : out.metrics) {
    QVERIFY2(metric.dim() == 0 && !metric.requires_grad(), key.c_str());
    QVERIFY2(std::isfinite(value(metric)), key.c_str());
  }
  out.loss.backward(); // a loss that cannot be differentiated would throw here
}

// The diagnostics' "loss flat at ln 2" relies on this declaration: with the policy equal to the
// reference (equal rewards for a reward model, equally long responses), such an objective's loss
// is ln 2; any other objective's is not.
void TestObjectiveContract::startsAtLn2WhenItSaysSo() {
  QFETCH(QString, name);
  const ObjectiveInfo &info = fetchInfo(name);
  ObjectiveParams params = defaultObjectiveParams(info);
  ObjectiveOutput out;
  if (info.modality == Modality::Text) {
    ObjectiveInputs in = textBatch();
    in.refChosen = in.policyChosen.detach().clone();
    in.refRejected = in.policyRejected.detach().clone();
    in.rewardRejected = in.rewardChosen.detach().clone();
    // Responses of unequal length stay so: an objective whose loss at zero margin depends on
    // them (R-DPO's softplus(−α·Δlen)) does not start at ln 2 and must not say so.
    out = objectiveFunction(info.name)(in, params);
  } else {
    DiffusionObjectiveInputs in = imageBatch();
    in.predModelW = in.predRefW.clone().requires_grad_(true);
    in.predModelL = in.predRefL.clone().requires_grad_(true);
    out = diffusionObjectiveFunction(info.name)(in, params);
  }
  const bool atLn2 = std::abs(value(out.loss) - std::log(2.0)) < 1e-6;
  QVERIFY2(atLn2 == info.startsAtLn2, qPrintable(QString("loss %1 at policy == reference, startsAtLn2 %2")
                                                     .arg(value(out.loss))
                                                     .arg(info.startsAtLn2)));
}

// The trainers shard a batch only for objectives declaring meanOverRows: for those, the batch's
// loss and metrics equal the row-weighted means of its two halves' (a 1 : 2 split of the text
// batch's 3 rows, 2 : 2 of the image batch's 4 pairs).
void TestObjectiveContract::meanOverRowsSplitsExactly() {
  QFETCH(QString, name);
  const ObjectiveInfo &info = fetchInfo(name);
  if (!info.meanOverRows)
    QSKIP("not declared a mean over rows: never sharded");
  const ObjectiveParams params = defaultObjectiveParams(info);
  const auto rows = [](const torch::Tensor &t, std::int64_t b, std::int64_t e, std::int64_t total) {
    return t.defined() && t.dim() > 0 && t.size(0) == total ? t.slice(0, b, e) : t;
  };
  std::vector<ObjectiveOutput> parts;
  ObjectiveOutput whole;
  std::vector<double> weights;
  if (info.modality == Modality::Text) {
    const ObjectiveInputs in = textBatch();
    whole = objectiveFunction(info.name)(in, params);
    for (auto [b, e] : {std::pair<std::int64_t, std::int64_t>{0, 1}, {1, 3}}) {
      ObjectiveInputs part = in;
      for (torch::Tensor *t : {&part.policyChosen, &part.policyRejected, &part.refChosen, &part.refRejected,
                               &part.lenChosen, &part.lenRejected, &part.rewardChosen, &part.rewardRejected})
        *t = rows(*t, b, e, 3);
      parts.push_back(objectiveFunction(info.name)(part, params));
      weights.push_back(double(e - b) / 3.0);
    }
  } else {
    const DiffusionObjectiveInputs in = imageBatch();
    whole = diffusionObjectiveFunction(info.name)(in, params);
    for (auto [b, e] : {std::pair<std::int64_t, std::int64_t>{0, 2}, {2, 4}}) {
      DiffusionObjectiveInputs part = in;
      for (torch::Tensor *t :
           {&part.predModelW, &part.predModelL, &part.predRefW, &part.predRefL, &part.noise})
        *t = rows(*t, b, e, 4);
      parts.push_back(diffusionObjectiveFunction(info.name)(part, params));
      weights.push_back(0.5);
    }
  }
  const auto combined = [&](const std::string &key) {
    double sum = 0;
    for (std::size_t i = 0; i < parts.size(); ++i)
      sum += weights[i] * value(key == "loss" ? parts[i].loss : parts[i].metrics.at(key));
    return sum;
  };
  QVERIFY(std::abs(combined("loss") - value(whole.loss)) < 1e-5 * std::max(1.0, std::abs(value(whole.loss))));
  for (const auto &[key, metric] : whole.metrics)
    QVERIFY2(std::abs(combined(key) - value(metric)) < 1e-5 * std::max(1.0, std::abs(value(metric))),
             qPrintable(QString("%1: halves give %2, the batch %3")
                            .arg(key.c_str())
                            .arg(combined(key))
                            .arg(value(metric))));
}

// tests/data/objectives/<name>.json: losses, metrics and (image) gradients from Python PyTorch in
// float64. Text objectives compute in fp32 (tolerance ~1e-5), image ones keep float64 (1e-12).
void TestObjectiveContract::referenceVectors() {
  QFETCH(QString, name);
  const ObjectiveInfo &info = fetchInfo(name);
  const std::string path = vectorPath(info.name);
  std::ifstream file(path);
  QVERIFY2(file.good(), ("no vector file " + path).c_str());
  const nlohmann::json doc = nlohmann::json::parse(file);
  QCOMPARE(doc.at("objective").get<std::string>(), info.name);
  QVERIFY2(!doc.at("cases").empty(), path.c_str());
  for (const nlohmann::json &c : doc.at("cases")) {
    const std::string caseName = c.at("name").get<std::string>();
    const ObjectiveParams params = caseParams(info, c.at("params"));
    std::map<std::string, torch::Tensor> leaves;
    ObjectiveOutput out;
    double tolerance = 1e-5;
    if (info.modality == Modality::Text) {
      out = objectiveFunction(info.name)(textInputsFromJson(doc.at("inputs"), c.at("inputs")), params);
    } else {
      const auto shape = doc.at("shape").get<std::vector<int64_t>>();
      const auto in =
          imageInputsFromJson(doc.at("inputs").at(c.at("inputs").get<std::string>()), shape, leaves);
      out = diffusionObjectiveFunction(info.name)(in, params);
      tolerance = 1e-12;
    }
    for (const auto &[key, expectedJson] : c.at("expected").items()) {
      QVERIFY2(key == "loss" || out.metrics.count(key) == 1, (caseName + ": missing metric " + key).c_str());
      const double expected = expectedJson.get<double>();
      const double got = key == "loss" ? value(out.loss) : value(out.metrics.at(key));
      QVERIFY2(std::abs(got - expected) <= tolerance * std::max(1.0, std::abs(expected)),
               qPrintable(QString("%1 %2: got %3, expected %4")
                              .arg(caseName.c_str(), key.c_str())
                              .arg(got, 0, 'g', 16)
                              .arg(expected, 0, 'g', 16)));
    }
    if (!c.contains("gradients"))
      continue;
    out.loss.backward();
    for (const auto &[key, gradJson] : c.at("gradients").items()) {
      const torch::Tensor &leaf = leaves.at(key);
      const torch::Tensor got = leaf.grad().defined() ? leaf.grad() : torch::zeros_like(leaf);
      const double diff = (got - tensorFromJson(gradJson, leaf.sizes().vec())).abs().max().item<double>();
      QVERIFY2(diff < 1e-12,
               qPrintable(QString("%1: gradient %2 off by %3").arg(caseName.c_str(), key.c_str()).arg(diff)));
    }
  }
}

// A vector file without an objective would be a test that checks nothing.
void TestObjectiveContract::everyVectorFileIsAnObjective() {
  int files = 0;
  for (const auto &entry :
       std::filesystem::directory_iterator(std::string(PREFLAB_TEST_DATA_DIR) + "/objectives")) {
    if (entry.path().extension() != ".json")
      continue;
    ++files;
    QVERIFY2(findObjectiveInfo(entry.path().stem().string()) != nullptr, entry.path().c_str());
  }
  QCOMPARE(std::size_t(files), objectiveInfos().size());
}

// Where an objective declares its optimum, that margin minimises the loss expected under the
// raters' split, computed with the objective's own loss function.
void TestObjectiveContract::optimumMinimisesExpectedLoss() {
  QFETCH(QString, name);
  const ObjectiveInfo &info = fetchInfo(name);
  if (!info.optimalMargin)
    QSKIP("declares no closed-form optimum");
  const ObjectiveParams params = curvedParams(info);
  for (double alpha : {0.6, 0.7, 0.75}) { // inside (ε, 1 − ε): robust's optimum is finite there
    const PairFacts facts{alpha, 10, 6};
    const double h = info.optimalMargin(params, facts);
    const double at = expectedLoss(info, params, h, facts);
    for (double step : {-0.05, 0.05}) {
      const double nearby = expectedLoss(info, params, h + step, facts);
      QVERIFY2(at < nearby, qPrintable(QString("alpha %1: expected loss %2 at h* = %3, %4 at h* %5 %6")
                                           .arg(alpha)
                                           .arg(at, 0, 'g', 10)
                                           .arg(h)
                                           .arg(nearby, 0, 'g', 10)
                                           .arg(step < 0 ? "-" : "+")
                                           .arg(std::abs(step))));
    }
  }
}

// Where an objective declares its loss as a function of the margin (for the per-pair difficulty),
// that function is its loss.
void TestObjectiveContract::marginLossIsTheLoss() {
  QFETCH(QString, name);
  const ObjectiveInfo &info = fetchInfo(name);
  if (!info.marginLoss)
    QSKIP("declares no margin loss");
  ObjectiveParams params = defaultObjectiveParams(info);
  params.set("beta", 0.7);
  for (double h : {-2.0, 0.0, 0.4, 3.0}) {
    const PairFacts facts{0.8, 9, 4};
    const auto declared = info.marginLoss(params, h, facts);
    QVERIFY2(declared.has_value(), "empty at the declared defaults");
    const double actual = value(objectiveFunction(info.name)(pairWithMargin(info, h, 9, 4), params).loss);
    QVERIFY2(std::abs(*declared - actual) < 1e-5,
             qPrintable(QString("h %1: declared %2, loss %3").arg(h).arg(*declared).arg(actual)));
  }
}

PREFLAB_TEST_MAIN(TestObjectiveContract)

} // namespace preflab_tests
#include "tst_objective_contract.moc"
