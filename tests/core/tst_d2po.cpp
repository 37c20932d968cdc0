// Tests online D2PO: gold selection (least confident first, seeded random), the replay window,
// the rater labeller, and end-to-end rounds on a tiny sentiment task: the gold budget is spent as
// configured, gold-only runs train on gold pairs alone, and a resumed run continues exactly.
#include "core/jobs/text_training.h"
#include "core/labels/label_store.h"
#include "core/labels/store_labeller.h"
#include "core/tasks/rater_labeller.h"
#include "core/tasks/sentiment_oracle.h"
#include "core/train/gold_selection.h"
#include "core/train/run_folder.h"
#include "core/train/text_train_config.h"

#include "tests/core/test_files.h"
#include "tests/core/tiny_runs.h"
#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <cmath>
#include <filesystem>
#include <set>
#include <thread>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

TextTrainConfig tinyD2po(const QTemporaryDir &tmp, const std::string &name) {
  auto c =
      preflab::test::tinySentimentConfig(tmp.filePath(QString::fromStdString("runs/" + name)).toStdString(),
                                         tmp.filePath("cache").toStdString());
  c.trainer = "d2po";
  c.maxSteps = 4;
  c.sentiment.maxNewTokens = 16;
  c.d2po.promptsPerRound = 6;
  c.d2po.goldBudget = 10;
  c.d2po.goldPerRound = 3;
  c.d2po.initialGold = 2;
  c.d2po.discriminatorEpochs = 2;
  c.d2po.discriminatorBatchSize = 4;
  c.d2po.replayPairs = 4;
  c.d2po.discriminatorLearningRate = 1e-3;
  return c;
}

using preflab::test::trainingLines;

} // namespace

