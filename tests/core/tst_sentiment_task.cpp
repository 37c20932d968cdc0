// Tests the embedded sentiment task: evaluation prompts and seeds are held out from the labelled
// pairs by construction, and a tiny end-to-end run honours disable_dropout (step-0 DPO loss ln 2).
#include "core/io/input_error.h"
#include "core/jobs/text_training.h"
#include "core/tasks/sentiment_oracle.h"
#include "core/train/run_folder.h"
#include "core/train/text_train_config.h"

#include "tests/core/tiny_runs.h"
#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <cmath>
#include <set>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

class TestSentimentTask : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void evaluationOpenersAreNeverPairOpeners() {
    using Set = SentimentCorpus::PromptSet;
    const auto &pairs = SentimentCorpus::openers(Set::Pairs);
    const auto &eval = SentimentCorpus::openers(Set::Evaluation);
    QVERIFY(!pairs.empty() && !eval.empty());
    const std::set<std::string> pairSet(pairs.begin(), pairs.end());
    for (const auto &o : eval)
      QVERIFY2(!pairSet.count(o), o.c_str());
    for (const auto &p : SentimentCorpus::prompts(1200, 43, Set::Pairs))
      QVERIFY2(pairSet.count(p), p.c_str());
    const std::set<std::string> evalSet(eval.begin(), eval.end());
    for (const auto &p : SentimentCorpus::prompts(128, 44, Set::Evaluation))
      QVERIFY2(evalSet.count(p), p.c_str());
    // The SFT corpus (the reference) has reviews for both sets.
    std::set<std::string> seen;
    for (const auto &[opener, text] : SentimentCorpus::reviews(2000, 42))
      seen.insert(opener);
    for (const auto &o : eval)
      QVERIFY2(seen.count(o), o.c_str());
  }

  // Seed 126 once made the pairs' sampling seeds cover every evaluation seed.
  void samplingSeedsAreDisjoint() {
    std::set<std::uint64_t> evalSeeds;
    for (std::uint64_t i = 0; i < 128; ++i)
      evalSeeds.insert(SentimentCorpus::evalSampleSeed(i));
    std::set<std::uint64_t> validationSeeds;
    for (std::uint64_t i = 0; i < 128; ++i) {
      validationSeeds.insert(SentimentCorpus::validationSampleSeed(i));
      QVERIFY(!evalSeeds.count(SentimentCorpus::validationSampleSeed(i)));
    }
    for (std::uint64_t runSeed : {0ull, 42ull, 126ull, 1ull << 40, 1ull << 62, ~0ull})
      for (std::uint64_t i = 0; i < 2400; ++i) {
        QVERIFY(!evalSeeds.count(SentimentCorpus::pairSampleSeed(runSeed, i)));
        QVERIFY(!validationSeeds.count(SentimentCorpus::pairSampleSeed(runSeed, i)));
      }
  }

  // eval_split: validation samples the pairs' openers with validation seeds; test the others.
  void validationSplitEvaluatesOnThePairsOpeners() {
    QTemporaryDir tmp;
    std::set<std::string> pairOpeners(SentimentCorpus::openers(SentimentCorpus::PromptSet::Pairs).begin(),
                                      SentimentCorpus::openers(SentimentCorpus::PromptSet::Pairs).end());
    for (const char *split : {"validation", "test"}) {
      auto c = preflab::test::tinySentimentConfig(tmp.filePath(QString("runs/") + split).toStdString(),
                                                  tmp.filePath("runs/.cache").toStdString());
      c.maxSteps = 1;
      c.sentiment.evalPrompts = 12;
      c.sentiment.evalSplit = split;
      c.validate();
      const auto s = runTextTraining(c, {}, {});
      QVERIFY2(s.state == RunState::Finished, s.message.c_str());
      const auto samples = readMetricsFile(c.outputDir + "/samples/eval_samples.jsonl");
      QCOMPARE(samples.size(), std::size_t(12));
      const bool validation = std::string(split) == "validation";
      for (const auto &line : samples) {
        const auto prompt = line["prompt"].get<std::string>();
        QVERIFY2(pairOpeners.count(prompt) == (validation ? 1u : 0u), prompt.c_str());
        const auto seed = line["seed"].get<std::uint64_t>();
        QCOMPARE(bool(seed & SentimentCorpus::kValidationSeedBit), validation);
        QCOMPARE(bool(seed & SentimentCorpus::kEvalSeedBit), !validation);
      }
    }
    auto c = TextTrainConfig{};
    c.sentiment.evalSplit = "dev";
    try {
      c.validate();
      QFAIL("unknown eval_split accepted");
    } catch (const InputError &e) {
      QCOMPARE(e.key(), std::string("sentiment.eval_split"));
    }
  }

  // The task's policy comes from its SFT model, which carries the config's dropout: with
  // disable_dropout it must train without it, so the first DPO loss is exactly ln 2.
  void disableDropoutAppliesToTheTaskPolicy() {
    QTemporaryDir tmp;
    const auto out = tmp.filePath("runs/dpo").toStdString();
    auto c = preflab::test::tinySentimentConfig(out, tmp.filePath("runs/.cache").toStdString());
    c.learningRate = TextTrainConfig{}.learningRate;
    c.maxSteps = 1;
    c.model.dropout = 0.3;
    c.disableDropout = true;
    const auto s = runTextTraining(c, {}, {});
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    std::vector<nlohmann::json> lines;
    for (auto &line : readMetricsFile(c.outputDir + "/metrics.jsonl"))
      if (line.contains("loss"))
        lines.push_back(line);
    QCOMPARE(lines.size(), std::size_t(1));
    QVERIFY2(std::abs(lines[0]["loss"].get<double>() - std::log(2.0)) < 1e-5,
             qPrintable(QString::number(lines[0]["loss"].get<double>(), 'g', 10)));
  }
};

PREFLAB_TEST_MAIN(TestSentimentTask)

} // namespace preflab_tests
#include "tst_sentiment_task.moc"
