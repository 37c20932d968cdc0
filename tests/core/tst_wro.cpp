// Tests win-rate optimisation: h of the judge's probability, the KL-penalised rewards and the
// leave-one-out advantages against values computed in PyTorch from the definitions
// (tests/data/objectives/wro_reference_values.py), the step statistics, and end-to-end steps on a
// tiny sentiment task with the raters and with a reward model as the judge, an exact resume, and
// the settings WRO refuses.
#include "core/jobs/text_training.h"
#include "core/train/rloo.h"
#include "core/train/run_folder.h"
#include "core/train/text_train_config.h"

#include "tests/core/test_files.h"
#include "tests/core/tiny_runs.h"
#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <cmath>
#include <filesystem>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

TextTrainConfig tinyWro(const QTemporaryDir &tmp, const std::string &name) {
  auto c =
      preflab::test::tinySentimentConfig(tmp.filePath(QString::fromStdString("runs/" + name)).toStdString(),
                                         tmp.filePath("cache").toStdString());
  c.trainer = "wro";
  c.maxSteps = 3;
  c.sentiment.maxNewTokens = 10;
  c.wro.promptsPerStep = 3;
  c.wro.samplesPerPrompt = 3;
  c.wro.competitors = 2;
  return c;
}

void compareVectors(const std::vector<double> &got, const std::vector<double> &want, double tol) {
  QCOMPARE(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    QVERIFY2(
        std::abs(got[i] - want[i]) < tol,
        qPrintable(QStringLiteral("[%1] %2 vs %3").arg(i).arg(got[i], 0, 'g', 12).arg(want[i], 0, 'g', 12)));
}

using preflab::test::trainingLines;

} // namespace