class TestD2po : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void confidenceTakesTheSmallestGapsFirst() {
    const std::vector<double> a = {1.0, 0.2, 3.0, -1.0, 0.5}, b = {0.0, 0.25, 0.0, -1.1, 2.0};
    // gaps 1, 0.05, 3, 0.1, 1.5
    QCOMPARE(selectForGold(a, b, 3, GoldSelection::Confidence, 1), (std::vector<std::size_t>{1, 3, 0}));
    QCOMPARE(selectForGold(a, b, 9, GoldSelection::Confidence, 1), (std::vector<std::size_t>{1, 3, 0, 4, 2}));
    QVERIFY(selectForGold(a, b, 0, GoldSelection::Confidence, 1).empty());
    // Equal gaps keep index order.
    QCOMPARE(selectForGold({1, 2, 3}, {0, 1, 2}, 2, GoldSelection::Confidence, 1),
             (std::vector<std::size_t>{0, 1}));
  }

  void randomSelectionIsSeededAndWithoutReplacement() {
    const std::vector<double> a(50, 0.0), b(50, 1.0);
    const auto first = selectForGold(a, b, 10, GoldSelection::Random, 7);
    QCOMPARE(first, selectForGold(a, b, 10, GoldSelection::Random, 7));
    QCOMPARE(std::set<std::size_t>(first.begin(), first.end()).size(), std::size_t(10));
    for (auto i : first)
      QVERIFY(i < 50);
    QVERIFY(first != selectForGold(a, b, 10, GoldSelection::Random, 8));
    QCOMPARE(goldSelectionNamed("random"), GoldSelection::Random);
    QVERIFY(preflab::test::inputErrorOf([] { goldSelectionNamed("entropy"); }).find("d2po.gold_selection") !=
            std::string::npos);
  }

  void replayWindowTakesTheNewestEarlierPairs() {
    auto range = [](std::size_t n, std::size_t fresh, std::size_t replay) {
      const auto r = replayRange(n, fresh, replay);
      return std::make_pair(r.first, r.last);
    };
    QCOMPARE(range(10, 3, 4), std::make_pair(std::size_t(3), std::size_t(10))); // 3 new + 4 before them
    QCOMPARE(range(5, 3, 80), std::make_pair(std::size_t(0), std::size_t(5)));  // fewer earlier than asked
    QCOMPARE(range(10, 3, 0), std::make_pair(std::size_t(7), std::size_t(10))); // no replay
    QCOMPARE(range(2, 5, 1), std::make_pair(std::size_t(0), std::size_t(2)));   // fresh beyond the buffer
  }

  void raterLabellerFollowsTheOracleAndItsSeed() {
    const auto &pos = SentimentOracle::positiveWords();
    const auto &neg = SentimentOracle::negativeWords();
    const std::string good = " " + pos[0] + " and " + pos[1] + " and " + pos[2];
    const std::string bad = " " + neg[0] + " and " + neg[1] + " and " + neg[2];
    RaterLabeller raters(5, 0.5);
    std::vector<LabelRequest> requests;
    for (std::uint64_t s = 0; s < 20; ++s)
      requests.push_back({"the film", s % 2 ? good : bad, s % 2 ? bad : good, s});
    const auto answers = raters.label(requests, nullptr);
    QCOMPARE(answers.size(), requests.size());
    for (std::size_t i = 0; i < answers.size(); ++i)
      QCOMPARE(answers[i], i % 2 ? Preference::A : Preference::B); // a 6-point gap: σ(12) per rater
    // Equal texts: each rater flips a fair coin; the answers depend on the seed alone.
    std::vector<LabelRequest> even;
    for (std::uint64_t s = 0; s < 40; ++s)
      even.push_back({"p", " plain", " plain", s});
    const auto once = raters.label(even, nullptr);
    QCOMPARE(once, raters.label(even, nullptr));
    std::set<Preference> kinds(once.begin(), once.end());
    QVERIFY(kinds.count(Preference::A) && kinds.count(Preference::B));
    QVERIFY(!kinds.count(Preference::Tie)); // five raters never split evenly
  }

  void roundsSpendTheGoldBudget() {
    QTemporaryDir tmp;
    const auto c = tinyD2po(tmp, "d2po");
    const auto s = runTextTraining(c, {}, {});
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    const auto lines = trainingLines(c.outputDir);
    QCOMPARE(lines.size(), std::size_t(4));
    // Policy and reference start equal: the first DPO loss is ln 2.
    QVERIFY2(std::abs(lines[0]["loss"].get<double>() - std::log(2.0)) < 1e-5, lines[0].dump().c_str());
    for (std::size_t k = 0; k < lines.size(); ++k) {
      const auto &l = lines[k];
      QVERIFY2(l["d2po/sampled_pairs"].get<double>() >= 3, l.dump().c_str());
      // 2 initial gold pairs, then 3 a round, until the budget of 10 is spent.
      QCOMPARE(l["d2po/gold_labels"].get<double>(), double(std::min<std::size_t>(10, 2 + 3 * (k + 1))));
      QCOMPARE(l["d2po/gold_round"].get<double>(),
               double(std::min<std::size_t>(3, 10 - std::min<std::size_t>(10, 2 + 3 * k))));
      // With silver, every sampled pair trains the policy unless the discriminator scores it equal.
      QCOMPARE(l["d2po/policy_pairs"].get<double>(),
               l["d2po/gold_round"].get<double>() + l["d2po/silver_pairs"].get<double>());
      QCOMPARE(l["d2po/policy_pairs"].get<double>() + l["d2po/equal_scores"].get<double>(),
               l["d2po/sampled_pairs"].get<double>());
      QVERIFY(l.contains("d2po/discriminator_accuracy") && l.contains("d2po/sample_reward"));
      QVERIFY(l.contains("d2po/silver_gold_agreement"));
    }
    QCOMPARE(lines.back()["d2po/gold_buffer"].get<double>(), 10.0); // five raters: no gold ties
    const auto summary = preflab::test::readJsonFile(c.outputDir + "/eval/summary.json");
    QCOMPARE(summary["eval/gold_labels"].get<double>(), 10.0);
    QVERIFY(summary.contains("eval/win_rate") && summary.contains("ranking/accuracy"));
    QVERIFY(std::filesystem::exists(c.outputDir + "/hf/config.json"));
    QVERIFY(std::filesystem::exists(c.outputDir + "/discriminator/config.json"));
  }

  void goldOnlyTrainsOnGoldPairs() {
    QTemporaryDir tmp;
    auto c = tinyD2po(tmp, "gold-only");
    c.d2po.silver = false;
    c.d2po.goldSelection = "random";
    c.d2po.initialGold = 0;
    c.d2po.goldBudget = 6; // two rounds of 3, then nothing to train on
    const auto s = runTextTraining(c, {}, {});
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    const auto lines = trainingLines(c.outputDir);
    QCOMPARE(lines.size(), std::size_t(4));
    for (std::size_t k = 0; k < lines.size(); ++k) {
      const auto &l = lines[k];
      QCOMPARE(l["d2po/silver_pairs"].get<double>(), 0.0);
      QCOMPARE(l["d2po/policy_pairs"].get<double>(), k < 2 ? 3.0 : 0.0);
      if (k >= 2) {
        QCOMPARE(l["loss"].get<double>(), 0.0);
        QCOMPARE(l["grad_norm"].get<double>(), 0.0);
      }
    }
  }

  void resumedRunContinuesExactly() {
    QTemporaryDir tmp;
    auto straight = tinyD2po(tmp, "straight");
    QVERIFY(runTextTraining(straight, {}, {}).state == RunState::Finished);
    auto split = tinyD2po(tmp, "split");
    std::atomic<bool> cancel{false};
    TrainerCallbacks cb;
    cb.onLog = [&](const StepRecord &r) {
      if (r.step == 2)
        cancel = true;
    };
    const auto first = runTextTraining(split, {}, cb, &cancel);
    QVERIFY2(first.state == RunState::Cancelled, first.message.c_str());
    RunOptions resume;
    resume.resume = true;
    const auto second = runTextTraining(split, resume, {});
    QVERIFY2(second.state == RunState::Finished, second.message.c_str());
    const auto a = trainingLines(straight.outputDir), b = trainingLines(split.outputDir);
    QCOMPARE(b.size(), a.size());
    for (std::size_t k = 0; k < a.size(); ++k)
      for (const char *key :
           {"loss", "d2po/gold_labels", "d2po/discriminator_accuracy", "d2po/discriminator_loss",
            "d2po/silver_gold_agreement", "d2po/sample_reward", "rewards/margins"}) {
        QVERIFY2(a[k].contains(key) == b[k].contains(key), key);
        if (a[k].contains(key))
          QVERIFY2(std::abs(a[k][key].get<double>() - b[k][key].get<double>()) < 1e-6,
                   qPrintable(QStringLiteral("step %1 %2: %3 vs %4")
                                  .arg(k + 1)
                                  .arg(key)
                                  .arg(a[k][key].get<double>(), 0, 'g', 10)
                                  .arg(b[k][key].get<double>(), 0, 'g', 10)));
      }
  }

  // A person as the gold labeller: each round's questions wait in the run's label store until
  // someone decides them (here another thread acting as the person, through its own connection);
  // their answers are what the rounds spend.
  void personGivesGoldThroughALabelStore() {
    QTemporaryDir tmp;
    auto c = tinyD2po(tmp, "person");
    c.d2po.goldLabeller = "person";
    c.d2po.goldAnnotator = "me";
    const std::string store = c.outputDir + "/gold.preflab-labels";
    std::atomic<int> asks{0}, badAsks{0};
    TrainerCallbacks cb; // called on the run's thread: count here, check on this one
    cb.onLabelsWanted = [&](const std::string &path, const std::string &who, std::int64_t asked,
                            std::int64_t open) {
      ++asks;
      if (path != store || who != "me" || open < 1 || open > asked || asked > 3)
        ++badAsks;
    };
    RunSummary s;
    std::atomic<bool> ended{false};
    std::thread run([&] {
      s = runTextTraining(c, {}, cb);
      ended = true;
    });
    std::set<std::int64_t> decided;
    std::int64_t others = 0;
    std::string lastError;
    for (int tick = 0; tick < 2400 && !ended; ++tick) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!std::filesystem::exists(store))
        continue;
      try { // the run may be creating the store's tables at this moment: try again next tick
        LabelStore person(store);
        for (const auto &item : person.items())
          if (!decided.count(item.key)) {
            // Someone else's decision does not answer: only "me" counts here.
            if (others == 0)
              person.decide(item.key, "someone else", LabelChoice::First, false);
            ++others;
            person.decide(item.key, "me", LabelChoice::Second, false);
            decided.insert(item.key);
          }
      } catch (const std::exception &e) {
        lastError = e.what();
      }
    }
    run.join();
    QVERIFY2(!decided.empty(), ("no question answered; last store error: " + lastError).c_str());
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    QVERIFY(asks >= 1);
    QCOMPARE(badAsks.load(), 0);
    const auto lines = trainingLines(c.outputDir);
    QCOMPARE(lines.size(), std::size_t(4));
    // Every answered question was spent: 2 initial gold labels plus the person's.
    QCOMPARE(lines.back()["d2po/gold_labels"].get<double>(), double(2 + decided.size()));
    QVERIFY(decided.size() >= 6 && decided.size() <= 8);
    const auto info = preflab::test::readJsonFile(c.outputDir + "/run_info.json");
    QVERIFY(info["gold_labeller"].get<std::string>().find("gold.preflab-labels") != std::string::npos);
    // The questions are stored with their source; asking one again is answered from the store.
    LabelStore check(store);
    const auto items = check.items();
    StoreLabeller again(store, "me");
    const auto answers = again.label(
        {{items[0].item.prompt, items[0].item.candidates[0], items[0].item.candidates[1], 0}}, nullptr);
    QCOMPARE(int(answers[0]), int(Preference::B));
  }

  void personLabellerStopsWhenCancelled() {
    QTemporaryDir tmp;
    const std::string store = tmp.filePath("g.preflab-labels").toStdString();
    std::atomic<bool> cancel{false};
    std::int64_t asked = 0, open = 0;
    StoreLabeller labeller(
        store, {},
        [&](const std::string &, std::int64_t a, std::int64_t o) {
          asked = a;
          open = o;
          cancel = true;
        },
        0.01);
    const auto answers =
        labeller.label({{"p", "one", "two", 0}, {"p", "same", "same", 0}, {"q", "x", "y", 0}}, &cancel);
    QCOMPARE(answers.size(), std::size_t(3));
    for (auto a : answers)
      QCOMPARE(int(a), int(Preference::Skip));
    QCOMPARE(asked, std::int64_t(2));
    QCOMPARE(open, std::int64_t(2));
    QCOMPARE(LabelStore(store).items().size(), std::size_t(2)); // one text twice is not asked
  }

  void configRefusesWhatD2poCannotRun() {
    TextTrainConfig c;
    c.trainer = "d2po";
    c.trainFile = "pairs.jsonl";
    c.maxSteps = 4;
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("task") != std::string::npos);
    c.trainFile.clear();
    c.task = "sentiment";
    c.lossType = "kto";
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("loss_type") != std::string::npos);
    c.lossType = "dpo";
    c.d2po.initialGold = 500;
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("d2po.initial_gold") !=
            std::string::npos);
    c.d2po.initialGold = 0;
    c.d2po.goldSelection = "entropy";
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("d2po.gold_selection") !=
            std::string::npos);
    c.d2po.goldSelection = "random";
    c.trainer = "ppo";
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("trainer") != std::string::npos);
    c.trainer = "d2po";
    c.validate(); // valid again
  }
};

PREFLAB_TEST_MAIN(TestD2po)

} // namespace preflab_tests
#include "tst_d2po.moc"