class TestWro : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void penaltyAndLeaveOneOutMatchTheReference() {
    const std::vector<double> rewards{0.2, 0.9, 0.4, 0.7, 0.5, 0.5, 0.5, 0.5};
    const std::vector<double> logp{-10, -12, -8, -11, -9, -9, -9, -9};
    const std::vector<double> ref{-11, -11, -11, -11, -9, -9.5, -9, -8};
    const auto penalised = klPenalisedRewards(rewards, logp, ref, 0.1);
    compareVectors(penalised, {0.1, 1.0, 0.1, 0.7, 0.5, 0.45, 0.5, 0.6}, 1e-12);
    const auto adv = rlooAdvantages(penalised, 4);
    compareVectors(adv, {-0.5, 0.7, -0.5, 0.3, -0.0166666667, -0.0833333333, -0.0166666667, 0.1166666667},
                   1e-9);
    // The loss −mean(A · log π) and its gradient −A / N, as PyTorch's autograd gives them.
    double loss = 0;
    for (std::size_t i = 0; i < adv.size(); ++i)
      loss -= adv[i] * logp[i] / double(adv.size());
    QVERIFY(std::abs(loss - 0.3375) < 1e-9);
    QVERIFY(std::abs(-adv[1] / 8.0 - -0.0875) < 1e-12);
    // Each group's advantages sum to zero; equal rewards give none.
    QVERIFY(std::abs(adv[0] + adv[1] + adv[2] + adv[3]) < 1e-12);
    const auto flat = rlooAdvantages({0.3, 0.3, 0.3}, 3);
    compareVectors(flat, {0, 0, 0}, 1e-15);
    QVERIFY(preflab::test::inputErrorOf([] {
              rlooAdvantages({1, 2, 3}, 2);
            }).find("wro.samples_per_prompt") != std::string::npos);
    QVERIFY(preflab::test::inputErrorOf([] {
              rlooAdvantages({1, 2}, 1);
            }).find("wro.samples_per_prompt") != std::string::npos);
  }

  void winRateRewardsOfEachH() {
    const std::vector<double> competitors{1.0, 2.0, 0.0};
    QVERIFY(std::abs(winRateReward(WinRateTransform::Identity, 1.5, competitors) - 0.6058581587) < 1e-9);
    QVERIFY(std::abs(winRateReward(WinRateTransform::Log, 1.5, competitors) - -0.5498557488) < 1e-9);
    // logit of a Bradley–Terry probability is the score gap: h = logit is RLHF's reward.
    QVERIFY(std::abs(winRateReward(WinRateTransform::Logit, 1.5, competitors) - 0.5) < 1e-9);
    // A certain judge is clamped: log and logit stay finite.
    QVERIFY(std::isfinite(winRateReward(WinRateTransform::Log, -800.0, {0.0})));
    QVERIFY(std::isfinite(winRateReward(WinRateTransform::Logit, 800.0, {0.0})));
    QCOMPARE(judgeProbability(0.3, 0.3), 0.5);
    QCOMPARE(winRateTransformNamed("logit"), WinRateTransform::Logit);
    QVERIFY(preflab::test::inputErrorOf([] { winRateTransformNamed("exp"); }).find("wro.h") !=
            std::string::npos);
  }

  void stepStatisticsAndInterval() {
    const auto s = advantageStats({0.1, 0.3, 0.5, 0.4, 0.4, 0.4}, 3);
    QVERIFY(std::abs(s.rewardMean - 0.35) < 1e-12);
    QVERIFY(std::abs(s.usefulGroups - 0.5) < 1e-12); // the second group's rewards are all equal
    QVERIFY(std::abs(s.withinGroupStd - std::sqrt(0.08 / 3.0) / 2.0) < 1e-12);
    const auto m = meanWithInterval({0.0, 1.0, 0.5, 1.0});
    QVERIFY(std::abs(m.mean - 0.625) < 1e-12);
    QVERIFY(std::abs(m.low - 0.2187209288) < 1e-9 && std::abs(m.high - 1.0312790712) < 1e-9);
  }

  void oracleJudgedStepsTrainAndEvaluate() {
    QTemporaryDir tmp;
    const auto c = tinyWro(tmp, "wro");
    const auto s = runTextTraining(c, {}, {});
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    const auto lines = trainingLines(c.outputDir);
    QCOMPARE(lines.size(), std::size_t(3));
    // Policy and reference start equal: no KL at the first step, the objective is the reward.
    QCOMPARE(lines[0]["wro/kl"].get<double>(), 0.0);
    for (const auto &l : lines) {
      for (const char *key : {"wro/reward", "wro/reward_std", "wro/reward_std_within_prompt",
                              "wro/useful_prompts", "wro/useful_steps", "wro/advantage_abs_mean",
                              "wro/objective", "wro/judge_win_probability", "wro/sample_reward", "grad_norm"})
        QVERIFY2(l.contains(key) && std::isfinite(l[key].get<double>()), (l.dump() + " " + key).c_str());
      QVERIFY2(std::abs(l["wro/objective"].get<double>() -
                        (l["wro/reward"].get<double>() - c.beta * l["wro/kl"].get<double>())) < 1e-9,
               l.dump().c_str());
      // h = identity: the reward is the judge's win probability.
      QVERIFY(std::abs(l["wro/reward"].get<double>() - l["wro/judge_win_probability"].get<double>()) < 1e-12);
      const double useful = l["wro/useful_prompts"].get<double>();
      QVERIFY(useful >= 0.0 && useful <= 1.0);
    }
    // The competitors are drawn once per prompt: 3 prompts a step from a pool of 24.
    QCOMPARE(lines[0]["wro/competitor_prompts"].get<double>(), 3.0);
    QVERIFY(lines[2]["wro/competitor_prompts"].get<double>() <= 9.0);
    const auto summary = preflab::test::readJsonFile(c.outputDir + "/eval/summary.json");
    for (const char *key :
         {"eval/win_rate", "eval/h_win_rate_identity", "eval/h_win_rate_log", "eval/h_win_rate_logit"})
      QVERIFY2(summary.contains(key), key);
    const auto ci = summary["eval/h_win_rate_identity_ci95"];
    QVERIFY(ci[0].get<double>() <= summary["eval/h_win_rate_identity"].get<double>() &&
            summary["eval/h_win_rate_identity"].get<double>() <= ci[1].get<double>());
    QVERIFY(std::filesystem::exists(c.outputDir + "/hf/config.json"));
    const auto info = preflab::test::readJsonFile(c.outputDir + "/run_info.json");
    QCOMPARE(info["trainer"].get<std::string>(), std::string("wro"));
  }

  void logitWithTheOracleIsTheScoreGap() {
    QTemporaryDir tmp;
    auto c = tinyWro(tmp, "logit");
    c.wro.h = "logit";
    c.maxSteps = 1;
    QVERIFY(runTextTraining(c, {}, {}).state == RunState::Finished);
    const auto l = trainingLines(c.outputDir).at(0);
    // Rewards are lexicon-score gaps over the rater temperature (0.5): multiples of 2 / competitors.
    const double scaled = l["wro/reward"].get<double>() * 9.0; // (1/9) Σ over 9 answers of (1/2) Σ_k 2·gap
    QVERIFY2(std::abs(scaled - std::round(scaled)) < 1e-6, l.dump().c_str());
  }

  void rewardModelJudgesARun() {
    QTemporaryDir tmp;
    auto rm = preflab::test::tinySentimentConfig(tmp.filePath("runs/rm").toStdString(),
                                                 tmp.filePath("cache").toStdString());
    rm.lossType = "reward";
    const auto trained = runTextTraining(rm, {}, {});
    QVERIFY2(trained.state == RunState::Finished, trained.message.c_str());
    // A reward model is judged by its held-out accuracy, not sampled from as a policy.
    const auto rmSummary = preflab::test::readJsonFile(rm.outputDir + "/eval/summary.json");
    const double acc = rmSummary["eval/reward_model_accuracy"].get<double>();
    QVERIFY(acc >= 0.0 && acc <= 1.0 && !rmSummary.contains("eval/win_rate"));
    QVERIFY(rmSummary["eval/pairs"].get<int>() > 0);
    auto c = tinyWro(tmp, "judged");
    c.wro.judge = "reward_model";
    c.wro.rewardModel = rm.outputDir; // a run folder: its hf/
    c.maxSteps = 2;
    const auto s = runTextTraining(c, {}, {});
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    QCOMPARE(trainingLines(c.outputDir).size(), std::size_t(2));
    const auto info = preflab::test::readJsonFile(c.outputDir + "/run_info.json");
    QVERIFY(info["reward_model"].get<std::string>().find("rm") != std::string::npos);
    // A policy folder is no judge: named by the key.
    auto bad = tinyWro(tmp, "bad-judge");
    bad.wro.judge = "reward_model";
    bad.wro.rewardModel = c.outputDir + "/hf";
    const auto refused = runTextTraining(bad, {}, {});
    QVERIFY(refused.state == RunState::Failed);
    QVERIFY2(refused.message.find("wro.reward_model") != std::string::npos &&
                 refused.message.find("score head") != std::string::npos,
             refused.message.c_str());
  }

  void resumedRunContinuesExactly() {
    QTemporaryDir tmp;
    auto straight = tinyWro(tmp, "straight");
    straight.maxSteps = 4;
    QVERIFY(runTextTraining(straight, {}, {}).state == RunState::Finished);
    auto split = tinyWro(tmp, "split");
    split.maxSteps = 4;
    std::atomic<bool> cancel{false};
    TrainerCallbacks cb;
    cb.onLog = [&](const StepRecord &r) {
      if (r.step == 2)
        cancel = true;
    };
    QVERIFY(runTextTraining(split, {}, cb, &cancel).state == RunState::Cancelled);
    RunOptions resume;
    resume.resume = true;
    const auto second = runTextTraining(split, resume, {});
    QVERIFY2(second.state == RunState::Finished, second.message.c_str());
    const auto a = trainingLines(straight.outputDir), b = trainingLines(split.outputDir);
    QCOMPARE(b.size(), a.size());
    for (std::size_t k = 0; k < a.size(); ++k)
      for (const char *key : {"loss", "wro/reward", "wro/kl", "wro/useful_steps", "wro/sample_reward"})
        QVERIFY2(std::abs(a[k][key].get<double>() - b[k][key].get<double>()) < 1e-6,
                 qPrintable(QStringLiteral("step %1 %2: %3 vs %4")
                                .arg(k + 1)
                                .arg(key)
                                .arg(a[k][key].get<double>(), 0, 'g', 10)
                                .arg(b[k][key].get<double>(), 0, 'g', 10)));
  }

  void configRefusesWhatWroCannotRun() {
    TextTrainConfig c;
    c.trainer = "wro";
    c.trainFile = "pairs.jsonl";
    c.maxSteps = 4;
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("task") != std::string::npos);
    c.trainFile.clear();
    c.task = "sentiment";
    c.wro.samplesPerPrompt = 1;
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("wro.samples_per_prompt") !=
            std::string::npos);
    c.wro.samplesPerPrompt = 4;
    c.wro.h = "square";
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("wro.h") != std::string::npos);
    c.wro.h = "log";
    c.wro.judge = "reward_model";
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("wro.reward_model") != std::string::npos);
    c.wro.judge = "oracle";
    c.sentiment.sampleTemperature = 0.0;
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("sentiment.sample_temperature") !=
            std::string::npos);
    c.sentiment.sampleTemperature = 1.0;
    c.maxSteps = -1;
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("max_steps") != std::string::npos);
    c.maxSteps = 4;
    c.validate(); // valid again
  }
};

PREFLAB_TEST_MAIN(TestWro)

} // namespace preflab_tests
#include "tst_wro.moc"
